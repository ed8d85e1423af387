package dev.rast.eval.expr;

import java.util.Set;

/** The functions answers use, in double precision over the reals; NaN outside a function's domain. */
public final class Functions {
    private Functions() {}

    /** Every name {@link #apply} knows, with its arity checked by the parsers. */
    static final Set<String> UNARY = Set.of("sin", "cos", "tan", "sec", "csc", "cot", "asin", "acos", "atan",
            "asec", "acsc", "acot", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "exp", "ln", "sqrt", "abs",
            "floor", "ceil", "factorial");
    static final Set<String> BINARY = Set.of("log", "root", "binom");

    static double apply(String f, double[] a) {
        double x = a[0];
        return switch (f) {
            case "sin" -> Math.sin(x);
            case "cos" -> Math.cos(x);
            case "tan" -> Math.tan(x);
            case "sec" -> 1 / Math.cos(x);
            case "csc" -> 1 / Math.sin(x);
            case "cot" -> Math.cos(x) / Math.sin(x);
            case "asin" -> Math.asin(x);
            case "acos" -> Math.acos(x);
            case "atan" -> Math.atan(x);
            case "asec" -> Math.acos(1 / x);
            case "acsc" -> Math.asin(1 / x);
            case "acot" -> Math.atan(1 / x);
            case "sinh" -> Math.sinh(x);
            case "cosh" -> Math.cosh(x);
            case "tanh" -> Math.tanh(x);
            case "asinh" -> Math.log(x + Math.sqrt(x * x + 1));
            case "acosh" -> Math.log(x + Math.sqrt(x * x - 1));
            case "atanh" -> 0.5 * Math.log((1 + x) / (1 - x));
            case "exp" -> Math.exp(x);
            case "ln" -> x < 0 ? Double.NaN : Math.log(x);
            case "sqrt" -> Math.sqrt(x);
            case "abs" -> Math.abs(x);
            case "floor" -> Math.floor(x);
            case "ceil" -> Math.ceil(x);
            case "factorial" -> gamma(x + 1);
            case "log" -> x < 0 || a[1] <= 0 ? Double.NaN : Math.log(x) / Math.log(a[1]);
            case "root" -> root(x, a[1]);
            case "binom" -> binom(x, a[1]);
            default -> throw new IllegalArgumentException("unknown function " + f);
        };
    }

    /** x^y over the reals: a negative base needs an integer exponent (Math.pow gives NaN otherwise). */
    static double pow(double x, double y) { return Math.pow(x, y); }

    /** The real n-th root: odd roots of negatives are negative, as a reader of {@code \sqrt[3]{-8}} means. */
    static double root(double x, double n) {
        if (x < 0 && n == Math.rint(n) && Math.abs(n % 2) == 1) return -Math.pow(-x, 1 / n);
        return Math.pow(x, 1 / n);
    }

    static double binom(double n, double k) {
        if (n == Math.rint(n) && k == Math.rint(k) && n >= 0) {
            if (k < 0 || k > n) return 0;
            double r = 1;
            long kk = (long) Math.min(k, n - k);
            for (long i = 1; i <= kk; i++) r = r * (n - kk + i) / i;
            return r < 9e15 ? Math.rint(r) : r; // the running quotient is integral up to rounding
        }
        return gamma(n + 1) / (gamma(k + 1) * gamma(n - k + 1));
    }

    private static final double[] LANCZOS = {0.99999999999980993, 676.5203681218851, -1259.1392167224028,
            771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
            9.9843695780195716e-6, 1.5056327351493116e-7};

    /** Gamma(x): exact products for small positive integers, Lanczos (g = 7) with reflection elsewhere. */
    static double gamma(double x) {
        if (x == Math.rint(x)) {
            if (x <= 0) return Double.NaN;
            if (x > 171) return Double.POSITIVE_INFINITY;
            double r = 1;
            for (int i = 2; i < x; i++) r *= i;
            return r;
        }
        if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gamma(1 - x));
        x -= 1;
        double s = LANCZOS[0];
        double t = x + 7.5;
        for (int i = 1; i < 9; i++) s += LANCZOS[i] / (x + i);
        return Math.sqrt(2 * Math.PI) * Math.pow(t, x + 0.5) * Math.exp(-t) * s;
    }
}
