package dev.rast.eval.grader;

import dev.rast.text.chat.PromptFormat;
import java.time.Duration;

/**
 * Grades one completion against a gold answer the way SimpleRL's evaluation does (GRADER_NOTES §0): stop-word
 * truncation for the prompt format, answer extraction, a second normalization pass, then {@link MathEqual} under
 * a 3 s budget (a comparison that runs out of time is wrong).
 *
 * <pre>{@code
 * Dataset ds = Datasets.load("math500");
 * Problem p = ds.problem(0);
 * Grader.Result r = Grader.grade(completion, p.gold(), ds.skipUnit(), PromptFormat.QWEN_BOXED);
 * }</pre>
 */
public final class Grader {
    private Grader() {}

    /**
     * The normalized prediction (null for an empty completion, SimpleRL's None), the verdict, and the rule that
     * decided it ({@link MathEqual.Decision#rule}, or {@link MathEqual#TIMEOUT}).
     */
    public record Result(String pred, boolean correct, boolean timedOut, String rule) {}

    /**
     * @param completion the model's raw output text (prompt not included)
     * @param gold the gold answer as {@link dev.rast.eval.data.Problem#gold()} gives it: already normalized
     * @param skipUnit keep unit words ({@link dev.rast.eval.data.Dataset#skipUnit()}: true for minerva_math)
     */
    public static Result grade(String completion, String gold, boolean skipUnit, PromptFormat format) {
        return grade(completion, gold, skipUnit, format, TimeBudget.DEFAULT);
    }

    public static Result grade(String completion, String gold, boolean skipUnit, PromptFormat format, Duration budget) {
        String pred = predict(completion, skipUnit, format);
        if (pred == null) return new Result(null, false, false, MathEqual.NO_ANSWER);
        String p = ChoiceCleaner.forChoiceGold(pred, format.truncate(completion), gold);
        MathEqual.Decision[] decision = new MathEqual.Decision[1];
        TimeBudget.Outcome o = TimeBudget.run(() -> (decision[0] = MathEqual.decide(p, gold)).equal(), budget);
        if (o.timedOut()) return new Result(p, false, true, MathEqual.TIMEOUT);
        return new Result(p, o.equal(), false, decision[0].rule());
    }

    /**
     * The prediction SimpleRL compares: the truncated completion's extracted answer, normalized a second time
     * (run_execute normalizes what extract_answer already normalized). Null for an empty or "error" completion.
     */
    public static String predict(String completion, boolean skipUnit, PromptFormat format) {
        String code = format.truncate(completion);
        if (code.isEmpty() || code.equals("error")) return null;
        return AnswerNormalizer.strip(AnswerExtractor.extract(code, skipUnit), skipUnit);
    }
}
