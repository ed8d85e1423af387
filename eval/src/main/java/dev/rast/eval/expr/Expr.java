package dev.rast.eval.expr;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A parsed math expression that can be evaluated in double precision for given values of its free variables.
 * This is all the symbolic step of the grader needs: two answers are equivalent when they agree numerically (see
 * {@link Equivalence}); nothing is simplified.
 */
public sealed interface Expr {
    /** The value for the given variable values; NaN where undefined (sqrt of a negative, 0/0, log of 0...). */
    double eval(Map<String, Double> vars);

    /** Adds the names of the free variables. */
    void collectVars(Set<String> out);

    record Num(double value) implements Expr {
        @Override public double eval(Map<String, Double> vars) { return value; }
        @Override public void collectVars(Set<String> out) {}
    }

    record Var(String name) implements Expr {
        @Override public double eval(Map<String, Double> vars) {
            Double v = vars.get(name);
            return v == null ? Double.NaN : v;
        }
        @Override public void collectVars(Set<String> out) { out.add(name); }
    }

    record Neg(Expr arg) implements Expr {
        @Override public double eval(Map<String, Double> vars) { return -arg.eval(vars); }
        @Override public void collectVars(Set<String> out) { arg.collectVars(out); }
    }

    enum Op { ADD, SUB, MUL, DIV, POW }

    record Bin(Op op, Expr left, Expr right) implements Expr {
        @Override public double eval(Map<String, Double> vars) {
            double a = left.eval(vars), b = right.eval(vars);
            return switch (op) {
                case ADD -> a + b;
                case SUB -> a - b;
                case MUL -> a * b;
                case DIV -> a / b;
                case POW -> Functions.pow(a, b);
            };
        }
        @Override public void collectVars(Set<String> out) { left.collectVars(out); right.collectVars(out); }
    }

    /** A named function from {@link Functions} applied to its arguments. */
    record Call(String function, List<Expr> args) implements Expr {
        @Override public double eval(Map<String, Double> vars) {
            double[] v = new double[args.size()];
            for (int i = 0; i < v.length; i++) v[i] = args.get(i).eval(vars);
            return Functions.apply(function, v);
        }
        @Override public void collectVars(Set<String> out) { for (Expr a : args) a.collectVars(out); }
    }

    /** A top-level relation: {@code =}, {@code <}, {@code >}, {@code <=}, {@code >=}, {@code !=}. */
    record Rel(String op, Expr left, Expr right) implements Expr {
        /** A relation has no value; {@link Equivalence} compares its sides. */
        @Override public double eval(Map<String, Double> vars) { return Double.NaN; }
        @Override public void collectVars(Set<String> out) { left.collectVars(out); right.collectVars(out); }
    }
}
