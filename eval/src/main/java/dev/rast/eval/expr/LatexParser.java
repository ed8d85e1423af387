package dev.rast.eval.expr;

import dev.rast.eval.expr.Expr.Bin;
import dev.rast.eval.expr.Expr.Call;
import dev.rast.eval.expr.Expr.Neg;
import dev.rast.eval.expr.Expr.Num;
import dev.rast.eval.expr.Expr.Op;
import dev.rast.eval.expr.Expr.Rel;
import dev.rast.eval.expr.Expr.Var;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the LaTeX math of answers into an {@link Expr}: the role sympy's {@code parse_latex} plays in SimpleRL's
 * grader, with the same conventions where they matter: single letters are variables and juxtaposition multiplies
 * ({@code 2xy}, {@code 3\sqrt{2}}), a number is one token ({@code 2^10} is 1024), {@code \log} without a base is
 * base 10, {@code :} divides, {@code \sin^{-1}} is arcsin, {@code \sin 2x} is sin(2x). Two deliberate departures,
 * toward what the answers mean: {@code \pi} is π and {@code e} is Euler's number (sympy 1.12 keeps both as free
 * symbols), and {@code 4.5e33} is scientific notation (Minerva's golds use it).
 *
 * <p>Grammar, loosest first: relation = expr [relop expr]; expr = term {(+|-) term}; term = unary {(* \cdot
 * \times / \div :) unary}; unary = (+|-) unary | factor {factor}; factor = power {!}; power = primary {^ exponent}.
 */
public final class LatexParser {
    private final String s;
    private int pos;
    private int absDepth;
    private int noFunc;

    private LatexParser(String s) { this.s = s; }

    /** The expression, or an exception when the text is not one (any unknown command, stray symbol...). */
    public static Expr parse(String text) throws ExprSyntaxException {
        LatexParser p = new LatexParser(text);
        Expr e = p.relation();
        p.skipWs();
        if (p.pos != p.s.length()) throw p.error("unexpected '" + p.s.charAt(p.pos) + "'");
        return e;
    }

    private static final Map<String, String> RELATIONS = Map.of("=", "=", "<", "<", ">", ">", "\\le", "<=",
            "\\ge", ">=", "\\ne", "!=", "\\lt", "<", "\\gt", ">", "\\leqslant", "<=", "\\geqslant", ">=");
    private static final Set<String> GREEK = Set.of("alpha", "beta", "gamma", "delta", "epsilon", "varepsilon",
            "zeta", "eta", "theta", "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau",
            "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma",
            "Upsilon", "Phi", "Psi", "Omega");
    private static final Set<String> TRIG = Set.of("sin", "cos", "tan", "sec", "csc", "cot", "sinh", "cosh", "tanh");
    private static final Map<String, String> ARC = Map.of("arcsin", "asin", "arccos", "acos", "arctan", "atan",
            "arcsec", "asec", "arccsc", "acsc", "arccot", "acot", "arsinh", "asinh", "arcosh", "acosh", "artanh", "atanh");

    private ExprSyntaxException error(String what) { return new ExprSyntaxException(what, pos); }

    // ---- grammar ----

    private Expr relation() throws ExprSyntaxException {
        Expr left = expr();
        String op = relop();
        if (op == null) return left;
        Expr right = expr();
        if (relop() != null) throw error("chained relation");
        return new Rel(op, left, right);
    }

    /** Consumes a relation operator and returns its canonical form, or returns null and consumes nothing. */
    private String relop() {
        skipWs();
        if (pos >= s.length()) return null;
        char c = s.charAt(pos);
        if (c == '=' || c == '<' || c == '>') {
            pos++;
            if (c != '=' && pos < s.length() && s.charAt(pos) == '=') { pos++; return c + "="; }
            return String.valueOf(c);
        }
        if (c == '≤') { pos++; return "<="; }
        if (c == '≥') { pos++; return ">="; }
        if (c == '≠') { pos++; return "!="; }
        if (c == '\\') {
            int save = pos;
            String cmd = "\\" + command();
            String op = RELATIONS.get(cmd);
            if (op == null) op = switch (cmd) { case "\\leq" -> "<="; case "\\geq" -> ">="; case "\\neq" -> "!="; default -> null; };
            if (op != null) return op;
            pos = save;
        }
        return null;
    }

    private Expr expr() throws ExprSyntaxException {
        Expr left = term();
        while (true) {
            skipWs();
            if (peekIs('+')) { pos++; left = new Bin(Op.ADD, left, term()); }
            else if (peekIs('-') || peekIs('−')) { pos++; left = new Bin(Op.SUB, left, term()); }
            else return left;
        }
    }

    private Expr term() throws ExprSyntaxException {
        Expr left = unary();
        while (true) {
            skipWs();
            Op op = mulop();
            if (op == null) return left;
            left = new Bin(op, left, unary());
        }
    }

    private Op mulop() {
        if (pos >= s.length()) return null;
        char c = s.charAt(pos);
        if (c == '*' && !(pos + 1 < s.length() && s.charAt(pos + 1) == '*')) { pos++; return Op.MUL; }
        if (c == '×' || c == '·') { pos++; return Op.MUL; }
        if (c == '/' || c == ':' || c == '÷') { pos++; return Op.DIV; }
        if (c == '\\') {
            int save = pos;
            String cmd = command();
            if (cmd.equals("cdot") || cmd.equals("times") || cmd.equals("ast")) return Op.MUL;
            if (cmd.equals("div")) return Op.DIV;
            pos = save;
        }
        return null;
    }

    private Expr unary() throws ExprSyntaxException {
        skipWs();
        if (peekIs('+')) { pos++; return unary(); }
        if (peekIs('-') || peekIs('−')) { pos++; return new Neg(unary()); }
        return implicitProduct();
    }

    /** Factors written side by side multiply; a lone x between two constant factors is a times sign (as sympy). */
    private Expr implicitProduct() throws ExprSyntaxException {
        List<Expr> factors = new ArrayList<>();
        factors.add(factor());
        while (startsFactor()) factors.add(factor());
        for (int i = factors.size() - 2; i >= 1; i--) {
            if (factors.get(i) instanceof Var v && v.name().equals("x")
                    && noVars(factors.get(i - 1)) && noVars(factors.get(i + 1))) factors.remove(i);
        }
        Expr e = factors.get(0);
        for (int i = 1; i < factors.size(); i++) e = new Bin(Op.MUL, e, factors.get(i));
        return e;
    }

    private static boolean noVars(Expr e) {
        Set<String> vs = new HashSet<>();
        e.collectVars(vs);
        return vs.isEmpty();
    }

    private boolean startsFactor() {
        skipWs();
        if (pos >= s.length()) return false;
        char c = s.charAt(pos);
        if (c == '.') return pos + 1 < s.length() && Character.isDigit(s.charAt(pos + 1));
        if (isLetter(c) || Character.isDigit(c) || c == '(' || c == '[' || c == '{' || c == 'π' || c == '∞') return true;
        if (c == '|') return absDepth == 0;
        if (c == '\\') {
            int save = pos;
            String cmd = command();
            pos = save;
            if (RELATIONS.containsKey("\\" + cmd)) return false;
            return switch (cmd) {
                case "cdot", "times", "ast", "div", "rfloor", "rceil", "leq", "geq", "neq" -> false;
                default -> noFunc == 0 || !isFunction(cmd);
            };
        }
        return false;
    }

    private static boolean isFunction(String cmd) {
        return TRIG.contains(cmd) || ARC.containsKey(cmd) || cmd.equals("log") || cmd.equals("ln") || cmd.equals("exp");
    }

    private Expr factor() throws ExprSyntaxException {
        Expr e = power();
        while (true) {
            skipWs();
            if (!peekIs('!')) return e;
            pos++;
            e = new Call("factorial", List.of(e));
        }
    }

    private Expr power() throws ExprSyntaxException {
        Expr base = primary();
        while (true) {
            skipWs();
            if (!peekIs('^')) return base;
            pos++;
            base = new Bin(Op.POW, base, exponent());
        }
    }

    /** After ^: a braced expression, one number token, one letter, one command atom, or a signed one. */
    private Expr exponent() throws ExprSyntaxException {
        skipWs();
        if (peekIs('{')) return braced();
        if (peekIs('-')) { pos++; return new Neg(exponent()); }
        if (peekIs('+')) { pos++; return exponent(); }
        return primary();
    }

    private Expr braced() throws ExprSyntaxException {
        expect('{');
        Expr e = expr();
        expect('}');
        return e;
    }

    /** A \frac or \sqrt argument: a braced expression or, TeX-style, a single character or command atom. */
    private Expr singleArg() throws ExprSyntaxException {
        skipWs();
        if (peekIs('{')) return braced();
        if (pos >= s.length()) throw error("missing argument");
        char c = s.charAt(pos);
        if (Character.isDigit(c)) { pos++; return new Num(Character.digit(c, 10)); }
        if (isLetter(c)) { pos++; return letter(c); }
        if (c == '\\') return primary();
        throw error("bad argument");
    }

    private Expr primary() throws ExprSyntaxException {
        skipWs();
        if (pos >= s.length()) throw error("unexpected end");
        char c = s.charAt(pos);
        if (Character.isDigit(c) || (c == '.' && pos + 1 < s.length() && Character.isDigit(s.charAt(pos + 1)))) return number();
        if (isLetter(c)) { pos++; return variable(c); }
        if (c == 'π') { pos++; return new Num(Math.PI); }
        if (c == '∞') { pos++; return new Num(Double.POSITIVE_INFINITY); }
        if (c == '(' || c == '[' || c == '{') {
            pos++;
            return bracketed(c == '(' ? ')' : c == '[' ? ']' : '}');
        }
        if (c == '|') {
            pos++;
            absDepth++;
            Expr e = expr();
            absDepth--;
            expect('|');
            return new Call("abs", List.of(e));
        }
        if (c == '\\') return commandPrimary();
        throw error("unexpected '" + c + "'");
    }

    /**
     * The expression after an opening bracket, up to {@code close}. Inside brackets the outer context no longer
     * applies: a {@code |} opens a new absolute value rather than closing an outer one, and functions are allowed
     * again even inside an unparenthesized function argument.
     */
    private Expr bracketed(char close) throws ExprSyntaxException {
        int saveAbs = absDepth, saveNoFunc = noFunc;
        absDepth = 0;
        noFunc = 0;
        Expr e = expr();
        absDepth = saveAbs;
        noFunc = saveNoFunc;
        expect(close);
        return e;
    }

    private static boolean isLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

    /** A letter with an optional subscript ({@code x_1}, {@code a_{n+1}}) and primes. */
    private Expr variable(char c) throws ExprSyntaxException {
        String name = String.valueOf(c) + subscriptAndPrimes();
        return name.equals("e") ? new Num(Math.E) : new Var(name);
    }

    private Expr letter(char c) { return c == 'e' ? new Num(Math.E) : new Var(String.valueOf(c)); }

    private String subscriptAndPrimes() throws ExprSyntaxException {
        StringBuilder sb = new StringBuilder();
        skipWs();
        if (peekIs('_')) {
            pos++;
            skipWs();
            if (peekIs('{')) {
                int start = ++pos, depth = 1;
                while (pos < s.length() && depth > 0) {
                    char d = s.charAt(pos++);
                    if (d == '{') depth++;
                    else if (d == '}') depth--;
                }
                if (depth != 0) throw error("unclosed subscript");
                sb.append("_{").append(s, start, pos - 1).append('}');
            } else if (pos < s.length() && (Character.isLetterOrDigit(s.charAt(pos)))) {
                sb.append("_{").append(s.charAt(pos++)).append('}');
            } else if (peekIs('\\')) {
                sb.append("_{\\").append(command()).append('}');
            } else {
                throw error("bad subscript");
            }
        }
        while (peekIs('\'')) { sb.append('\''); pos++; }
        return sb.toString();
    }

    /** Digits with optional thousands groups ({@code 1,000}), decimals, and an exponent ({@code 4.5e33}). */
    private Expr number() {
        StringBuilder digits = new StringBuilder();
        while (pos < s.length() && Character.isDigit(s.charAt(pos))) digits.append(s.charAt(pos++));
        while (pos < s.length() && s.charAt(pos) == ',' && allDigits(pos + 1, 3)) {
            digits.append(s, pos + 1, pos + 4);
            pos += 4;
        }
        if (pos + 1 < s.length() && s.charAt(pos) == '.' && Character.isDigit(s.charAt(pos + 1))) {
            digits.append('.');
            pos++;
            while (pos < s.length() && Character.isDigit(s.charAt(pos))) digits.append(s.charAt(pos++));
        }
        int save = pos;
        if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
            int p = pos + 1;
            if (p < s.length() && (s.charAt(p) == '+' || s.charAt(p) == '-')) p++;
            if (p < s.length() && Character.isDigit(s.charAt(p))) {
                digits.append('e').append(s, pos + 1, p);
                pos = p;
                while (pos < s.length() && Character.isDigit(s.charAt(pos))) digits.append(s.charAt(pos++));
            } else {
                pos = save;
            }
        }
        StringBuilder ascii = new StringBuilder();
        for (int i = 0; i < digits.length(); i++) {
            char d = digits.charAt(i);
            ascii.append(Character.isDigit(d) ? (char) ('0' + Character.digit(d, 10)) : d);
        }
        return new Num(Double.parseDouble(ascii.toString()));
    }

    private boolean allDigits(int from, int n) {
        if (from + n > s.length()) return false;
        for (int i = from; i < from + n; i++) if (!Character.isDigit(s.charAt(i))) return false;
        return true;
    }

    private Expr commandPrimary() throws ExprSyntaxException {
        String cmd = command();
        switch (cmd) {
            case "frac", "dfrac", "tfrac", "cfrac" -> {
                Expr num = singleArg();
                Expr den = singleArg();
                return new Bin(Op.DIV, num, den);
            }
            case "sqrt" -> {
                skipWs();
                if (peekIs('[')) {
                    pos++;
                    Expr n = expr();
                    expect(']');
                    return new Call("root", List.of(singleArg(), n));
                }
                return new Call("sqrt", List.of(singleArg()));
            }
            case "binom", "dbinom", "tbinom" -> {
                Expr n = singleArg();
                return new Call("binom", List.of(n, singleArg()));
            }
            case "pi" -> { return new Num(Math.PI); }
            case "infty", "infin" -> { return new Num(Double.POSITIVE_INFINITY); }
            case "lfloor" -> { return closedBy("floor", "rfloor"); }
            case "lceil" -> { return closedBy("ceil", "rceil"); }
            case "mathrm", "mathit", "mathbf", "boldsymbol", "operatorname" -> { return braced(); }
            default -> {
                if (GREEK.contains(cmd)) return new Var("\\" + cmd + subscriptAndPrimes());
                if (isFunction(cmd)) {
                    if (noFunc > 0) throw error("function inside an unparenthesized function argument");
                    return function(cmd);
                }
                throw error("unknown command \\" + cmd);
            }
        }
    }

    private Expr closedBy(String function, String closer) throws ExprSyntaxException {
        int saveAbs = absDepth;
        absDepth = 0;
        Expr e = expr();
        absDepth = saveAbs;
        skipWs();
        if (!peekIs('\\') || !command().equals(closer)) throw error("expected \\" + closer);
        return new Call(function, List.of(e));
    }

    /** {@code \sin^2 x}, {@code \sin^{-1}(x)}, {@code \log_2 8}, {@code \ln(x)}, {@code \exp x}. */
    private Expr function(String cmd) throws ExprSyntaxException {
        Expr base = null, pow = null;
        for (int i = 0; i < 2; i++) {
            skipWs();
            if (peekIs('_') && cmd.equals("log") && base == null) { pos++; base = exponent(); }
            else if (peekIs('^') && pow == null) { pos++; pow = exponent(); }
        }
        Expr arg = functionArgument();
        String name = ARC.getOrDefault(cmd, cmd);
        boolean inverse = pow instanceof Neg n && n.arg() instanceof Num one && one.value() == 1 && TRIG.contains(cmd);
        Expr call = switch (name) {
            case "log" -> new Call("log", List.of(arg, base != null ? base : new Num(10)));
            case "ln" -> new Call("ln", List.of(arg));
            default -> new Call(inverse ? "a" + name : name, List.of(arg));
        };
        return pow == null || inverse ? call : new Bin(Op.POW, call, pow);
    }

    /** {@code (expr)}, or without parentheses a product of factors that contain no further function. */
    private Expr functionArgument() throws ExprSyntaxException {
        skipWs();
        if (peekIs('(')) {
            pos++;
            return bracketed(')');
        }
        noFunc++;
        try {
            return term();
        } finally {
            noFunc--;
        }
    }

    // ---- lexical helpers ----

    /** Reads the command name after a backslash at pos: letters, or one non-letter character. */
    private String command() {
        pos++; // the backslash
        int start = pos;
        while (pos < s.length() && isLetter(s.charAt(pos))) pos++;
        if (pos == start && pos < s.length()) pos++;
        return s.substring(start, pos);
    }

    /** Skips whitespace, TeX spacing commands and {@code \left}/{@code \right} (delimiter sizes). */
    private void skipWs() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (Character.isWhitespace(c) || c == '~' || c == '\u00a0') { pos++; continue; }
            if (c == '\\' && pos + 1 < s.length()) {
                char d = s.charAt(pos + 1);
                if (d == ',' || d == ';' || d == ':' || d == '!' || d == ' ') { pos += 2; continue; }
                int save = pos;
                String cmd = command();
                if (cmd.equals("quad") || cmd.equals("qquad") || cmd.equals("left") || cmd.equals("right")
                        || cmd.equals("displaystyle")) continue;
                pos = save;
            }
            return;
        }
    }

    private boolean peekIs(char c) { return pos < s.length() && s.charAt(pos) == c; }

    private void expect(char c) throws ExprSyntaxException {
        skipWs();
        if (!peekIs(c)) throw error("expected '" + c + "'");
        pos++;
    }
}
