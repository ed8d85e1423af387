package dev.rast.eval.expr;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The tokens of sympy 1.12's LaTeX grammar ({@code sympy/parsing/latex/LaTeX.g4}, which SimpleRL's grader reaches
 * through {@code parse_latex}), with ANTLR's lexer rules: the longest match wins, a tie goes to the rule declared
 * first. Spacing commands, {@code \left}, {@code \right} and a few others are skipped. A character no rule matches
 * ends the token list with an error; sympy raises on it only when the parser reads that far (ANTLR lexes lazily),
 * so the parser, not the lexer, decides whether the error counts ({@link #errorAt}).
 */
final class LatexLexer {
    enum T {
        COMMA, DOT, ADD, SUB, MUL, DIV, L_PAREN, R_PAREN, L_BRACE, R_BRACE, L_BRACE_LITERAL, R_BRACE_LITERAL,
        L_BRACKET, R_BRACKET, BAR, R_BAR, L_BAR, L_ANGLE, R_ANGLE, FUNC_LIM, LIM_APPROACH_SYM, FUNC_INT, FUNC_SUM,
        FUNC_PROD, FUNC, L_FLOOR, R_FLOOR, L_CEIL, R_CEIL, FUNC_SQRT, FUNC_OVERLINE, CMD_TIMES, CMD_CDOT, CMD_DIV,
        CMD_FRAC, CMD_BINOM, CMD_MATHIT, UNDERSCORE, CARET, COLON, DIFFERENTIAL, LETTER, DIGIT, EQUAL, NEQ, LT, LTE,
        GT, GTE, BANG, SINGLE_QUOTES, SYMBOL, EOF,
        /** latex2sympy only: {@code \\}, {@code ;}, {@code &} and {@code \%}, tokens it has and parse_latex has not. */
        L2S_ROW, L2S_SEMICOLON, L2S_AMPERSAND, L2S_PERCENT
    }

    /** A token: its type, its text, and where it starts and ends in the input. */
    record Token(T type, String text, int start, int end) {}

    /** Commands matched by a fixed rule of the grammar (those tied in length with SYMBOL win, being declared first). */
    private static final Map<String, T> COMMANDS = Map.ofEntries(
            Map.entry("langle", T.L_ANGLE), Map.entry("rangle", T.R_ANGLE), Map.entry("lim", T.FUNC_LIM),
            Map.entry("to", T.LIM_APPROACH_SYM), Map.entry("rightarrow", T.LIM_APPROACH_SYM),
            Map.entry("Rightarrow", T.LIM_APPROACH_SYM), Map.entry("longrightarrow", T.LIM_APPROACH_SYM),
            Map.entry("Longrightarrow", T.LIM_APPROACH_SYM), Map.entry("int", T.FUNC_INT), Map.entry("sum", T.FUNC_SUM),
            Map.entry("prod", T.FUNC_PROD), Map.entry("lfloor", T.L_FLOOR), Map.entry("rfloor", T.R_FLOOR),
            Map.entry("lceil", T.L_CEIL), Map.entry("rceil", T.R_CEIL), Map.entry("sqrt", T.FUNC_SQRT),
            Map.entry("overline", T.FUNC_OVERLINE), Map.entry("times", T.CMD_TIMES), Map.entry("cdot", T.CMD_CDOT),
            Map.entry("div", T.CMD_DIV), Map.entry("frac", T.CMD_FRAC), Map.entry("dfrac", T.CMD_FRAC),
            Map.entry("tfrac", T.CMD_FRAC), Map.entry("binom", T.CMD_BINOM), Map.entry("dbinom", T.CMD_BINOM),
            Map.entry("tbinom", T.CMD_BINOM), Map.entry("mathit", T.CMD_MATHIT), Map.entry("neq", T.NEQ),
            Map.entry("leq", T.LTE), Map.entry("le", T.LTE), Map.entry("leqq", T.LTE), Map.entry("leqslant", T.LTE),
            Map.entry("geq", T.GTE), Map.entry("ge", T.GTE), Map.entry("geqq", T.GTE), Map.entry("geqslant", T.GTE));
    /** The grammar's func_normal names. */
    static final List<String> FUNCTIONS = List.of("exp", "log", "lg", "ln", "sin", "cos", "tan", "csc", "sec", "cot",
            "arcsin", "arccos", "arctan", "arccsc", "arcsec", "arccot", "sinh", "cosh", "tanh", "arsinh", "arcosh", "artanh");
    /** Commands the grammar skips: spacing, sizing, and its IGNORE list. */
    private static final List<String> SKIPPED = List.of("thinspace", "medspace", "thickspace", "quad", "qquad",
            "negthinspace", "negmedspace", "negthickspace", "left", "right", "vrule", "vcenter", "vbox", "vskip",
            "vspace", "hfil");

    private final List<Token> tokens = new ArrayList<>();
    private final boolean l2s;
    private int errorAt = -1;

    private LatexLexer(String s, boolean l2s) {
        this.l2s = l2s;
        lex(s);
    }

    /** The tokens of {@code s} up to the first character no rule matches, then EOF (or the error). */
    static LatexLexer of(String s) { return new LatexLexer(s, false); }

    /** As latex2sympy's lexer also knows {@code \\}, {@code ;}, {@code &} and {@code \%}. */
    static LatexLexer latex2sympy(String s) { return new LatexLexer(s, true); }

    List<Token> tokens() { return tokens; }

    /** The index of the token the lexer fails on (reading it raises), or -1 when the whole text lexes. */
    int errorAt() { return errorAt; }

    private static boolean letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

    private static boolean ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

    private void add(T t, String s, int from, int to) { tokens.add(new Token(t, s.substring(from, to), from, to)); }

    private void lex(String s) {
        int n = s.length(), i = 0;
        while (i < n) {
            char c = s.charAt(i);
            if (ws(c)) { i++; continue; }
            if (c == '\\') {
                int j = i + 1;
                while (j < n && letter(s.charAt(j))) j++;
                if (j == i + 1) {
                    // backslash and one non-letter: spacing, the IGNORE list, or literal braces
                    if (j >= n) { fail(); return; }
                    char d = s.charAt(j);
                    if (",:;!*-./\"(=".indexOf(d) >= 0) { i = j + 1; continue; }
                    if (d == '{') { add(T.L_BRACE_LITERAL, s, i, j + 1); i = j + 1; continue; }
                    if (d == '}') { add(T.R_BRACE_LITERAL, s, i, j + 1); i = j + 1; continue; }
                    if (l2s && d == '\\') { add(T.L2S_ROW, s, i, j + 1); i = j + 1; continue; }
                    if (l2s && d == '%' && !tokens.isEmpty() && tokens.get(tokens.size() - 1).type() == T.DIGIT
                            && tokens.get(tokens.size() - 1).end() == i) {
                        add(T.L2S_PERCENT, s, i, j + 1); // part of latex2sympy's percent number 12\%
                        i = j + 1;
                        continue;
                    }
                    fail();
                    return;
                }
                String name = s.substring(i + 1, j);
                if (name.equals("int") && s.startsWith("\\limits", j)) { add(T.FUNC_INT, s, i, j + 7); i = j + 7; continue; }
                if (name.equals("right") && j < n && s.charAt(j) == '|') { add(T.R_BAR, s, i, j + 1); i = j + 1; continue; }
                if (name.equals("left") && j < n && s.charAt(j) == '|') { add(T.L_BAR, s, i, j + 1); i = j + 1; continue; }
                if (SKIPPED.contains(name)) { i = j; continue; }
                T t = COMMANDS.get(name);
                if (t == null) t = FUNCTIONS.contains(name) ? T.FUNC : T.SYMBOL;
                add(t, s, i, j);
                i = j;
                continue;
            }
            if (c == 'd') {
                // DIFFERENTIAL: d, optional whitespace, then a letter or a command (longer than LETTER d)
                int j = i + 1;
                while (j < n && ws(s.charAt(j))) j++;
                if (j < n && letter(s.charAt(j))) { add(T.DIFFERENTIAL, s, i, j + 1); i = j + 1; continue; }
                if (j + 1 < n && s.charAt(j) == '\\' && letter(s.charAt(j + 1))) {
                    int k = j + 1;
                    while (k < n && letter(s.charAt(k))) k++;
                    add(T.DIFFERENTIAL, s, i, k);
                    i = k;
                    continue;
                }
            }
            if (letter(c)) { add(T.LETTER, s, i, i + 1); i++; continue; }
            if (c >= '0' && c <= '9') { add(T.DIGIT, s, i, i + 1); i++; continue; }
            if (c == '&') {
                int j = i + 1;
                while (j < n && ws(s.charAt(j))) j++;
                if (j < n && s.charAt(j) == '=') { add(T.EQUAL, s, i, j + 1); i = j + 1; continue; }
                if (l2s) { add(T.L2S_AMPERSAND, s, i, i + 1); i++; continue; }
                fail();
                return;
            }
            if (l2s && c == ';') { add(T.L2S_SEMICOLON, s, i, i + 1); i++; continue; }
            if (c == '\'') {
                int j = i;
                while (j < n && s.charAt(j) == '\'') j++;
                add(T.SINGLE_QUOTES, s, i, j);
                i = j;
                continue;
            }
            T t = switch (c) {
                case ',' -> T.COMMA;
                case '.' -> T.DOT;
                case '+' -> T.ADD;
                case '-' -> T.SUB;
                case '*' -> T.MUL;
                case '/' -> T.DIV;
                case '(' -> T.L_PAREN;
                case ')' -> T.R_PAREN;
                case '{' -> T.L_BRACE;
                case '}' -> T.R_BRACE;
                case '[' -> T.L_BRACKET;
                case ']' -> T.R_BRACKET;
                case '|' -> T.BAR;
                case '_' -> T.UNDERSCORE;
                case '^' -> T.CARET;
                case ':' -> T.COLON;
                case '=' -> T.EQUAL;
                case '<' -> T.LT;
                case '>' -> T.GT;
                case '!' -> T.BANG;
                default -> null;
            };
            if (t == null) { fail(); return; }
            add(t, s, i, i + 1);
            i++;
        }
        tokens.add(new Token(T.EOF, "", n, n));
    }

    private void fail() {
        errorAt = tokens.size();
        tokens.add(new Token(T.EOF, "", -1, -1));
    }
}
