package dev.rast.eval.grader;

import dev.rast.text.Py;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The two {@code choice_answer_clean} functions of SimpleRL: the grader's ({@link #clean}, used by {@link MathEqual}
 * when the gold is a choice letter) and the parser's ({@link #cleanCompletion}, which the evaluation applies to a
 * whole completion when the gold is a choice letter but the prediction is not), plus the evaluation's rule that
 * reduces a prediction to its letters A-E when the gold consists of such letters.
 */
final class ChoiceCleaner {
    private ChoiceCleaner() {}

    private static final Pattern LETTER = Rx.compile("\\b(A|B|C|D|E)\\b");

    static String clean(String pred) {
        String p = Py.strip(pred, "\n");
        p = Py.rstrip(p, ".");
        p = Py.rstrip(p, "/");
        p = Py.strip(p, " ");
        p = Py.lstrip(p, ":");
        Matcher m = Rx.matcher(LETTER, p.toUpperCase(Locale.ROOT));
        String last = null;
        while (m.find()) last = m.group(1);
        if (last == null) last = Py.strip(Py.strip(p), ".");
        return Py.rstrip(Py.rstrip(last, "."), "/");
    }

    private static final Pattern TRIGGER = Rx.compile("choice is|answer is");

    /** The parser's variant: a few-shot completion is cut at its first blank line; "answer is X" picks the first letter. */
    static String cleanCompletion(String completion) {
        String p = Py.strip(completion, "\n");
        if (Py.count(p, "choice is") > 1 || Py.count(p, "answer is") > 1) p = Py.split(p, "\n\n").get(0);
        String[] parts = TRIGGER.split(p, -1);
        boolean answerFlag = parts.length > 1;
        if (answerFlag) p = parts[parts.length - 1];
        p = Py.lstrip(Py.strip(Py.rstrip(Py.rstrip(Py.strip(p, "\n"), "."), "/"), " "), ":");
        Matcher m = Rx.matcher(LETTER, p.toUpperCase(Locale.ROOT));
        String first = null, last = null;
        while (m.find()) { if (first == null) first = m.group(1); last = m.group(1); }
        String pick = first == null ? Py.strip(Py.strip(p), ".") : answerFlag ? first : last;
        return Py.rstrip(Py.rstrip(pick, "."), "/");
    }

    /** A string of letters A-E only; true for "" as in SimpleRL's is_multi_choice. */
    static boolean isMultiChoice(String s) {
        for (int i = 0; i < s.length(); i++) if ("ABCDE".indexOf(s.charAt(i)) < 0) return false;
        return true;
    }

    /**
     * The evaluation's post-processing of a prediction for a multiple-choice gold: a single-letter gold re-reads
     * the letter from the completion; a gold of letters (or an empty gold, a quirk that hits math500 row 97 whose
     * gold {@code \text{east}} normalizes to "") keeps only the prediction's letters A-E.
     */
    static String forChoiceGold(String pred, String completion, String gold) {
        if (isSingleChoice(gold) && !isSingleChoice(pred)) return cleanCompletion(completion);
        if (isMultiChoice(gold) && !isMultiChoice(pred)) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < pred.length(); i++) if ("ABCDE".indexOf(pred.charAt(i)) >= 0) sb.append(pred.charAt(i));
            return sb.toString();
        }
        return pred;
    }

    private static boolean isSingleChoice(String s) { return s.length() == 1 && "ABCDE".contains(s); }
}
