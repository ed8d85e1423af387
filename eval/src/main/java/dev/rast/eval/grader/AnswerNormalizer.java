package dev.rast.eval.grader;

import dev.rast.text.Py;
import java.util.List;
import java.util.regex.Pattern;

/**
 * SimpleRL's {@code strip_string}: the answer normalization, step by step in its order (GRADER_NOTES §2). The
 * order matters and some steps look wrong on purpose: they are what the reference grader does, and matching its
 * scores means matching its quirks (e.g. every "and" is deleted, {@code a} and {@code t} count as unit words).
 * Not idempotent: callers apply it as many times as SimpleRL does (see {@link GoldNormalization}).
 */
public final class AnswerNormalizer {
    private AnswerNormalizer() {}

    private static final Pattern ARRAY_BEGIN = Rx.compile("\\\\begin\\{array\\}\\{.*?\\}");
    private static final Pattern ARRAY_END = Rx.compile("\\\\end\\{array\\}");
    private static final Pattern TRAILING_TEXT = Rx.compile("\\\\text\\{.*?\\}$");
    private static final Pattern TEXT = Rx.compile("\\\\text\\{(.*?)\\}");
    private static final Pattern MBOX = Rx.compile("\\\\mbox\\{.*?\\}");
    private static final Pattern ZEROS_BEFORE_NON_DIGIT = Rx.compile("(\\d+)\\.0*([^\\d])");
    private static final Pattern ZEROS_AT_END = Rx.compile("(\\d+)\\.0*$");
    private static final Pattern SQRT_WORD = Rx.compile("\\\\sqrt(\\w+)");
    private static final Pattern CANONICAL_INT = Pattern.compile("-?[1-9][0-9]*|0");
    private static final List<String> VARIABLE_PREFIXES =
            List.of("x=", "y=", "z=", "x\\in", "y\\in", "z\\in", "x\\to", "y\\to", "z\\to");

    /** One pass of {@code strip_string(s, skip_unit)}. */
    public static String strip(String input, boolean skipUnit) {
        String s = Py.strip(input);
        s = s.replace("\n", "");
        s = Py.rstrip(s, ".");
        s = s.replace("\\!", "");
        // 2. matrices: array and bmatrix become pmatrix
        s = Rx.subLiteral(ARRAY_BEGIN, s, "\\begin{pmatrix}");
        s = Rx.subLiteral(ARRAY_END, s, "\\end{pmatrix}");
        s = s.replace("bmatrix", "pmatrix");
        // 3. fraction variants and relations
        s = s.replace("tfrac", "frac").replace("dfrac", "frac");
        s = s.replace("\\neq", "\\ne").replace("\\leq", "\\le").replace("\\geq", "\\ge");
        // 4. sizing and escaped braces
        s = s.replace("\\left", "").replace("\\right", "");
        s = s.replace("\\{", "{").replace("\\}", "}");
        // 5. trailing \text{...}: from the first \text{ that reaches the end; kept only if something is left
        String cut = Py.strip(Rx.sub(TRAILING_TEXT, s, ""));
        if (!cut.isEmpty() && !cut.equals(s)) s = cut;
        // 6. unit words, the whole list twice
        if (!skipUnit) {
            for (int pass = 0; pass < 2; pass++) {
                for (UnitWords.Unit unit : UnitWords.UNITS) {
                    if (!unit.mayMatch(s)) continue;
                    String t = Rx.sub(unit.pattern(), s, "$1$2");
                    if (!t.isEmpty()) s = t;
                }
            }
        }
        // 7. degrees, dollars, inline-math delimiters
        s = s.replace("^{\\circ}", "").replace("^\\circ", "");
        s = s.replace("\\$", "").replace("$", "");
        s = s.replace("\\(", "").replace("\\)", "");
        // 8. number words
        s = WordNumbers.convert(s);
        // 9. \text{X} -> X
        s = Rx.sub(TEXT, s, "$1");
        // 10. variable prefixes, empty set, the whole real line
        for (String key : VARIABLE_PREFIXES) s = s.replace(key, "");
        s = s.replace("\\emptyset", "{}");
        s = s.replace("(-\\infty,\\infty)", "\\mathbb{R}");
        // 11. percent signs
        s = s.replace("\\%", "").replace("%", "");
        // 12. leading zero for bare decimals after a space or brace
        s = s.replace(" .", " 0.").replace("{.", "{0.");
        // 13. SimpleRL's outer-bracket rule tests isalnum() on a string that contains the brackets: never fires.
        // 14. infinity
        s = s.replace("infinity", "\\infty");
        if (!s.contains("\\infty")) s = s.replace("inf", "\\infty");
        s = s.replace("+\\inity", "\\infty");
        // 15. every "and" (even inside words), \mathbf, \mbox{...}
        s = s.replace("and", "");
        s = s.replace("\\mathbf", "");
        s = Rx.sub(MBOX, s, "");
        // 16. SimpleRL's quote removal discards its result: no effect.
        // 17. j as the imaginary unit when there is no i
        if (s.contains("j") && !s.contains("i")) s = s.replace("j", "i");
        // 18. trailing zeros of decimals: 27.0 -> 27, 3.0x -> 3x
        s = Rx.sub(ZEROS_BEFORE_NON_DIGIT, s, "$1$2");
        s = Rx.sub(ZEROS_AT_END, s, "$1");
        // 19.
        if (s.isEmpty()) return s;
        if (s.charAt(0) == '.') s = "0" + s;
        // 20. "k = 3" -> " 3" when the left side has at most 2 characters
        List<String> eq = Py.split(s, "=");
        if (eq.size() == 2 && eq.get(0).length() <= 2) s = eq.get(1);
        // 21-24.
        s = Rx.sub(SQRT_WORD, s, "\\\\sqrt{$1}");
        s = s.replace(" ", "");
        s = fixFracs(s);
        s = fixSlash(s);
        return s;
    }

    /** {@code \frac12} → {@code \frac{1}{2}}, {@code \frac1{72}} → {@code \frac{1}{72}}; gives up on a short tail. */
    static String fixFracs(String s) {
        List<String> parts = Py.split(s, "\\frac");
        StringBuilder out = new StringBuilder(parts.get(0));
        for (int i = 1; i < parts.size(); i++) {
            String p = parts.get(i);
            out.append("\\frac");
            if (!p.isEmpty() && p.charAt(0) == '{') {
                out.append(p);
            } else {
                if (p.length() < 2) return s;
                char a = p.charAt(0), b = p.charAt(1);
                if (b != '{') out.append('{').append(a).append("}{").append(b).append('}').append(p, 2, p.length());
                else out.append('{').append(a).append('}').append(b).append(p, 2, p.length());
            }
        }
        return out.toString();
    }

    /** {@code a/b} with canonical integers (or sides containing "sqrt") → {@code \frac{a}{b}}. */
    static String fixSlash(String s) {
        List<String> parts = Py.split(s, "/");
        if (parts.size() != 2) return s;
        String a = parts.get(0), b = parts.get(1);
        boolean aOk = a.contains("sqrt") || CANONICAL_INT.matcher(a).matches();
        boolean bOk = b.contains("sqrt") || CANONICAL_INT.matcher(b).matches();
        if (!aOk || !bOk) return s;
        return "\\frac{" + a + "}{" + b + "}";
    }
}
