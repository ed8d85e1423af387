package dev.rast.eval.expr;

import dev.rast.eval.expr.Expr.Apply;
import dev.rast.eval.expr.Expr.Bin;
import dev.rast.eval.expr.Expr.Bool;
import dev.rast.eval.expr.Expr.Call;
import dev.rast.eval.expr.Expr.Const;
import dev.rast.eval.expr.Expr.Neg;
import dev.rast.eval.expr.Expr.Num;
import dev.rast.eval.expr.Expr.Op;
import dev.rast.eval.expr.Expr.Rel;
import dev.rast.eval.expr.Expr.Seq;
import dev.rast.eval.expr.Expr.Sym;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * sympy's {@code parse_expr} with its standard transformations, the grader's second parser: Python syntax
 * ({@code 2**10}, {@code sqrt(2)/2}, {@code (1, 2)}), names from {@code from sympy import *} ({@code pi}, {@code E},
 * {@code I}, {@code sqrt}...), every other name a symbol (an unknown name before parentheses an undefined function),
 * {@code n!} a factorial. No implicit multiplication. Tuples, lists and sets come back as {@link Seq}. What Python
 * cannot evaluate, or what sympy would make complex ({@code I}), is refused.
 */
public final class PythonExprParser {
    private final String s;
    private int pos;

    private PythonExprParser(String s) { this.s = s; }

    public static Expr parse(String text) throws ExprSyntaxException {
        PythonExprParser p = new PythonExprParser(text);
        try {
            Expr e = p.top();
            p.skipWs();
            if (p.pos != p.s.length()) throw p.error("unexpected '" + p.s.charAt(p.pos) + "'");
            return e;
        } catch (ArithmeticException e) {
            throw new ExprSyntaxException("Python cannot evaluate it: " + e.getMessage(), p.pos);
        }
    }

    private static final Map<String, Expr> CONSTANTS = Map.of("pi", Const.PI, "E", Const.E, "oo", Const.OO);
    /** sympy names that are neither constants we evaluate nor functions we know: using them fails. */
    private static final Set<String> SYMPY_OBJECTS = Set.of("I", "zoo", "nan", "N", "S", "O", "Q", "C", "beta", "gamma",
            "zeta", "lambda", "Symbol", "Integer", "Float", "Rational", "Matrix", "Eq", "true", "false", "True", "False",
            "None", "and", "or", "not", "in", "is", "if", "else", "for", "while", "def", "class", "return", "import");
    private static final Map<String, String> FUNCTIONS = Map.ofEntries(Map.entry("sqrt", "sqrt"), Map.entry("sin", "sin"),
            Map.entry("cos", "cos"), Map.entry("tan", "tan"), Map.entry("cot", "cot"), Map.entry("sec", "sec"),
            Map.entry("csc", "csc"), Map.entry("asin", "asin"), Map.entry("acos", "acos"), Map.entry("atan", "atan"),
            Map.entry("acot", "acot"), Map.entry("asec", "asec"), Map.entry("acsc", "acsc"), Map.entry("sinh", "sinh"),
            Map.entry("cosh", "cosh"), Map.entry("tanh", "tanh"), Map.entry("asinh", "asinh"), Map.entry("acosh", "acosh"),
            Map.entry("atanh", "atanh"), Map.entry("exp", "exp"), Map.entry("log", "log"), Map.entry("ln", "log"),
            Map.entry("Abs", "Abs"), Map.entry("floor", "floor"), Map.entry("ceiling", "ceiling"),
            Map.entry("factorial", "factorial"), Map.entry("binomial", "binomial"), Map.entry("root", "root"),
            Map.entry("conjugate", "conjugate"));

    private ExprSyntaxException error(String what) { return new ExprSyntaxException(what, pos); }

    /** A whole input: one expression, or a tuple when there are top-level commas. */
    private Expr top() throws ExprSyntaxException {
        Expr first = comparison();
        skipWs();
        if (!peek(',')) return first;
        List<Expr> items = new ArrayList<>(List.of(first));
        while (peek(',')) {
            pos++;
            skipWs();
            if (pos == s.length()) break;
            items.add(comparison());
            skipWs();
        }
        return new Seq("tuple", items);
    }

    /** One comparison makes a sympy relational (or True/False between numbers); a chain needs bool(), which fails. */
    private Expr comparison() throws ExprSyntaxException {
        Expr left = arith();
        String op = compareOp();
        if (op == null) return left;
        Expr right = arith();
        if (compareOp() != null) throw error("chained comparison");
        if (left instanceof Num a && right instanceof Num b) {
            int c = a.value().compareTo(b.value());
            return new Bool(switch (op) {
                case "<" -> c < 0;
                case "<=" -> c <= 0;
                case ">" -> c > 0;
                case ">=" -> c >= 0;
                case "==" -> c == 0;
                default -> c != 0;
            });
        }
        if (op.equals("==") || op.equals("!=")) return new Bool(op.equals("==") == left.equals(right));
        return new Rel(op, left, right);
    }

    private String compareOp() {
        skipWs();
        for (String op : new String[] {"<=", ">=", "==", "!=", "<", ">"}) {
            if (s.startsWith(op, pos)) { pos += op.length(); return op; }
        }
        return null;
    }

    private Expr arith() throws ExprSyntaxException {
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
            else if (peek('/') || peek('%') || peek('@')) throw error("operator sympy answers do not use");
            else return left;
        }
    }

    private Expr unary() throws ExprSyntaxException {
        skipWs();
        if (peek('+')) { pos++; return unary(); }
        if (peek('-')) {
            pos++;
            Expr e = unary();
            return e instanceof Num n ? new Num(n.value().negate()) : new Neg(e);
        }
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
        if (peek('^')) {
            // XOR in Python: sympy integers take it bitwise; anything else fails
            pos++;
            Expr r = unary();
            if (base instanceof Num a && r instanceof Num b && Numeric.isInteger(a.value()) && Numeric.isInteger(b.value()))
                return new Num(new BigDecimal(a.value().toBigIntegerExact().xor(b.value().toBigIntegerExact())));
            throw error("^ is not a power in Python");
        }
        return base;
    }

    /** sympy's factorial_notation: {@code n!} (not {@code !=}). */
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
        if (pos >= s.length()) throw error("unexpected end");
        char c = s.charAt(pos);
        if (c == '(') return bracket('(', ')', "tuple");
        if (c == '[') return bracket('[', ']', "list");
        if (c == '{') return bracket('{', '}', "set");
        if (c >= '0' && c <= '9' || c == '.' && pos + 1 < s.length() && Character.isDigit(s.charAt(pos + 1))) return number();
        if (Character.isUnicodeIdentifierStart(c) || c == '_') {
            int start = pos;
            pos++;
            while (pos < s.length() && (Character.isUnicodeIdentifierPart(s.charAt(pos)))) pos++;
            String name = s.substring(start, pos);
            skipWs();
            if (peek('(')) return call(name, start);
            if (CONSTANTS.containsKey(name)) return CONSTANTS.get(name);
            if (SYMPY_OBJECTS.contains(name) || FUNCTIONS.containsKey(name)) throw new ExprSyntaxException("sympy object " + name, start);
            return new Sym(name);
        }
        throw error("unexpected '" + c + "'");
    }

    /** Parentheses group or make a tuple; brackets make a list, braces a set ({@code {}} an empty dict). */
    private Expr bracket(char open, char close, String kind) throws ExprSyntaxException {
        pos++;
        List<Expr> items = new ArrayList<>();
        boolean comma = false;
        skipWs();
        while (!peek(close)) {
            items.add(comparison());
            skipWs();
            if (peek(',')) { pos++; comma = true; skipWs(); continue; }
            if (!peek(close)) throw error("expected '" + close + "'");
        }
        pos++;
        if (open == '(' && !comma) {
            if (items.isEmpty()) return new Seq("tuple", items);
            return items.get(0);
        }
        if (open == '{' && items.isEmpty()) return new Seq("dict", items);
        if (open == '{') {
            // a Python set: no order, no repeats, so {1, 2} equals {2, 1}
            java.util.TreeMap<String, Expr> distinct = new java.util.TreeMap<>();
            for (Expr e : items) distinct.putIfAbsent(Printer.print(e), e);
            return new Seq(kind, List.copyOf(distinct.values()));
        }
        return new Seq(kind, items);
    }

    private Expr call(String name, int at) throws ExprSyntaxException {
        pos++; // (
        List<Expr> args = new ArrayList<>();
        skipWs();
        while (!peek(')')) {
            args.add(comparison());
            skipWs();
            if (peek(',')) { pos++; skipWs(); continue; }
            if (!peek(')')) throw error("expected ')'");
        }
        pos++;
        String f = FUNCTIONS.get(name);
        if (f == null) {
            if (CONSTANTS.containsKey(name) || SYMPY_OBJECTS.contains(name)) throw new ExprSyntaxException("calling " + name, at);
            return new Apply(name, args);
        }
        if (f.equals("log") && args.size() == 1) return new Call("log", List.of(args.get(0), Const.E));
        if (f.equals("log") && args.size() == 2) return new Call("log", args);
        if ((f.equals("root") || f.equals("binomial")) && args.size() == 2) return new Call(f, args);
        if (args.size() == 1 && !f.equals("root") && !f.equals("binomial")) return new Call(f, args);
        throw new ExprSyntaxException("wrong arguments for " + name, at);
    }

    /** Python number syntax: digits with single underscores, a fraction, an exponent; hex, octal and binary ints. */
    private Expr number() throws ExprSyntaxException {
        int start = pos;
        if (peek('0') && pos + 1 < s.length() && "xXoObB".indexOf(s.charAt(pos + 1)) >= 0) {
            int radix = switch (Character.toLowerCase(s.charAt(pos + 1))) { case 'x' -> 16; case 'o' -> 8; default -> 2; };
            pos += 2;
            int ds = pos;
            while (pos < s.length() && (Character.digit(s.charAt(pos), radix) >= 0 || s.charAt(pos) == '_')) pos++;
            if (pos == ds) throw error("bad number");
            return new Num(new BigDecimal(new BigInteger(s.substring(ds, pos).replace("_", ""), radix)));
        }
        while (pos < s.length() && (Character.isDigit(s.charAt(pos)) || s.charAt(pos) == '_' || s.charAt(pos) == '.')) pos++;
        boolean exponent = false;
        if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
            int q = pos + 1;
            if (q < s.length() && (s.charAt(q) == '+' || s.charAt(q) == '-')) q++;
            if (q < s.length() && Character.isDigit(s.charAt(q))) {
                pos = q;
                while (pos < s.length() && (Character.isDigit(s.charAt(pos)) || s.charAt(pos) == '_')) pos++;
                exponent = true;
            }
        }
        if (pos < s.length() && (s.charAt(pos) == 'j' || s.charAt(pos) == 'J')) throw error("imaginary literal");
        if (pos < s.length() && Character.isUnicodeIdentifierPart(s.charAt(pos))) throw error("invalid number");
        String lit = s.substring(start, pos);
        boolean isInt = !exponent && lit.indexOf('.') < 0;
        // Python refuses leading zeros in a decimal integer literal other than zero itself
        if (isInt && lit.length() > 1 && lit.charAt(0) == '0' && !lit.replace("_", "").chars().allMatch(ch -> ch == '0'))
            throw error("leading zeros");
        Double check = dev.rast.eval.grader.PyNumbers.parseFloat(lit);
        if (check == null || lit.indexOf('.') != lit.lastIndexOf('.')) throw error("bad number");
        String clean = lit.replace("_", "");
        if (clean.startsWith(".")) clean = "0" + clean;
        if (clean.endsWith(".")) clean = clean + "0";
        return new Num(new BigDecimal(clean));
    }

    private void skipWs() { while (pos < s.length() && (s.charAt(pos) == ' ' || s.charAt(pos) == '\t')) pos++; }

    private boolean peek(char c) { return pos < s.length() && s.charAt(pos) == c; }

    private boolean peekAt(int ahead, char c) { return pos + ahead < s.length() && s.charAt(pos + ahead) == c; }
}
