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

    private static String wrap(Expr e) {
        String s = print(e);
        return e instanceof Bin || e instanceof Neg || e instanceof Rel ? "(" + s + ")" : s;
    }

    private static String list(List<Expr> es) { return es.stream().map(Printer::print).collect(Collectors.joining(", ")); }
}
