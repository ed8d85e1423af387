package dev.rast.eval.grader;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * Runs one comparison with a wall-clock budget, as SimpleRL runs each {@code math_equal} in a worker process with
 * a 3 s timeout that counts as wrong. Java cannot kill a thread: on timeout the worker is interrupted and the
 * grader's loops and regular expressions (through {@link InterruptibleText}) notice and stop; the caller gets its
 * answer at the deadline either way. Workers are daemon threads so an abandoned one never keeps the JVM alive.
 */
public final class TimeBudget {
    /** SimpleRL's per-comparison timeout. */
    public static final Duration DEFAULT = Duration.ofSeconds(3);

    private static final ExecutorService WORKERS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "rast-grader");
        t.setDaemon(true);
        return t;
    });

    private TimeBudget() {}

    /** The comparison's outcome; {@code timedOut} means it was abandoned and counts as not equal. */
    public record Outcome(boolean equal, boolean timedOut) {}

    public static Outcome run(BooleanSupplier comparison, Duration budget) {
        Future<Boolean> f = WORKERS.submit(comparison::getAsBoolean);
        try {
            return new Outcome(f.get(budget.toNanos(), TimeUnit.NANOSECONDS), false);
        } catch (TimeoutException e) {
            f.cancel(true);
            return new Outcome(false, true);
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            return new Outcome(false, true);
        } catch (ExecutionException e) {
            // SimpleRL's worker failing is a wrong answer too; our comparison only fails on interruption
            if (e.getCause() instanceof GradingInterrupted) return new Outcome(false, true);
            if (e.getCause() instanceof RuntimeException re) throw re;
            if (e.getCause() instanceof Error err) throw err;
            throw new IllegalStateException(e.getCause());
        }
    }
}
