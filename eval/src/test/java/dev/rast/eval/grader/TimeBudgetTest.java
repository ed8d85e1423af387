package dev.rast.eval.grader;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.text.chat.PromptFormat;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The per-comparison budget: a runaway comparison is answered "wrong" at the deadline and the worker stops. */
class TimeBudgetTest {
    @Test
    void runawayComparisonIsAbandonedAndStops() throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        long t0 = System.nanoTime();
        TimeBudget.Outcome o = TimeBudget.run(() -> {
            try {
                while (true) GradingInterrupted.check();
            } finally {
                stopped.countDown();
            }
        }, Duration.ofMillis(100));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertFalse(o.equal());
        assertTrue(o.timedOut());
        assertTrue(ms < 2000, "answered at the deadline, took " + ms + " ms");
        assertTrue(stopped.await(2, TimeUnit.SECONDS), "the abandoned worker noticed the interrupt");
    }

    /** A long tuple of symbolic elements: far more work than 1 ms, so the grade times out and counts as wrong. */
    @Test
    void slowGradeCountsAsWrong() {
        String pred = "(" + "x^2+1,".repeat(3000) + "x^2+1)";
        Grader.Result r = Grader.grade("\\boxed{" + pred + "}", pred.replace("+1", "+1.0"), false, PromptFormat.QWEN_BOXED,
                Duration.ofMillis(1));
        assertTrue(r.timedOut());
        assertFalse(r.correct());
    }

    @Test
    void quickComparisonIsNotAffected() {
        Grader.Result r = Grader.grade("\\boxed{\\frac{1}{2}}", "0.5", false, PromptFormat.QWEN_BOXED);
        assertTrue(r.correct());
        assertFalse(r.timedOut());
    }
}
