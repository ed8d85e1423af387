package dev.rast.eval.expr;

import dev.rast.eval.expr.Expr.Bin;
import dev.rast.eval.expr.Expr.Call;
import dev.rast.eval.expr.Expr.Neg;
import dev.rast.eval.expr.Expr.Num;
import dev.rast.eval.expr.Expr.Op;
import dev.rast.eval.expr.Expr.Var;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads Python-syntax math ({@code 2**10}, {@code sqrt(2)/2}, {@code pi/4}): the fallback SimpleRL's grader uses
 * (sympy's {@code parse_expr}) when a string is not LaTeX. As there: {@code **} is power, names are whole
 * identifiers, {@code log} is natural, there is no implicit multiplication, and {@code n!} is a factorial. The
 * {@code ^} operator (XOR in Python) and calls of unknown functions are refused.
 */
public final class PythonExprParser {
    private final String s;
    private int pos;

    private PythonExprParser(String s) { this.s = s; }

    public static Expr parse(String text) throws ExprSyntaxException {
        PythonExprParser p = new PythonExprParser(text);
        Expr e = p.expr();
        p.skipWs();
        if (p.pos != p.s.length()) throw new ExprSyntaxException("unexpected '" + p.s.charAt(p.pos) + "'", p.pos);
        return e;
    }

    private static final Map<String, Double> CONSTANTS =
            Map.of("pi", Math.PI, "E", Math.E, "oo", Double.POSITIVE_INFINITY);
    private static final Map<String, String> ALIASES = Map.of("Abs", "abs", "log", "ln", "ceiling", "ceil",
            "binomial", "binom", "asin", "asin", "acos", "acos", "atan", "atan");

    private Expr expr() throws ExprSyntaxException {
        Expr left = term();
        while (true) {
            skipWs();
            if (peek('+')) { pos++; left = new Bin(Op.ADD, left, term()); }
            else if (peek('-')) { pos++; left = new Bin(Op.SUB, left, term()); }
            else return left;
        }
    }

    private Expr term() throws ExprSyntaxException {
        Expr left = unary();
        while (true) {
            skipWs();
            if (peek('*') && !peekAt(1, '*')) { pos++; left = new Bin(Op.MUL, left, unary()); }
            else if (peek('/') && !peekAt(1, '/')) { pos++; left = new Bin(Op.DIV, left, unary()); }
            else return left;
        }
    }

    private Expr unary() throws ExprSyntaxException {
        skipWs();
        if (peek('+')) { pos++; return unary(); }
        if (peek('-')) { pos++; return new Neg(unary()); }
        return power();
    }

    /** {@code a ** b} binds tighter than a unary minus on its left and is right-associative, as in Python. */
    private Expr power() throws ExprSyntaxException {
        Expr base = postfix();
        skipWs();
        if (peek('*') && peekAt(1, '*')) {
            pos += 2;
            return new Bin(Op.POW, base, unary());
        }
        return base;
    }

    private Expr postfix() throws ExprSyntaxException {
        Expr e = atom();
        while (true) {
            skipWs();
            if (peek('!') && !peekAt(1, '=')) { pos++; e = new Call("factorial", List.of(e)); }
            else return e;
        }
    }

    private Expr atom() throws ExprSyntaxException {
        skipWs();
        if (pos >= s.length()) throw new ExprSyntaxException("unexpected end", pos);
        char c = s.charAt(pos);
        if (c == '(') {
            pos++;
            Expr e = expr();
            skipWs();
            if (!peek(')')) throw new ExprSyntaxException("expected ')'", pos);
            pos++;
            return e;
        }
        if (Character.isDigit(c) || c == '.') return number();
        if (Character.isLetter(c) || c == '_') {
            int start = pos;
            while (pos < s.length() && (Character.isLetterOrDigit(s.charAt(pos)) || s.charAt(pos) == '_')) pos++;
            String name = s.substring(start, pos);
            skipWs();
            if (peek('(')) return call(name);
            if (CONSTANTS.containsKey(name)) return new Num(CONSTANTS.get(name));
            if (name.equals("I")) throw new ExprSyntaxException("complex numbers are not evaluated", start);
            return new Var(name);
        }
        throw new ExprSyntaxException("unexpected '" + c + "'", pos);
    }

    private Expr call(String name) throws ExprSyntaxException {
        int at = pos;
        pos++; // (
        List<Expr> args = new ArrayList<>();
        skipWs();
        if (!peek(')')) {
            while (true) {
                args.add(expr());
                skipWs();
                if (peek(',')) { pos++; continue; }
                break;
            }
        }
        if (!peek(')')) throw new ExprSyntaxException("expected ')'", pos);
        pos++;
        String f = ALIASES.getOrDefault(name, name);
        if (f.equals("ln") && args.size() == 2) return new Call("log", args);
        if (f.equals("root") && args.size() == 2) return new Call("root", args);
        if (f.equals("binom") && args.size() == 2) return new Call("binom", args);
        if (Functions.UNARY.contains(f) && args.size() == 1) return new Call(f, args);
        throw new ExprSyntaxException("unknown function " + name, at);
    }

    /** Python number syntax: digits with single underscores, optional fraction and exponent. */
    private Expr number() throws ExprSyntaxException {
        int start = pos;
        while (pos < s.length() && (Character.isDigit(s.charAt(pos)) || s.charAt(pos) == '_' || s.charAt(pos) == '.')) pos++;
        if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
            int p = pos + 1;
            if (p < s.length() && (s.charAt(p) == '+' || s.charAt(p) == '-')) p++;
            if (p < s.length() && Character.isDigit(s.charAt(p))) {
                pos = p;
                while (pos < s.length() && (Character.isDigit(s.charAt(pos)) || s.charAt(pos) == '_')) pos++;
            }
        }
        Double v = dev.rast.eval.grader.PyNumbers.parseFloat(s.substring(start, pos));
        if (v == null) throw new ExprSyntaxException("bad number", start);
        return new Num(v);
    }

    private void skipWs() { while (pos < s.length() && (s.charAt(pos) == ' ' || s.charAt(pos) == '\t')) pos++; }

    private boolean peek(char c) { return pos < s.length() && s.charAt(pos) == c; }

    private boolean peekAt(int ahead, char c) { return pos + ahead < s.length() && s.charAt(pos + ahead) == c; }
}
