package dev.rast.eval.grader;

import dev.rast.text.Py;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SimpleRL's {@code extract_answer} for the six math data sets (GRADER_NOTES §1): the Minerva few-shot form,
 * the last {@code \boxed}, "he answer is", "final answer is", "答案是", else the last number; then light cleanup
 * and one {@link AnswerNormalizer#strip} pass.
 */
public final class AnswerExtractor {
    private AnswerExtractor() {}

    /** "答案是" ("the answer is"), for Chinese few-shot prompts. */
    private static final String ANSWER_ZH = "\u7b54\u6848\u662f";
    private static final Pattern NUMBER = Rx.compile("-?\\d*\\.?\\d+");
    private static final Pattern NEWLINE_AND_SPACE = Rx.compile("\\n\\s*");

    /** The normalized answer of a completion (or solution text), with units kept when {@code skipUnit}. */
    public static String extract(String text, boolean skipUnit) {
        String s = text.replace("\u043a\u0438", "");
        String pred;
        if (s.contains("final answer is $") && s.contains("$. I hope")) {
            String after = s.substring(s.indexOf("final answer is $") + "final answer is $".length());
            int end = after.indexOf("$. I hope");
            pred = Py.strip(end >= 0 ? after.substring(0, end) : after);
        } else if (s.contains("boxed")) {
            String ans = s.substring(s.lastIndexOf("boxed") + "boxed".length());
            if (ans.isEmpty()) return "";
            pred = ans.charAt(0) == '{' ? braced(ans) : Py.strip(ans.split("\\$", -1)[0]);
        } else if (s.contains("he answer is")) {
            pred = Py.strip(s.substring(s.lastIndexOf("he answer is") + "he answer is".length()));
        } else if (s.contains("final answer is")) {
            pred = Py.strip(s.substring(s.lastIndexOf("final answer is") + "final answer is".length()));
        } else if (s.contains(ANSWER_ZH)) {
            List<String> parts = Py.split(s, ANSWER_ZH);
            pred = Py.strip(Py.split(Py.strip(parts.get(1)), "\n\n").get(0));
        } else {
            Matcher m = Rx.matcher(NUMBER, s.replace(",", ""));
            String last = "";
            while (m.find()) last = m.group();
            pred = last;
        }
        return finish(pred, skipUnit);
    }

    /**
     * The extractor's last steps on the answer text it found: join lines, drop one leading ":", one trailing "."
     * and one trailing "/", then one {@link AnswerNormalizer#strip} pass. Also what a gold answer given as text
     * (rather than a solution to extract from) goes through in place of extraction.
     */
    public static String finish(String answer, boolean skipUnit) {
        String pred = Rx.sub(NEWLINE_AND_SPACE, answer, "");
        if (!pred.isEmpty() && pred.charAt(0) == ':') pred = pred.substring(1);
        if (!pred.isEmpty() && pred.charAt(pred.length() - 1) == '.') pred = pred.substring(0, pred.length() - 1);
        if (!pred.isEmpty() && pred.charAt(pred.length() - 1) == '/') pred = pred.substring(0, pred.length() - 1);
        return AnswerNormalizer.strip(pred, skipUnit);
    }

    /**
     * The content of the brace group that {@code ans} starts with, by plain depth counting: escaped braces
     * ({@code \{}) count like any other, and an unbalanced group runs to the end of the text.
     */
    static String braced(String ans) {
        int depth = 1;
        StringBuilder a = new StringBuilder();
        for (int i = 1; i < ans.length(); i++) {
            char c = ans.charAt(i);
            if (c == '{') depth++;
            else if (c == '}' && --depth == 0) break;
            a.append(c);
        }
        return a.toString();
    }
}
