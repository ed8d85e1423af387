package dev.rast.eval.expr;

import dev.rast.eval.expr.Expr.Bin;
import dev.rast.eval.expr.Expr.Call;
import dev.rast.eval.expr.Expr.Op;
import dev.rast.eval.expr.Expr.Rel;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * Whether two expressions are the same number or the same function of their variables, decided numerically:
 * constants are compared once, expressions with free variables at random points. This stands in for sympy's
 * {@code a.equals(b)}, {@code simplify(a - b) == 0} and {@code float(N(a))} tests in SimpleRL's symbolic step.
 *
 * <p>Tolerance: relative 1e-4, as SimpleRL's {@code numeric_equal}, with an absolute floor of 1e-12 where sympy
 * would have simplified exactly to zero but double arithmetic leaves rounding noise (e.g. sin(π) = 1.2e-16).
 * Variables take values in [0.5, 3.5), where roots and logarithms of simple answers are defined; a point where
 * either side is undefined is skipped, and at least {@value #MIN_POINTS} defined points must all agree.
 */
public final class Equivalence {
    private Equivalence() {}

    public static final double REL_TOL = 1e-4;
    static final double ABS_FLOOR = 1e-12;
    static final int MIN_POINTS = 3;
    private static final int TRIES = 24;

    public static boolean equivalent(Expr a, Expr b) {
        if (a instanceof Rel || b instanceof Rel) {
            if (!(a instanceof Rel x) || !(b instanceof Rel y)) return false;
            if (x.op().equals("=") && y.op().equals("=")) {
                // sympy: |lhs - rhs| of the two equations are equal (so y = 2x and 2x = y agree)
                return sameFunction(absDiff(x), absDiff(y));
            }
            return x.op().equals(y.op()) && sameFunction(x.left(), y.left()) && sameFunction(x.right(), y.right());
        }
        return sameFunction(a, b);
    }

    private static Expr absDiff(Rel r) { return new Call("abs", List.of(new Bin(Op.SUB, r.left(), r.right()))); }

    static boolean sameFunction(Expr a, Expr b) {
        TreeSet<String> vars = new TreeSet<>();
        a.collectVars(vars);
        b.collectVars(vars);
        if (vars.isEmpty()) return close(a.eval(Map.of()), b.eval(Map.of()));
        SplittableRandom rnd = new SplittableRandom(0x5eed);
        Map<String, Double> point = new HashMap<>();
        int agreed = 0;
        for (int t = 0; t < TRIES && agreed < 8; t++) {
            if (Thread.currentThread().isInterrupted()) throw new dev.rast.eval.grader.GradingInterrupted();
            for (String v : vars) point.put(v, 0.5 + 3 * rnd.nextDouble());
            double x = a.eval(point), y = b.eval(point);
            if (Double.isNaN(x) || Double.isNaN(y) || Double.isInfinite(x) || Double.isInfinite(y)) continue;
            if (!close(x, y)) return false;
            agreed++;
        }
        return agreed >= MIN_POINTS;
    }

    /** Python's math.isclose(a, b, rel_tol=1e-4) plus the 1e-12 absolute floor (see the class comment). */
    static boolean close(double a, double b) {
        if (a == b) return true;
        if (Double.isNaN(a) || Double.isNaN(b) || Double.isInfinite(a) || Double.isInfinite(b)) return false;
        double diff = Math.abs(a - b);
        return diff <= Math.max(REL_TOL * Math.max(Math.abs(a), Math.abs(b)), ABS_FLOOR);
    }
}
