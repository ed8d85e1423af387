package dev.rast.eval.expr;

import java.math.BigDecimal;
import java.util.List;
import java.util.Set;

/**
 * What sympy makes of an answer in SimpleRL's symbolic step, as far as the grader's tests can tell apart: numbers,
 * named constants, free symbols, operators, known and undefined functions, relations, Python containers, matrices.
 * Records compare by structure, which stands in for sympy's {@code str(a) == str(b)} and {@code a == b} on
 * unevaluated expressions; {@link Numeric} gives values and {@link Equivalence} decides equality.
 */
public sealed interface Expr {
    /** Adds the names of the free symbols (undefined functions count as well: sympy cannot evaluate them). */
    void collectFree(Set<String> out);

    /**
     * A sympy Integer or Float, exact as written. Trailing zeros are dropped: sympy's {@code ==} finds Integer(2)
     * and Float(2.0) equal, and so do these records.
     */
    record Num(BigDecimal value) implements Expr {
        public Num {
            value = value.signum() == 0 ? BigDecimal.ZERO : value.stripTrailingZeros();
        }
        public static Num of(long v) { return new Num(BigDecimal.valueOf(v)); }
        @Override public void collectFree(Set<String> out) {}
    }

    /** sympy's named numbers: {@code pi}, {@code E}, {@code oo} (infinity), {@code I} (imaginary unit). */
    record Const(String name) implements Expr {
        public static final Const PI = new Const("pi"), E = new Const("E"), OO = new Const("oo"), I = new Const("I");
        @Override public void collectFree(Set<String> out) {}
    }

    /** A free symbol; its name carries subscripts and primes ({@code x_{1}}, {@code f'}). */
    record Sym(String name) implements Expr {
        @Override public void collectFree(Set<String> out) { out.add(name); }
    }

    record Neg(Expr arg) implements Expr {
        @Override public void collectFree(Set<String> out) { arg.collectFree(out); }
    }

    enum Op { ADD, SUB, MUL, DIV, POW }

    record Bin(Op op, Expr left, Expr right) implements Expr {
        @Override public void collectFree(Set<String> out) { left.collectFree(out); right.collectFree(out); }
    }

    /** A function sympy knows ({@link Numeric#FUNCTIONS}), e.g. sin, log(x, base), root(x, n), factorial. */
    record Call(String function, List<Expr> args) implements Expr {
        @Override public void collectFree(Set<String> out) { for (Expr a : args) a.collectFree(out); }
    }

    /** An undefined function applied to arguments ({@code f(x)}, and {@code n(n-1)} read the way sympy reads it). */
    record Apply(String name, List<Expr> args) implements Expr {
        @Override public void collectFree(Set<String> out) {
            out.add(name + "()");
            for (Expr a : args) a.collectFree(out);
        }
    }

    /**
     * A derivative {@code d(expr)/d(wrt)} as sympy's LaTeX parser builds it from {@code \frac{d...}{dx}}; its free
     * symbols are those of {@code expr}, as sympy counts them.
     */
    record Derivative(Expr expr, String wrt) implements Expr {
        @Override public void collectFree(Set<String> out) { expr.collectFree(out); }
    }

    /** A relation {@code = < > <= >= !=} between two expressions. */
    record Rel(String op, Expr left, Expr right) implements Expr {
        @Override public void collectFree(Set<String> out) { left.collectFree(out); right.collectFree(out); }
    }

    /** sympy's true or false, which a relation between two numbers evaluates to. */
    record Bool(boolean value) implements Expr {
        @Override public void collectFree(Set<String> out) {}
    }

    /** A Python tuple, list or set (parse_expr) or a latex2sympy list: equal only element for element. */
    record Seq(String kind, List<Expr> items) implements Expr {
        @Override public void collectFree(Set<String> out) { for (Expr a : items) a.collectFree(out); }
    }

    /** A matrix (latex2sympy's pmatrix). */
    record Matrix(List<List<Expr>> rows) implements Expr {
        @Override public void collectFree(Set<String> out) { for (List<Expr> r : rows) for (Expr a : r) a.collectFree(out); }
    }

    /** Something parsed that is only ever compared by structure: sums, integrals, limits, bras and kets. */
    record Opaque(String kind, List<Expr> args) implements Expr {
        @Override public void collectFree(Set<String> out) {
            out.add(kind + "()");
            for (Expr a : args) a.collectFree(out);
        }
    }
}
