package dev.rast.eval.grader;

import dev.rast.eval.expr.Equivalence;
import dev.rast.text.Py;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SimpleRL's {@code math_equal(prediction, reference)} (GRADER_NOTES §3), in its order: exact text, choice
 * letter, numbers (returning directly), brackets, tuples and intervals (bracket type ignored), matrices,
 * equations, then the symbolic step. Inputs are already normalized; nothing here normalizes again.
 * Without a time limit: {@link TimeBudget} runs it under SimpleRL's 3 s per comparison.
 * {@link #decide} also names the rule that decided, for people auditing a grade.
 */
public final class MathEqual {
    private MathEqual() {}

    /** The verdict and the rule that gave it: one of the names below, "symbolic: ...", or "right side of ...: ...". */
    public record Decision(boolean equal, String rule) {}

    public static final String NO_ANSWER = "no answer", EXACT_STRING = "exact string", CHOICE = "choice letter",
            NUMERIC = "numeric within tolerance", NUMBERS_DIFFER = "numbers differ", EMPTY = "empty prediction",
            BRACKETS = "same without brackets", TUPLE = "tuple element by element", MATRIX = "matrix cell by cell",
            EQUATION = "equation sides", NO_RULE = "no rule matched", TIMEOUT = "timeout";

    public static boolean equal(String prediction, String reference) { return decide(prediction, reference).equal(); }

    private static final Set<String> CHOICES = Set.of("A", "B", "C", "D", "E");
    private static final Pattern TUPLE_PATTERN = Rx.compile("(\\(|\\[).+(\\)|\\])");
    private static final Pattern BRACE_GROUP_WITH_COMMA = Rx.compile("\\{.*,.*\\}");
    private static final String PM_BEGIN = "\\begin{pmatrix}", BM_BEGIN = "\\begin{bmatrix}";
    private static final String PM_END = "\\end{pmatrix}", BM_END = "\\end{bmatrix}";

    public static Decision decide(String prediction, String reference) {
        GradingInterrupted.check();
        if (prediction == null || reference == null) return new Decision(false, NO_ANSWER);
        if (lower(Py.strip(prediction)).equals(lower(Py.strip(reference)))) return new Decision(true, EXACT_STRING);
        if (CHOICES.contains(reference) && ChoiceCleaner.clean(prediction).equals(reference)) return new Decision(true, CHOICE);

        // 1. numbers: both sides numeric -> decided here, pred against gold/100, gold, gold*100
        Double p = parseDigits(prediction), r = parseDigits(reference);
        if (p != null && r != null) {
            for (double g : new double[] {r / 100, r, r * 100}) if (isClose(p, g)) return new Decision(true, NUMERIC);
            return new Decision(false, NUMBERS_DIFFER);
        }
        if (prediction.isEmpty()) return new Decision(false, EMPTY);

        String ref = Py.strip(reference), pred = Py.strip(prediction);
        if (pred.contains("pmatrix") && !ref.contains("pmatrix")) ref = toPmatrix(ref);

        // 2. brackets: strip outer brackets when the pair types allow, then drop every { } ( )
        String predStr = pred, refStr = ref;
        if ((pred.startsWith("[") && pred.endsWith("]") && !ref.startsWith("("))
                || (pred.startsWith("(") && pred.endsWith(")") && !ref.startsWith("["))) {
            predStr = Py.strip(predStr, "[]()");
            refStr = Py.strip(refStr, "[]()");
        }
        for (String ch : new String[] {"{", "}", "(", ")"}) {
            refStr = refStr.replace(ch, "");
            predStr = predStr.replace(ch, "");
        }
        if (lower(predStr).equals(lower(refStr))) return new Decision(true, BRACKETS);

        // 3. tuples and intervals, element by element; the bracket characters themselves are not compared
        if (Rx.matcher(TUPLE_PATTERN, pred).lookingAt() && Rx.matcher(TUPLE_PATTERN, ref).lookingAt()) {
            List<String> pp = Py.split(pred.substring(1, pred.length() - 1), ",");
            List<String> rp = Py.split(ref.substring(1, ref.length() - 1), ",");
            if (pp.size() == rp.size() && allEqual(pp, rp)) return new Decision(true, TUPLE);
        }

        // 4. matrices, cell by cell
        if (isMatrix(pred) && isMatrix(ref) && matricesEqual(pred, ref)) return new Decision(true, MATRIX);

        // 5. equations
        int pe = Py.count(pred, "="), re = Py.count(ref, "=");
        if (pe == 1 && re == 1) {
            List<String> ps = Py.split(pred, "="), rs = Py.split(ref, "=");
            String pd = Py.strip(ps.get(0)) + " - (" + Py.strip(ps.get(1)) + ")";
            String rd = Py.strip(rs.get(0)) + " - (" + Py.strip(rs.get(1)) + ")";
            if (SymbolicEqual.equal(pd, rd) || SymbolicEqual.equal("-(" + pd + ")", rd)) return new Decision(true, EQUATION);
        } else if (pe == 1 && Py.strip(Py.split(pred, "=").get(0)).length() <= 2 && re == 0) {
            Decision d = decide(Py.split(pred, "=").get(1), ref);
            if (d.equal()) return new Decision(true, "right side of the answer's equation: " + d.rule());
        } else if (re == 1 && Py.strip(Py.split(ref, "=").get(0)).length() <= 2 && pe == 0) {
            Decision d = decide(pred, Py.split(ref, "=").get(1));
            if (d.equal()) return new Decision(true, "right side of the gold's equation: " + d.rule());
        }

        // 6. symbolic
        Equivalence.Rule rule = SymbolicEqual.decide(pred, ref);
        return rule != null ? new Decision(true, "symbolic: " + rule.label()) : new Decision(false, NO_RULE);
    }

    private static String lower(String s) { return s.toLowerCase(Locale.ROOT); }

    private static boolean allEqual(List<String> a, List<String> b) {
        for (int i = 0; i < a.size(); i++) if (!equal(a.get(i), b.get(i))) return false;
        return true;
    }

    /** SimpleRL's {@code parse_digits}: Python float() after deleting commas, or a trailing (\)% meaning /100. */
    static Double parseDigits(String s) {
        String num = s.replace(",", "");
        Double v = PyNumbers.parseFloat(num);
        if (v != null) return v;
        if (num.endsWith("%")) {
            num = num.substring(0, num.length() - 1);
            if (num.endsWith("\\")) num = num.substring(0, num.length() - 1);
            Double w = PyNumbers.parseFloat(num);
            if (w != null) return w / 100;
        }
        return null;
    }

    /** Python's math.isclose with rel_tol=1e-4 and no absolute tolerance: a gold of 0 needs an exact 0. */
    static boolean isClose(double a, double b) { return Equivalence.isClose(a, b); }

    /** {@code str_to_pmatrix}: every {@code {a,b,...}} group of the gold becomes a one-row pmatrix. */
    static String toPmatrix(String s) {
        Matcher m = Rx.matcher(BRACE_GROUP_WITH_COMMA, Py.strip(s));
        List<String> out = new ArrayList<>();
        while (m.find()) {
            String inner = Py.strip(m.group(), "{}");
            out.add(PM_BEGIN + inner.replace(",", "\\") + PM_END);
        }
        return String.join(", ", out);
    }

    private static boolean isMatrix(String s) {
        return (s.startsWith(PM_BEGIN) || s.startsWith(BM_BEGIN)) && (s.endsWith(PM_END) || s.endsWith(BM_END));
    }

    private static boolean matricesEqual(String pred, String ref) {
        List<String> pl = rows(pred), rl = rows(ref);
        if (pl.size() != rl.size()) return false;
        for (int i = 0; i < pl.size(); i++) {
            List<String> pc = Py.split(pl.get(i), "&"), rc = Py.split(rl.get(i), "&");
            if (pc.size() != rc.size() || !allEqual(pc, rc)) return false;
        }
        return true;
    }

    /** The rows between the 15-character header and 13-character footer, split on {@code \\}, blank ones dropped. */
    private static List<String> rows(String m) {
        List<String> out = new ArrayList<>();
        for (String line : Py.split(m.substring(PM_BEGIN.length(), m.length() - PM_END.length()), "\\\\")) {
            String t = Py.strip(line);
            if (!t.isEmpty()) out.add(t);
        }
        return out;
    }
}
