package dev.rast.eval.expr;

import dev.rast.eval.expr.Expr.Apply;
import dev.rast.eval.expr.Expr.Bin;
import dev.rast.eval.expr.Expr.Bool;
import dev.rast.eval.expr.Expr.Call;
import dev.rast.eval.expr.Expr.Const;
import dev.rast.eval.expr.Expr.Derivative;
import dev.rast.eval.expr.Expr.Matrix;
import dev.rast.eval.expr.Expr.Neg;
import dev.rast.eval.expr.Expr.Num;
import dev.rast.eval.expr.Expr.Opaque;
import dev.rast.eval.expr.Expr.Rel;
import dev.rast.eval.expr.Expr.Seq;
import dev.rast.eval.expr.Expr.Sym;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A text form of an expression in the style of sympy's printer ({@code x + 1}, {@code 2*x}, {@code x**2}): used for
 * the subscript part of a symbol's name ({@code a_{n + 1}}), where two spellings of one subscript must give one name,
 * and for messages.
 */
public final class Printer {
    private Printer() {}

    public static String print(Expr e) {
        return switch (e) {
            case Num n -> n.value().toPlainString();
            case Const c -> c.name();
            case Sym s -> s.name();
            case Neg n -> "-" + wrap(n.arg());
            case Bin b -> wrap(b.left()) + switch (b.op()) {
                case ADD -> " + ";
                case SUB -> " - ";
                case MUL -> "*";
                case DIV -> "/";
                case POW -> "**";
            } + wrap(b.right());
            case Call c -> c.function() + "(" + list(c.args()) + ")";
            case Apply a -> a.name() + "(" + list(a.args()) + ")";
            case Derivative d -> "Derivative(" + print(d.expr()) + ", " + d.wrt() + ")";
            case Rel r -> print(r.left()) + " " + r.op() + " " + print(r.right());
            case Bool b -> b.value() ? "True" : "False";
            case Seq s -> s.kind() + "(" + list(s.items()) + ")";
            case Matrix m -> "Matrix(" + m.rows().stream().map(r -> "[" + list(r) + "]").collect(Collectors.joining(", ")) + ")";
            case Opaque o -> o.kind() + "(" + list(o.args()) + ")";
        };
    }

    /**
     * The text sympy's {@code str()} would give, as far as it decides equality: sums and products with their terms
     * in a fixed order (sympy's printer sorts them), and the constants pi, E and I printed like the symbols of the
     * same name, which they then equal.
     */
    public static String sorted(Expr e) {
        return switch (e) {
            case Const c -> c.name();
            case Neg n -> "-(" + sorted(n.arg()) + ")";
            case Bin b when b.op() == Expr.Op.ADD || b.op() == Expr.Op.SUB -> {
                java.util.List<String> terms = new java.util.ArrayList<>();
                terms(b, false, terms);
                java.util.Collections.sort(terms);
                yield "(" + String.join(" + ", terms) + ")";
            }
            case Bin b when b.op() == Expr.Op.MUL -> {
                java.util.List<String> factors = new java.util.ArrayList<>();
                factors(b, factors);
                java.util.Collections.sort(factors);
                yield "(" + String.join("*", factors) + ")";
            }
            case Bin b -> "(" + sorted(b.left()) + (b.op() == Expr.Op.DIV ? ")/(" : ")**(") + sorted(b.right()) + ")";
            case Call c -> c.function() + "(" + c.args().stream().map(Printer::sorted).collect(Collectors.joining(", ")) + ")";
            case Apply a -> a.name() + "(" + a.args().stream().map(Printer::sorted).collect(Collectors.joining(", ")) + ")";
            case Rel r -> sorted(r.left()) + " " + r.op() + " " + sorted(r.right());
            default -> print(e);
        };
    }

    private static void terms(Expr e, boolean negated, java.util.List<String> out) {
        if (e instanceof Bin b && (b.op() == Expr.Op.ADD || b.op() == Expr.Op.SUB)) {
            terms(b.left(), negated, out);
            terms(b.right(), negated != (b.op() == Expr.Op.SUB), out);
        } else {
            out.add(negated ? "-(" + sorted(e) + ")" : sorted(e));
        }
    }

    private static void factors(Expr e, java.util.List<String> out) {
        if (e instanceof Bin b && b.op() == Expr.Op.MUL) {
            factors(b.left(), out);
            factors(b.right(), out);
        } else {
            out.add(sorted(e));
        }
    }

    private static String wrap(Expr e) {
        String s = print(e);
        return e instanceof Bin || e instanceof Neg || e instanceof Rel ? "(" + s + ")" : s;
    }

    private static String list(List<Expr> es) { return es.stream().map(Printer::print).collect(Collectors.joining(", ")); }
}
