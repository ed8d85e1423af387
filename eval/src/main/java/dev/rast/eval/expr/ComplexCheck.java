package dev.rast.eval.expr;

import dev.rast.eval.expr.Expr.Apply;
import dev.rast.eval.expr.Expr.Bin;
import dev.rast.eval.expr.Expr.Call;
import dev.rast.eval.expr.Expr.Const;
import dev.rast.eval.expr.Expr.Neg;
import dev.rast.eval.expr.Expr.Num;
import dev.rast.eval.expr.Expr.Sym;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * sympy's symbols are complex numbers with no assumptions, so it does not find {@code \sqrt{x^2}} equal to
 * {@code |x|}, nor {@code \sqrt{x}\sqrt{y}} equal to {@code \sqrt{xy}}, though both agree at every real point.
 * This check evaluates both sides at complex points, in double precision with principal branches, and reports a
 * difference beyond the rounding noise of the values involved. Where either side uses something not evaluated here
 * (factorials, floors, derivatives, infinity) it has nothing to say.
 */
final class ComplexCheck {
    private ComplexCheck() {}

    private record C(double re, double im) {
        C plus(C o) { return new C(re + o.re, im + o.im); }
        C minus(C o) { return new C(re - o.re, im - o.im); }
        C times(C o) { return new C(re * o.re - im * o.im, re * o.im + im * o.re); }
        C div(C o) {
            double d = o.re * o.re + o.im * o.im;
            return new C((re * o.re + im * o.im) / d, (im * o.re - re * o.im) / d);
        }
        double abs() { return Math.hypot(re, im); }
        boolean finite() { return Double.isFinite(re) && Double.isFinite(im); }
    }

    private static final C ONE = new C(1, 0), I = new C(0, 1);

    /** True when some complex point tells a and b apart. */
    static boolean differ(Expr a, Expr b, Set<String> free) {
        SplittableRandom rnd = new SplittableRandom(0xc0ffee);
        for (int t = 0; t < 4; t++) {
            Map<String, C> point = new HashMap<>();
            for (String v : free) point.put(v, new C(3 * rnd.nextDouble() - 1.5, 3 * rnd.nextDouble() - 1.5));
            double[] scale = {0};
            C x = eval(a, point, scale), y = eval(b, point, scale);
            if (x == null || y == null || !x.finite() || !y.finite()) continue;
            if (x.minus(y).abs() > 1e-9 * Math.max(scale[0], 1e-300)) return true;
        }
        return false;
    }

    private static C note(C c, double[] scale) {
        if (c != null && c.finite()) scale[0] = Math.max(scale[0], c.abs());
        return c;
    }

    private static C eval(Expr e, Map<String, C> env, double[] scale) {
        return note(switch (e) {
            case Num n -> new C(n.value().doubleValue(), 0);
            case Const c -> switch (c.name()) {
                case "pi" -> new C(Math.PI, 0);
                case "E" -> new C(Math.E, 0);
                case "I" -> I;
                default -> null;
            };
            case Sym s -> env.get(s.name());
            case Neg n -> {
                C v = eval(n.arg(), env, scale);
                yield v == null ? null : new C(-v.re, -v.im);
            }
            case Bin b -> {
                C l = eval(b.left(), env, scale), r = eval(b.right(), env, scale);
                if (l == null || r == null) yield null;
                yield switch (b.op()) {
                    case ADD -> l.plus(r);
                    case SUB -> l.minus(r);
                    case MUL -> l.times(r);
                    case DIV -> r.abs() == 0 ? null : l.div(r);
                    case POW -> pow(l, r);
                };
            }
            case Call c -> call(c, env, scale);
            case Apply f -> {
                int h = 0;
                for (int i = 0; i < f.name().length(); i++) h = (h * 31 + f.name().charAt(i)) % 9973;
                C acc = new C(1.5 + h / 9973.0, 0);
                for (int i = 0; i < f.args().size(); i++) {
                    C a = eval(f.args().get(i), env, scale);
                    if (a == null) yield null;
                    C s = sin(a.times(new C(0.37 + 0.11 * i + h / 99730.0, 0)).plus(new C(0.5 + i, 0)));
                    acc = acc.plus(s.times(new C(1.0 / (i + 2), 0)));
                }
                yield acc;
            }
            default -> null;
        }, scale);
    }

    private static C call(Call c, Map<String, C> env, double[] scale) {
        C[] a = new C[c.args().size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = eval(c.args().get(i), env, scale);
            if (a[i] == null) return null;
        }
        C x = a[0];
        return switch (c.function()) {
            case "sqrt" -> pow(x, new C(0.5, 0));
            case "root" -> pow(x, ONE.div(a[1]));
            case "exp" -> exp(x);
            case "log" -> {
                C base = log(a[1]);
                yield base == null || base.abs() == 0 ? null : div(log(x), base);
            }
            case "sin" -> sin(x);
            case "cos" -> cos(x);
            case "tan" -> div(sin(x), cos(x));
            case "cot" -> div(cos(x), sin(x));
            case "sec" -> div(ONE, cos(x));
            case "csc" -> div(ONE, sin(x));
            case "sinh" -> exp(x).minus(exp(neg(x))).times(new C(0.5, 0));
            case "cosh" -> exp(x).plus(exp(neg(x))).times(new C(0.5, 0));
            case "tanh" -> div(exp(x).minus(exp(neg(x))), exp(x).plus(exp(neg(x))));
            case "asin" -> { // -i log(iz + sqrt(1 - z^2))
                C l = log(I.times(x).plus(pow(ONE.minus(x.times(x)), new C(0.5, 0))));
                yield l == null ? null : neg(I).times(l);
            }
            case "atan" -> { // (i/2) log((i + z)/(i - z))
                C l = log(div(I.plus(x), I.minus(x)));
                yield l == null ? null : new C(0, 0.5).times(l);
            }
            case "Abs" -> new C(x.abs(), 0);
            case "conjugate" -> new C(x.re, -x.im);
            default -> null;
        };
    }

    private static C neg(C x) { return new C(-x.re, -x.im); }

    private static C div(C a, C b) { return a == null || b == null || b.abs() == 0 ? null : a.div(b); }

    private static C exp(C x) {
        double m = Math.exp(x.re);
        return new C(m * Math.cos(x.im), m * Math.sin(x.im));
    }

    /** The principal logarithm; null at 0. */
    private static C log(C x) {
        if (x == null || x.abs() == 0) return null;
        return new C(Math.log(x.abs()), Math.atan2(x.im, x.re));
    }

    private static C sin(C x) { return new C(Math.sin(x.re) * Math.cosh(x.im), Math.cos(x.re) * Math.sinh(x.im)); }

    private static C cos(C x) { return new C(Math.cos(x.re) * Math.cosh(x.im), -Math.sin(x.re) * Math.sinh(x.im)); }

    /** Integer powers by repeated multiplication (as sympy keeps them exact), others through the principal log. */
    private static C pow(C x, C y) {
        if (y.im == 0 && y.re == Math.rint(y.re) && Math.abs(y.re) <= 64) {
            int n = (int) Math.abs(y.re);
            C r = ONE;
            for (int i = 0; i < n; i++) r = r.times(x);
            return y.re >= 0 ? r : (r.abs() == 0 ? null : ONE.div(r));
        }
        if (x.abs() == 0) return y.re > 0 ? new C(0, 0) : null;
        return exp(y.times(log(x)));
    }
}
