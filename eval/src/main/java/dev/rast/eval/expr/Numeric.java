package dev.rast.eval.expr;

import dev.rast.eval.expr.Expr.Apply;
import dev.rast.eval.expr.Expr.Bin;
import dev.rast.eval.expr.Expr.Call;
import dev.rast.eval.expr.Expr.Const;
import dev.rast.eval.expr.Expr.Derivative;
import dev.rast.eval.expr.Expr.Neg;
import dev.rast.eval.expr.Expr.Num;
import dev.rast.eval.expr.Expr.Sym;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Values of expressions over the reals: sums, differences, products and integer powers exactly, everything else
 * (division, roots, functions) in 50-digit decimal arithmetic, with the largest magnitude of any rounded value.
 * Exact enough to stand in for sympy's symbolic tests ({@code simplify(a - b) == 0}): a difference that is zero
 * leaves only rounding noise far below that magnitude, while {@code 3.83e35 + x} and {@code 2^{1009} + x} keep
 * their {@code x}. A value is null where sympy's would not be a finite real number we can compute: complex,
 * undefined, unknown.
 */
final class Numeric {
    static final MathContext MC = new MathContext(50, RoundingMode.HALF_EVEN);
    private static final MathContext WORK = new MathContext(60, RoundingMode.HALF_EVEN);
    static final BigDecimal PI = new BigDecimal("3.14159265358979323846264338327950288419716939937510582097494459230781640628620899863");
    static final BigDecimal E = new BigDecimal("2.71828182845904523536028747135266249775724709369995957496696762772407663035354759457");
    private static final BigDecimal LN2 = new BigDecimal("0.69314718055994530941723212145817656807550013436025525412068000949339362196969471560586");
    private static final BigDecimal LN10 = new BigDecimal("2.30258509299404568401799145468436420760110148862877297603332790096757260967735248023599");
    private static final BigDecimal EPS = new BigDecimal("1e-62");
    private static final BigDecimal HUGE = new BigDecimal("1e1000"), TINY = new BigDecimal("1e-1000");
    private static final BigDecimal TWO = BigDecimal.valueOf(2), HALF = new BigDecimal("0.5");

    /**
     * A finite value or one of the two infinities (sympy's oo), which only compare, never compute further;
     * {@code exact} when no rounding went into it.
     */
    record Value(BigDecimal v, int infinity, boolean exact) {
        Value(BigDecimal v, int infinity) { this(v, infinity, true); }
        static Value of(BigDecimal v) { return new Value(v, 0, true); }
        static Value rounded(BigDecimal v) { return new Value(v, 0, false); }
        boolean finite() { return infinity == 0; }
        double toDouble() { return infinity != 0 ? infinity * Double.POSITIVE_INFINITY : v.doubleValue(); }
    }

    private final Map<String, BigDecimal> env;
    /** The largest magnitude of any value that rounding went into: the scale of the rounding noise. */
    double magnitude;
    /** Exact results longer than this many digits are rounded (to 50) to keep the arithmetic cheap. */
    private static final int MAX_EXACT_DIGITS = 1200;

    Numeric(Map<String, BigDecimal> env) { this.env = env; }

    /** The value at the given symbol values, or null (see the class comment). */
    Value eval(Expr e) {
        try {
            return value(e);
        } catch (ArithmeticException overflow) {
            return null;
        }
    }

    private void note(BigDecimal v) {
        double m = Math.abs(v.doubleValue());
        if (m > magnitude) magnitude = m;
    }

    private BigDecimal fin(Value v) { return v == null || !v.finite() ? null : v.v(); }

    private Value value(Expr e) {
        return switch (e) {
            case Num n -> Value.of(n.value());
            case Const c -> switch (c.name()) {
                case "pi" -> { note(PI); yield Value.rounded(PI); }
                case "E" -> { note(E); yield Value.rounded(E); }
                case "oo" -> new Value(null, 1);
                default -> null;
            };
            case Sym s -> {
                BigDecimal v = env.get(s.name());
                yield v == null ? null : Value.of(v);
            }
            case Neg n -> {
                Value v = value(n.arg());
                yield v == null ? null : v.finite() ? new Value(v.v().negate(), 0, v.exact()) : new Value(null, -v.infinity());
            }
            case Bin b -> binary(b);
            case Call c -> call(c);
            case Apply a -> undefinedFunction(a);
            case Derivative d -> derivative(d);
            default -> null;
        };
    }

    private Value binary(Bin b) {
        Value l = value(b.left()), r = value(b.right());
        if (l == null || r == null) return null;
        if (!l.finite() || !r.finite()) return infinite(b.op(), l, r);
        BigDecimal x = l.v(), y = r.v();
        boolean exact = l.exact() && r.exact();
        BigDecimal out;
        switch (b.op()) {
            case ADD -> out = x.add(y);
            case SUB -> out = x.subtract(y);
            case MUL -> out = x.multiply(y);
            case DIV -> {
                if (y.signum() == 0) return null;
                out = x.divide(y, MC);
                exact = false;
            }
            default -> {
                out = exactPower(x, y);
                if (out == null) {
                    out = pow(x, y);
                    exact = false;
                }
            }
        }
        if (out == null) return null;
        out = check(out);
        if (out.precision() > MAX_EXACT_DIGITS) {
            out = out.round(MC);
            exact = false;
        }
        if (!exact) {
            note(out);
            note(x);
            note(y);
        }
        return new Value(out, 0, exact);
    }

    /** x^n exactly for a small integer n >= 0, or null. */
    private static BigDecimal exactPower(BigDecimal x, BigDecimal y) {
        if (!isInteger(y) || y.signum() < 0 || y.compareTo(BigDecimal.valueOf(10000)) > 0) return null;
        int n = y.intValueExact();
        if (x.signum() != 0 && n * Math.log10(x.unscaledValue().abs().doubleValue()) + 1 > MAX_EXACT_DIGITS) return null;
        if (n > 0 && x.signum() != 0 && n * Math.log10(Math.abs(x.doubleValue()) + 1e-300) > 1000) throw new ArithmeticException("overflow");
        return x.pow(n);
    }

    /** oo arithmetic as far as answers need it: oo + finite, oo * positive, finite / oo. */
    private static Value infinite(Expr.Op op, Value l, Value r) {
        int li = l.infinity(), ri = r.infinity();
        return switch (op) {
            case ADD -> li != 0 && ri != 0 ? (li == ri ? l : null) : (li != 0 ? l : r);
            case SUB -> li != 0 && ri != 0 ? (li != ri ? l : null) : (li != 0 ? l : new Value(null, -ri));
            case MUL -> {
                int sl = li != 0 ? li : l.v().signum(), sr = ri != 0 ? ri : r.v().signum();
                yield sl == 0 || sr == 0 ? null : new Value(null, sl * sr);
            }
            case DIV -> ri != 0 ? (li != 0 ? null : Value.of(BigDecimal.ZERO)) : (r.v().signum() == 0 ? null : new Value(null, li * r.v().signum()));
            case POW -> null;
        };
    }

    private static BigDecimal check(BigDecimal v) {
        if (v.abs().compareTo(HUGE) > 0) throw new ArithmeticException("overflow");
        if (v.signum() != 0 && v.abs().compareTo(TINY) < 0) return BigDecimal.ZERO;
        return v;
    }

    static BigDecimal pow(BigDecimal x, BigDecimal y) {
        if (y.signum() == 0) return BigDecimal.ONE;
        if (isInteger(y) && y.abs().compareTo(BigDecimal.valueOf(100000)) <= 0) {
            int n = y.intValueExact();
            if (x.signum() == 0) return n > 0 ? BigDecimal.ZERO : null;
            if (Math.abs(n) * Math.log10(Math.max(Math.abs(x.doubleValue()), 1e-300)) > 1000) throw new ArithmeticException("overflow");
            BigDecimal r = x.pow(Math.abs(n), WORK);
            return n > 0 ? r.round(MC) : BigDecimal.ONE.divide(r, MC);
        }
        if (x.signum() == 0) return y.signum() > 0 ? BigDecimal.ZERO : null;
        if (x.signum() < 0) return null; // a negative base to a fractional power is complex in sympy
        if (y.compareTo(HALF) == 0) return x.sqrt(MC);
        BigDecimal l = ln(x);
        return l == null ? null : exp(y.multiply(l, WORK));
    }

    static boolean isInteger(BigDecimal v) { return v.signum() == 0 || v.stripTrailingZeros().scale() <= 0; }

    private Value call(Call c) {
        List<Expr> args = c.args();
        BigDecimal[] a = new BigDecimal[args.size()];
        for (int i = 0; i < a.length; i++) {
            Value v = value(args.get(i));
            if (v != null && !v.finite() && c.function().equals("Abs")) return new Value(null, 1);
            a[i] = fin(v);
            if (a[i] == null) return null;
        }
        BigDecimal x = a[0];
        BigDecimal r = switch (c.function()) {
            case "sqrt" -> x.signum() < 0 ? null : x.sqrt(MC);
            case "root" -> x.signum() < 0 ? null : a[1].signum() == 0 ? null : pow(x, BigDecimal.ONE.divide(a[1], MC));
            case "exp" -> exp(x);
            case "log" -> {
                BigDecimal ln = ln(x), lb = ln(a[1]);
                yield ln == null || lb == null || lb.signum() == 0 ? null : ln.divide(lb, MC);
            }
            case "sin" -> sin(x);
            case "cos" -> cos(x);
            case "tan" -> div(sin(x), cos(x));
            case "cot" -> div(cos(x), sin(x));
            case "sec" -> div(BigDecimal.ONE, cos(x));
            case "csc" -> div(BigDecimal.ONE, sin(x));
            case "asin" -> asin(x);
            case "acos" -> {
                BigDecimal s = asin(x);
                yield s == null ? null : PI.divide(TWO, MC).subtract(s, MC);
            }
            case "atan" -> atan(x);
            case "acot" -> x.signum() == 0 ? PI.divide(TWO, MC) : atan(BigDecimal.ONE.divide(x, MC));
            case "asec" -> {
                BigDecimal s = x.signum() == 0 ? null : asin(BigDecimal.ONE.divide(x, MC));
                yield s == null ? null : PI.divide(TWO, MC).subtract(s, MC);
            }
            case "acsc" -> x.signum() == 0 ? null : asin(BigDecimal.ONE.divide(x, MC));
            case "sinh" -> sinh(x);
            case "cosh" -> cosh(x);
            case "tanh" -> div(sinh(x), cosh(x));
            case "asinh" -> ln(x.add(x.multiply(x, WORK).add(BigDecimal.ONE).sqrt(WORK), WORK));
            case "acosh" -> x.compareTo(BigDecimal.ONE) < 0 ? null : ln(x.add(x.multiply(x, WORK).subtract(BigDecimal.ONE).sqrt(WORK), WORK));
            case "atanh" -> x.abs().compareTo(BigDecimal.ONE) >= 0 ? null
                    : mul(HALF, ln(BigDecimal.ONE.add(x).divide(BigDecimal.ONE.subtract(x), WORK)));
            case "Abs" -> x.abs();
            case "floor" -> x.setScale(0, RoundingMode.FLOOR);
            case "ceiling" -> x.setScale(0, RoundingMode.CEILING);
            case "conjugate" -> x;
            case "factorial" -> factorial(x);
            case "binomial" -> binomial(x, a[1]);
            default -> null;
        };
        if (r == null) return null;
        r = check(r.round(MC));
        note(r);
        for (BigDecimal arg : a) note(arg);
        return Value.rounded(r);
    }

    private static BigDecimal div(BigDecimal a, BigDecimal b) {
        if (a == null || b == null || b.signum() == 0) return null;
        return a.divide(b, MC);
    }

    private static BigDecimal mul(BigDecimal a, BigDecimal b) { return a == null || b == null ? null : a.multiply(b, MC); }

    private static BigDecimal factorial(BigDecimal x) {
        if (!isInteger(x) || x.signum() < 0 || x.compareTo(BigDecimal.valueOf(400)) > 0) return null;
        BigInteger r = BigInteger.ONE;
        for (int i = 2; i <= x.intValue(); i++) r = r.multiply(BigInteger.valueOf(i));
        return new BigDecimal(r);
    }

    private static BigDecimal binomial(BigDecimal n, BigDecimal k) {
        if (!isInteger(k) || !isInteger(n) || n.signum() < 0) {
            // sympy evaluates binomial(n, k) at non-integers through the gamma function; double precision here
            double g = Math.exp(logGamma(n.doubleValue() + 1) - logGamma(k.doubleValue() + 1) - logGamma(n.doubleValue() - k.doubleValue() + 1));
            return Double.isFinite(g) && n.doubleValue() > -1 && k.doubleValue() > -1 && n.doubleValue() - k.doubleValue() > -1 ? new BigDecimal(g) : null;
        }
        if (n.compareTo(BigDecimal.valueOf(100000)) > 0) return null;
        int nn = n.intValue(), kk = k.intValue();
        if (kk < 0 || kk > nn) return BigDecimal.ZERO;
        BigInteger r = BigInteger.ONE;
        for (int i = 1; i <= Math.min(kk, nn - kk); i++) r = r.multiply(BigInteger.valueOf(nn - Math.min(kk, nn - kk) + i)).divide(BigInteger.valueOf(i));
        return new BigDecimal(r);
    }

    private static final double[] LANCZOS = {0.99999999999980993, 676.5203681218851, -1259.1392167224028,
            771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
            9.9843695780195716e-6, 1.5056327351493116e-7};

    /** ln Gamma(x) for x > 0 (Lanczos, g = 7). */
    private static double logGamma(double x) {
        if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
        x -= 1;
        double s = LANCZOS[0], t = x + 7.5;
        for (int i = 1; i < 9; i++) s += LANCZOS[i] / (x + i);
        return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(s);
    }

    /**
     * An undefined function ({@code f(x)}, sympy's AppliedUndef) as a fixed smooth function of its arguments that
     * depends on its name: two such calls agree only when the names and the argument values agree.
     */
    private Value undefinedFunction(Apply f) {
        int h = 0;
        for (int i = 0; i < f.name().length(); i++) h = (h * 31 + f.name().charAt(i)) % 9973;
        BigDecimal acc = BigDecimal.valueOf(1.5 + h / 9973.0);
        for (int i = 0; i < f.args().size(); i++) {
            BigDecimal a = fin(value(f.args().get(i)));
            if (a == null) return null;
            BigDecimal s = sin(a.multiply(BigDecimal.valueOf(0.37 + 0.11 * i + h / 99730.0), MC).add(BigDecimal.valueOf(0.5 + i), MC));
            acc = acc.add(s.multiply(BigDecimal.valueOf(1.0 / (i + 2)), MC), MC);
        }
        note(acc);
        return Value.rounded(acc);
    }

    /** d(expr)/d(wrt) by a central difference, accurate to far more digits than any tolerance here needs. */
    private Value derivative(Derivative d) {
        BigDecimal at = env.get(d.wrt());
        java.util.Set<String> free = new java.util.HashSet<>();
        d.expr().collectFree(free);
        if (!free.contains(d.wrt())) return Value.of(BigDecimal.ZERO);
        if (at == null) return null;
        BigDecimal h = new BigDecimal("1e-18");
        Map<String, BigDecimal> plus = new HashMap<>(env), minus = new HashMap<>(env);
        plus.put(d.wrt(), at.add(h));
        minus.put(d.wrt(), at.subtract(h));
        Numeric np = new Numeric(plus), nm = new Numeric(minus);
        BigDecimal a = fin(np.eval(d.expr())), b = fin(nm.eval(d.expr()));
        if (a == null || b == null) return null;
        BigDecimal slope = a.subtract(b, MC).divide(h.multiply(TWO), MC);
        magnitude = Math.max(magnitude, Math.max(Math.max(np.magnitude, nm.magnitude) * 1e-18, Math.abs(slope.doubleValue())));
        return Value.rounded(slope);
    }

    // ---- elementary functions in 60-digit working precision ----

    static BigDecimal exp(BigDecimal x) {
        if (x.compareTo(BigDecimal.valueOf(2300)) > 0) throw new ArithmeticException("overflow");
        if (x.compareTo(BigDecimal.valueOf(-2300)) < 0) return BigDecimal.ZERO;
        // exp(x) = exp(x / 2^k)^(2^k) with |x / 2^k| < 1/2
        int k = 0;
        BigDecimal r = x;
        while (r.abs().compareTo(HALF) > 0) { r = r.divide(TWO, WORK); k++; }
        BigDecimal sum = BigDecimal.ONE, term = BigDecimal.ONE;
        for (int i = 1; i < 200; i++) {
            term = term.multiply(r, WORK).divide(BigDecimal.valueOf(i), WORK);
            sum = sum.add(term, WORK);
            if (term.abs().compareTo(EPS) < 0) break;
        }
        for (int i = 0; i < k; i++) sum = sum.multiply(sum, WORK);
        return sum.round(MC);
    }

    static BigDecimal ln(BigDecimal x) {
        if (x.signum() <= 0) return null;
        // x = m * 10^d * 2^k with m in [0.5, 1): ln x = d ln 10 + k ln 2 + 2 atanh((m - 1) / (m + 1))
        int d = x.precision() - x.scale() - 1;
        BigDecimal m = x.scaleByPowerOfTen(-d);
        int k = 0;
        while (m.compareTo(BigDecimal.ONE) >= 0) { m = m.divide(TWO, WORK); k++; }
        while (m.compareTo(HALF) < 0) { m = m.multiply(TWO, WORK); k--; }
        BigDecimal z = m.subtract(BigDecimal.ONE).divide(m.add(BigDecimal.ONE), WORK), z2 = z.multiply(z, WORK);
        BigDecimal sum = BigDecimal.ZERO, term = z;
        for (int i = 1; i < 400; i += 2) {
            BigDecimal t = term.divide(BigDecimal.valueOf(i), WORK);
            sum = sum.add(t, WORK);
            if (t.abs().compareTo(EPS) < 0) break;
            term = term.multiply(z2, WORK);
        }
        return sum.multiply(TWO, WORK).add(LN2.multiply(BigDecimal.valueOf(k), WORK), WORK)
                .add(LN10.multiply(BigDecimal.valueOf(d), WORK), WORK).round(MC);
    }

    static BigDecimal sin(BigDecimal x) {
        BigDecimal r = reduce(x);
        if (r == null) return null;
        return series(r, r, 1);
    }

    static BigDecimal cos(BigDecimal x) {
        BigDecimal r = reduce(x);
        if (r == null) return null;
        return series(BigDecimal.ONE, r, 0);
    }

    /** x modulo 2 pi, into (-pi, pi]. */
    private static BigDecimal reduce(BigDecimal x) {
        if (x.abs().compareTo(new BigDecimal("1e20")) > 0) return null;
        BigDecimal twoPi = PI.multiply(TWO, WORK);
        BigDecimal q = x.divide(twoPi, 0, RoundingMode.HALF_EVEN);
        return x.subtract(twoPi.multiply(q, WORK), WORK);
    }

    /** Taylor series of sin (first = x, start = 1) or cos (first = 1, start = 0). */
    private static BigDecimal series(BigDecimal first, BigDecimal x, int start) {
        BigDecimal x2 = x.multiply(x, WORK).negate(), term = first, sum = first;
        for (int i = start + 1; i < 400; i += 2) {
            term = term.multiply(x2, WORK).divide(BigDecimal.valueOf((long) i * (i + 1)), WORK);
            sum = sum.add(term, WORK);
            if (term.abs().compareTo(EPS) < 0) break;
        }
        return sum.round(MC);
    }

    static BigDecimal atan(BigDecimal x) {
        // atan x = 2 atan(x / (1 + sqrt(1 + x^2))), halving the argument until the series converges fast
        int k = 0;
        BigDecimal r = x;
        while (r.abs().compareTo(new BigDecimal("0.1")) > 0) {
            r = r.divide(BigDecimal.ONE.add(BigDecimal.ONE.add(r.multiply(r, WORK)).sqrt(WORK)), WORK);
            k++;
        }
        BigDecimal r2 = r.multiply(r, WORK).negate(), term = r, sum = r;
        for (int i = 3; i < 400; i += 2) {
            term = term.multiply(r2, WORK);
            BigDecimal t = term.divide(BigDecimal.valueOf(i), WORK);
            sum = sum.add(t, WORK);
            if (t.abs().compareTo(EPS) < 0) break;
        }
        return sum.multiply(TWO.pow(k), WORK).round(MC);
    }

    private static BigDecimal asin(BigDecimal x) {
        int c = x.abs().compareTo(BigDecimal.ONE);
        if (c > 0) return null;
        if (c == 0) return PI.divide(TWO, MC).multiply(BigDecimal.valueOf(x.signum()));
        return atan(x.divide(BigDecimal.ONE.subtract(x.multiply(x, WORK)).sqrt(WORK), WORK));
    }

    private static BigDecimal sinh(BigDecimal x) {
        BigDecimal e = exp(x), ei = exp(x.negate());
        return e.subtract(ei, WORK).divide(TWO, MC);
    }

    private static BigDecimal cosh(BigDecimal x) {
        BigDecimal e = exp(x), ei = exp(x.negate());
        return e.add(ei, WORK).divide(TWO, MC);
    }
}
