package dev.rast.eval.grader;

import dev.rast.eval.expr.Equivalence;
import dev.rast.eval.expr.Expr;
import dev.rast.eval.expr.ExprSyntaxException;
import dev.rast.eval.expr.LatexParser;
import dev.rast.eval.expr.PythonExprParser;

/**
 * SimpleRL's {@code symbolic_equal}: parse each side with the first parser that accepts it (LaTeX, then Python
 * syntax), each tried first on the text with {@code \\} turned into {@code \} and then on the raw text. Two
 * unparsable sides are equal only as identical strings; one unparsable side is never equal to a parsed one.
 */
final class SymbolicEqual {
    private SymbolicEqual() {}

    static boolean equal(String a, String b) {
        Expr x = parse(a), y = parse(b);
        if (x == null || y == null) return x == null && y == null && a.equals(b);
        return Equivalence.equivalent(x, y);
    }

    static Expr parse(String s) {
        String unescaped = s.replace("\\\\", "\\");
        try {
            Expr e = tryLatex(unescaped);
            if (e == null) e = tryLatex(s);
            if (e == null) e = tryPython(unescaped);
            if (e == null) e = tryPython(s);
            return e;
        } catch (StackOverflowError deep) {
            return null; // absurdly nested input: treat as text, as a parser error would be
        }
    }

    private static Expr tryLatex(String s) {
        try {
            return LatexParser.parse(s);
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
