package dev.rast.eval.grader;

import dev.rast.eval.expr.Equivalence;
import dev.rast.eval.expr.Expr;
import dev.rast.eval.expr.ExprSyntaxException;
import dev.rast.eval.expr.Latex2Sympy;
import dev.rast.eval.expr.LatexParser;
import dev.rast.eval.expr.PythonExprParser;

/**
 * SimpleRL's {@code symbolic_equal}: each side goes to the first parser that accepts it, sympy's
 * {@code parse_latex}, then {@code parse_expr}, then latex2sympy, each tried first on the text with {@code \\}
 * turned into {@code \} and then on the raw text; a side no parser accepts stays text. Two texts are equal only as identical strings,
 * a text never equals a parsed side, and two parsed sides go through {@link Equivalence}.
 */
final class SymbolicEqual {
    private SymbolicEqual() {}

    static boolean equal(String a, String b) { return decide(a, b) != null; }

    /** The rule that found the two equal, or null. */
    static Equivalence.Rule decide(String a, String b) {
        Object x = parse(a), y = parse(b);
        if (x instanceof String sx && y instanceof String sy) return sx.equals(sy) ? Equivalence.Rule.STRUCTURE : null;
        if (!(x instanceof Expr ex) || !(y instanceof Expr ey)) return null;
        return Equivalence.decide(ex, ey);
    }

    /** The parsed answer, or the text itself when no parser accepts it. */
    static Object parse(String s) {
        String unescaped = s.replace("\\\\", "\\");
        try {
            Expr e = tryLatex(unescaped);
            if (e == null) e = tryLatex(s);
            if (e == null) e = tryPython(unescaped);
            if (e == null) e = tryPython(s);
            if (e == null) e = tryLatex2Sympy(unescaped);
            if (e == null) e = tryLatex2Sympy(s);
            return e != null ? e : s;
        } catch (StackOverflowError deep) {
            return s; // absurdly nested input: text, as a parser error would leave it
        }
    }

    private static Expr tryLatex(String s) {
        try {
            return LatexParser.parse(s);
        } catch (ExprSyntaxException e) {
            return null;
        }
    }

    private static Expr tryLatex2Sympy(String s) {
        try {
            return Latex2Sympy.parse(s);
        } catch (ExprSyntaxException e) {
            return null;
        }
    }

    private static Expr tryPython(String s) {
        try {
            return PythonExprParser.parse(s);
        } catch (ExprSyntaxException e) {
            return null;
        }
    }
}
