package dev.rast.eval.expr;

import dev.rast.eval.expr.Expr.Bin;
import dev.rast.eval.expr.Expr.Call;
import dev.rast.eval.expr.Expr.Matrix;
import dev.rast.eval.expr.Expr.Op;
import dev.rast.eval.expr.Expr.Rel;
import dev.rast.eval.grader.GradingInterrupted;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * The tests of SimpleRL's {@code symbolic_equal} on two parsed answers, in its order, as sympy 1.12 answers them:
 * <ol>
 *   <li>{@code str(a) == str(b) or a == b}: the same structure, or the same text as sympy prints it
 *   ({@link Printer#sorted}: a latex2sympy π and parse_latex's symbol pi both print "pi") ({@link #STRUCTURE});</li>
 *   <li>{@code a.equals(b) or simplify(a - b) == 0}: exactly equal, decided numerically in 50 digits
 *   ({@link #EXACT});</li>
 *   <li>{@code abs(a.lhs - a.rhs).equals(abs(b.lhs - b.rhs))}: two relations of any kind whose sides differ by the
 *   same amount up to sign, so {@code x < 3} equals {@code x > 3} ({@link #RELATION});</li>
 *   <li>{@code numeric_equal(float(N(a)), float(N(b)))}: two numbers without free symbols within a relative 1e-4
 *   ({@link #NUMERIC});</li>
 *   <li>matrices of one shape equal after rounding every entry to 3 decimals ({@link #MATRIX}).</li>
 * </ol>
 * Exactness is the point of step 2: with a free symbol there is no tolerance, so {@code 100000 + x} is not
 * {@code 100000} and {@code 3.83e35 + x} is not {@code 3.83e35}, while a constant needs only step 4's 1e-4.
 */
public final class Equivalence {
    private Equivalence() {}

    /** Which test found two answers equal; null from {@link #decide} when none did. */
    public enum Rule {
        STRUCTURE("same expression"), EXACT("exactly equal"), RELATION("relations with equal sides"),
        NUMERIC("numeric within tolerance"), MATRIX("matrix entries");

        private final String label;

        Rule(String label) { this.label = label; }

        /** How {@code rast grade --explain} names it. */
        public String label() { return label; }
    }

    public static final double REL_TOL = 1e-4;
    /** Exact means equal to 25 of the 50 digits, relative to the largest value met while computing either side. */
    static final double EXACT_TOL = 1e-25;
    private static final int POINTS = 6;

    public static boolean equivalent(Expr a, Expr b) { return decide(a, b) != null; }

    public static Rule decide(Expr a, Expr b) {
        if (a.equals(b) || Printer.sorted(a).equals(Printer.sorted(b))) return Rule.STRUCTURE;
        if (isExpression(a) && isExpression(b) && exactlyEqual(a, b)) return Rule.EXACT;
        if (a instanceof Rel x && b instanceof Rel y && exactlyEqual(absDiff(x), absDiff(y))) return Rule.RELATION;
        if (isExpression(a) && isExpression(b) && numericallyClose(a, b)) return Rule.NUMERIC;
        if (a instanceof Matrix x && b instanceof Matrix y && (entriesEqual(x, y) || roundedEqual(x, y))) return Rule.MATRIX;
        return null;
    }

    /** Things sympy can subtract and simplify: not relations, booleans, containers or matrices. */
    private static boolean isExpression(Expr e) {
        return !(e instanceof Rel || e instanceof Expr.Bool || e instanceof Expr.Seq || e instanceof Matrix);
    }

    private static Expr absDiff(Rel r) { return new Call("Abs", List.of(new Bin(Op.SUB, r.left(), r.right()))); }

    /**
     * Exact equality: constants compared once, expressions with free symbols at real points on both sides of zero
     * (so that {@code \sqrt{x^2}} is not {@code x}) and, since sympy's symbols are complex with no assumptions, at
     * complex points too ({@link ComplexCheck}: {@code \sqrt{x^2}} is not {@code |x|}). A point where either side is
     * undefined is skipped; at least two defined real points must agree and none may differ.
     */
    static boolean exactlyEqual(Expr a, Expr b) {
        TreeSet<String> free = new TreeSet<>();
        a.collectFree(free);
        b.collectFree(free);
        free.removeIf(n -> n.endsWith("()"));
        if (free.isEmpty()) return sameValue(a, b, Map.of()) == Boolean.TRUE;
        if (!agreeOnReals(a, b, free)) return false;
        TreeSet<String> symbols = new TreeSet<>(free);
        symbols.removeIf(n -> n.endsWith("()"));
        return !ComplexCheck.differ(a, b, symbols);
    }

    private static boolean agreeOnReals(Expr a, Expr b, TreeSet<String> free) {
        SplittableRandom rnd = new SplittableRandom(0x5eed);
        int agreed = 0;
        for (int t = 0; t < 3 * POINTS && (agreed < POINTS || t < 4); t++) {
            GradingInterrupted.check();
            Map<String, BigDecimal> point = new HashMap<>();
            for (String v : free) {
                // mostly small positive values (where roots and logarithms are defined), some negative ones, and
                // some larger ones, so that a floor of a small root is not always 0 or 1
                double x = switch (t % 4) {
                    case 2 -> -(0.5 + 3 * rnd.nextDouble());
                    case 3 -> 3.5 + 8.5 * rnd.nextDouble();
                    default -> 0.5 + 3 * rnd.nextDouble();
                };
                point.put(v, BigDecimal.valueOf(x).setScale(12, RoundingMode.HALF_EVEN));
            }
            Boolean same = sameValue(a, b, point);
            if (same == null) continue;
            if (!same) return false;
            agreed++;
        }
        return agreed >= 2;
    }

    /**
     * For two constants (no free symbols) whose values are known, -1, 0 or 1 as sympy would order them (0 when
     * exactly equal); null otherwise. What a relation between two numbers evaluates to.
     */
    static Integer compareConstants(Expr a, Expr b) {
        TreeSet<String> free = new TreeSet<>();
        a.collectFree(free);
        b.collectFree(free);
        if (!free.isEmpty()) return null;
        Boolean same = sameValue(a, b, Map.of());
        if (same == null) return null;
        if (same) return 0;
        Numeric n = new Numeric(Map.of());
        return Double.compare(n.eval(a).toDouble(), n.eval(b).toDouble()) < 0 ? -1 : 1;
    }

    /** Whether a and b have the same value at the point; null where either is undefined there. */
    private static Boolean sameValue(Expr a, Expr b, Map<String, BigDecimal> point) {
        Numeric n = new Numeric(point);
        Numeric.Value x = n.eval(a), y = n.eval(b);
        if (x == null || y == null) return null;
        if (!x.finite() || !y.finite()) return x.infinity() == y.infinity();
        BigDecimal diff = x.v().subtract(y.v()).abs();
        return diff.doubleValue() <= EXACT_TOL * n.magnitude;
    }

    /** float(N(a)) and float(N(b)) both real numbers (infinities included), math.isclose with rel_tol=1e-4. */
    private static boolean numericallyClose(Expr a, Expr b) {
        TreeSet<String> free = new TreeSet<>();
        a.collectFree(free);
        b.collectFree(free);
        if (!free.isEmpty()) return false;
        Numeric n = new Numeric(Map.of());
        Numeric.Value x = n.eval(a), y = n.eval(b);
        if (x == null || y == null) return false;
        return isClose(x.toDouble(), y.toDouble());
    }

    /** Python's math.isclose(a, b, rel_tol=1e-4): equal infinities are close, NaN never is. */
    public static boolean isClose(double a, double b) {
        if (a == b) return true;
        if (Double.isInfinite(a) || Double.isInfinite(b) || Double.isNaN(a) || Double.isNaN(b)) return false;
        return Math.abs(a - b) <= REL_TOL * Math.max(Math.abs(a), Math.abs(b));
    }

    /** Matrix.equals: the same shape and every entry exactly equal. */
    private static boolean entriesEqual(Matrix a, Matrix b) {
        if (a.rows().size() != b.rows().size()) return false;
        for (int i = 0; i < a.rows().size(); i++) {
            List<Expr> ra = a.rows().get(i), rb = b.rows().get(i);
            if (ra.size() != rb.size()) return false;
            for (int j = 0; j < ra.size(); j++) if (!ra.get(j).equals(rb.get(j)) && !exactlyEqual(ra.get(j), rb.get(j))) return false;
        }
        return true;
    }

    /** sympy's applyfunc(round(x, 3)) on both, then equals: every entry a number that rounds alike. */
    private static boolean roundedEqual(Matrix a, Matrix b) {
        if (a.rows().size() != b.rows().size()) return false;
        Numeric n = new Numeric(Map.of());
        for (int i = 0; i < a.rows().size(); i++) {
            List<Expr> ra = a.rows().get(i), rb = b.rows().get(i);
            if (ra.size() != rb.size()) return false;
            for (int j = 0; j < ra.size(); j++) {
                Numeric.Value x = n.eval(ra.get(j)), y = n.eval(rb.get(j));
                if (x == null || y == null || !x.finite() || !y.finite()) return false;
                if (x.v().setScale(3, RoundingMode.HALF_EVEN).compareTo(y.v().setScale(3, RoundingMode.HALF_EVEN)) != 0) return false;
            }
        }
        return true;
    }
}
