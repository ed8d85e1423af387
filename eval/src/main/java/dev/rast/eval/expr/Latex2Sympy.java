package dev.rast.eval.expr;

import dev.rast.eval.expr.Expr.Matrix;
import dev.rast.eval.expr.Expr.Rel;
import dev.rast.eval.expr.Expr.Seq;
import dev.rast.eval.expr.Expr.Sym;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The grader's third parser, the latex2sympy bundled with SimpleRL, for the answers the first two refuse: how it
 * reads them where that decides grades. Its text clean-up first ({@code \displaystyle}, {@code ~}, {@code \,},
 * {@code \quad}, {@code $} become spaces, so {@code 23~} is 23 and {@code {\displaystyle 055}} is 55), then
 * matrices ({@code pmatrix}, {@code bmatrix}), lists ({@code 1, 2}, {@code [a, b]}, {@code \{a, b\}}; not
 * {@code (a, b)}), an assignment {@code x = 5} read as 5, and otherwise an expression in
 * {@link LatexParser}'s latex2sympy reading. Approximate: its grammar is larger than what answers reach it with;
 * what this does not cover is refused, leaving the answer as text.
 */
public final class Latex2Sympy {
    private Latex2Sympy() {}

    /** A matrix at the start, and what follows it: nothing, or text after a point that ends the parse. */
    private static final Pattern MATRIX = Pattern.compile(
            "\\s*\\\\begin\\{([pbv]?matrix)\\}(.*?)\\\\end\\{\\1\\}\\s*(\\..*)?", Pattern.DOTALL);

    public static Expr parse(String text) throws ExprSyntaxException {
        String s = clean(text);
        if (s.isBlank()) throw new ExprSyntaxException("empty", 0);
        Matcher m = MATRIX.matcher(s);
        if (m.matches()) return matrix(m.group(2));
        List<String> items = list(s);
        if (items != null) {
            List<Expr> out = new ArrayList<>();
            for (String item : items) {
                if (item.isBlank()) throw new ExprSyntaxException("empty list item", 0);
                // deciding between a list and a relation, latex2sympy reads past the comma: an unknown character
                // there raises (46.08,\4 is refused, not 46.08)
                if (LatexLexer.latex2sympy(item).errorAt() >= 0) throw new ExprSyntaxException("latex2sympy cannot lex it", 0);
                Expr e = relation(item, true);
                if (e == null) return relation(s, false); // an item that is not a whole relation: no list
                out.add(e);
            }
            return new Seq("list", out);
        }
        return relation(s, false);
    }

    /** latex2sympy's replacements before it parses. */
    static String clean(String s) {
        String t = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac");
        t = t.replace("\\mathrm{T}", "T").replace("\\mathrm{d}", "d").replace("{\\rm d}", "d");
        t = t.replace("\\left[\\begin{matrix}", "\\begin{bmatrix}").replace("\\end{matrix}\\right]", "\\end{bmatrix}");
        t = t.replace("\\displaystyle", " ");
        t = t.replace("\\quad", " ").replace("\\qquad", " ").replace("~", " ").replace("\\,", " ");
        return t.replace("$", " ");
    }

    /**
     * One relation; {@code x = value} assigns and gives the value, other equations latex2sympy would solve (refused).
     * With {@code whole}, null when the text parses only in part.
     */
    private static Expr relation(String s, boolean whole) throws ExprSyntaxException {
        Expr e;
        if (whole) {
            try {
                e = LatexParser.parse(s, true, true);
            } catch (ExprSyntaxException partial) {
                return null;
            }
        } else {
            e = LatexParser.parse(s, true);
        }
        if (e instanceof Rel r && r.op().equals("=")) {
            if (r.left() instanceof Sym) return r.right();
            throw new ExprSyntaxException("latex2sympy solves this equation", 0);
        }
        return e;
    }

    private static Expr matrix(String body) throws ExprSyntaxException {
        List<List<Expr>> rows = new ArrayList<>();
        for (String row : body.split("\\\\\\\\", -1)) {
            if (row.isBlank()) continue;
            List<Expr> cells = new ArrayList<>();
            for (String cell : row.split("&", -1)) cells.add(relation(cell, false));
            rows.add(cells);
        }
        if (rows.isEmpty()) throw new ExprSyntaxException("empty matrix", 0);
        int width = rows.get(0).size();
        for (List<Expr> r : rows) if (r.size() != width) throw new ExprSyntaxException("ragged matrix", 0);
        return new Matrix(rows);
    }

    /**
     * The items of a list, or null when {@code s} is not one: top-level commas (or semicolons), or a list in
     * {@code [ ]}, {@code { }} or {@code \{ \}} at the start, whatever follows it being ignored.
     */
    static List<String> list(String s) {
        String t = s.strip().replace("\\left", "").replace("\\right", "");
        String inner = null;
        for (String[] pair : new String[][] {{"[", "]"}, {"\\{", "\\}"}, {"{", "}"}}) {
            if (t.startsWith(pair[0])) {
                int close = matching(t, pair[0].length(), pair[1]);
                if (close > 0) inner = t.substring(pair[0].length(), close);
                break;
            }
        }
        if (inner != null) {
            List<String> parts = split(inner);
            return parts.size() > 1 ? parts : null;
        }
        List<String> parts = split(t);
        return parts.size() > 1 ? parts : null;
    }

    private static int matching(String t, int from, String close) {
        int depth = 0;
        for (int i = from; i < t.length(); i++) {
            if (depth == 0 && t.startsWith(close, i)) return i;
            char c = t.charAt(i);
            if (c == '(' || c == '[' || c == '{') depth++;
            else if (c == ')' || c == ']' || c == '}') depth--;
            if (depth < 0) return -1;
        }
        return -1;
    }

    /** A comma inside a number: a digit before it, three digits after (latex2sympy's number token is greedy). */
    private static boolean thousands(String t, int i) {
        if (t.charAt(i) != ',' || i == 0 || !Character.isDigit(t.charAt(i - 1))) return false;
        for (int k = 1; k <= 3; k++) if (i + k >= t.length() || !Character.isDigit(t.charAt(i + k))) return false;
        return true;
    }

    private static List<String> split(String t) {
        List<String> parts = new ArrayList<>();
        int depth = 0, start = 0;
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c == '(' || c == '[' || c == '{') depth++;
            else if (c == ')' || c == ']' || c == '}') depth--;
            else if ((c == ',' || c == ';') && depth == 0 && !thousands(t, i)) {
                parts.add(t.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(t.substring(start));
        return parts;
    }
}
