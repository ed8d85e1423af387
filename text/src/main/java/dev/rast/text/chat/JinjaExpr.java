package dev.rast.text.chat;

import dev.rast.text.Py;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The expression inside one Jinja tag, as tokens, with the rewrites that make Jinja2 syntax Jinjava lacks run on
 * Jinjava:
 * <ul>
 *   <li>string literals are decoded with Python's escape rules (backslash n, t, x41, u00e9, U0001F600, octal, N{name};
 *       unknown escapes kept) and re-quoted in the only form Jinjava reads the same way (just {@code \\} and {@code \'});
 *   <li>slices {@code x[a:b:c]} (any part omitted, negative, or a step) become {@code rast_slice(x, a, b, c)};
 *   <li>keyword arguments {@code f(k=expr)} get parentheses, {@code f(k=(expr))}, because Jinjava binds {@code =}
 *       tighter than arithmetic ({@code namespace(i=messages|length - 1)} would otherwise subtract from the
 *       parameter object);
 *   <li>dict literals {@code {k: v}} become {@code rast_dict([k, v])} (Jinjava mistakes a parenthesized dict literal
 *       with commas for a tuple, and ends a tag at the "}}" of a nested one);
 *   <li>{@code True}/{@code False}/{@code None} become Jinjava's lower-case literals.
 * </ul>
 * Whitespace tokens are kept, so line numbers inside a tag stay where they were.
 */
final class JinjaExpr {
    private JinjaExpr() {}

    enum Kind { WS, NAME, NUM, STR, OP }

    record Tok(Kind kind, String text) {
        boolean is(String op) { return kind == Kind.OP && text.equals(op); }
        boolean name(String n) { return kind == Kind.NAME && text.equals(n); }
    }

    /** Raised for a lexical error inside a tag; ChatTemplate turns it into a BadInputException with the line. */
    static final class SyntaxError extends RuntimeException {
        SyntaxError(String message) { super(message); }
    }

    private static final Set<String> KEYWORDS = Set.of("and", "or", "not", "in", "is", "if", "elif", "else",
            "for", "set", "recursive", "print", "with", "import", "from", "as", "include", "filter", "call", "macro",
            "do", "block", "extends", "return");

    private static final String[] OPERATORS = {"//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~",
            "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"};

    /** Splits a tag's inside into Jinja2 tokens (its lexer's rules: whitespace, numbers, names, strings, operators). */
    static List<Tok> tokenize(String s) {
        List<Tok> out = new ArrayList<>();
        int i = 0, n = s.length();
        while (i < n) {
            int c = s.codePointAt(i);
            int j = i;
            if (Py.isSpace(c)) {
                while (j < n && Py.isSpace(s.codePointAt(j))) j += Character.charCount(s.codePointAt(j));
                out.add(new Tok(Kind.WS, s.substring(i, j)));
            } else if (c == '\'' || c == '"') {
                j = i + 1;
                while (j < n && s.charAt(j) != c) j += s.charAt(j) == '\\' ? 2 : 1;
                if (j >= n) throw new SyntaxError("unterminated string literal");
                j++;
                out.add(new Tok(Kind.STR, s.substring(i, j)));
            } else if (c >= '0' && c <= '9') {
                while (j < n && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_'
                        || (s.charAt(j) == '.' && j + 1 < n && Character.isDigit(s.charAt(j + 1)))
                        || ((s.charAt(j) == '+' || s.charAt(j) == '-') && (s.charAt(j - 1) == 'e' || s.charAt(j - 1) == 'E'))))
                    j++;
                out.add(new Tok(Kind.NUM, s.substring(i, j)));
            } else if (Character.isUnicodeIdentifierStart(c) || c == '_') {
                while (j < n && (Character.isUnicodeIdentifierPart(s.codePointAt(j)) && !Py.isSpace(s.codePointAt(j))))
                    j += Character.charCount(s.codePointAt(j));
                out.add(new Tok(Kind.NAME, s.substring(i, j)));
            } else {
                String op = null;
                for (String o : OPERATORS) if (s.startsWith(o, i)) { op = o; break; }
                if (op == null) throw new SyntaxError("unexpected character '" + Character.toString(c) + "'");
                j = i + op.length();
                out.add(new Tok(Kind.OP, op));
            }
            i = j;
        }
        return out;
    }

    /** Applies all rewrites and joins the tokens back into source text for Jinjava. */
    static String rewrite(List<Tok> toks, boolean rewriteKwargs) {
        StringBuilder sb = new StringBuilder();
        for (Tok t : process(toks, 0, toks.size(), rewriteKwargs)) sb.append(t.text);
        return sb.toString();
    }

    private static List<Tok> process(List<Tok> in, int from, int to, boolean kwargs) {
        List<Tok> out = new ArrayList<>();
        int i = from;
        while (i < to) {
            Tok t = in.get(i);
            if (t.kind == Kind.OP && (t.text.equals("[") || t.text.equals("(") || t.text.equals("{"))) {
                int close = matchClose(in, i, to);
                List<Tok> inner = process(in, i + 1, close, kwargs);
                if (t.is("[")) {
                    List<List<Tok>> parts = splitTop(inner, ":");
                    int start = parts.size() > 1 ? operandStart(out) : -1;
                    if (parts.size() > 3) throw new SyntaxError("a slice has at most three parts");
                    if (start >= 0) {
                        List<Tok> operand = new ArrayList<>(out.subList(start, out.size()));
                        out.subList(start, out.size()).clear();
                        out.add(new Tok(Kind.NAME, "rast_slice"));
                        out.add(new Tok(Kind.OP, "("));
                        out.addAll(operand);
                        for (int p = 0; p < 3; p++) {
                            out.add(new Tok(Kind.OP, ","));
                            List<Tok> part = p < parts.size() ? parts.get(p) : List.of();
                            if (part.stream().allMatch(x -> x.kind == Kind.WS)) out.add(new Tok(Kind.NAME, "none"));
                            else out.addAll(part);
                        }
                        out.add(new Tok(Kind.OP, ")"));
                    } else {
                        if (parts.size() > 1) throw new SyntaxError("a slice needs something to slice");
                        out.add(t);
                        out.addAll(inner);
                        out.add(in.get(close));
                    }
                } else if (t.is("{")) {
                    out.addAll(dictCall(inner));
                } else {
                    if (kwargs && isCall(out)) inner = parenthesizeKwargs(inner);
                    out.add(t);
                    out.addAll(inner);
                    out.add(in.get(close));
                }
                i = close + 1;
                continue;
            }
            if (t.kind == Kind.OP && (t.text.equals("]") || t.text.equals(")") || t.text.equals("}")))
                throw new SyntaxError("unexpected '" + t.text + "'");
            if (t.kind == Kind.STR) {
                out.add(new Tok(Kind.STR, jinjavaQuote(decodePythonString(t.text))));
            } else if (t.kind == Kind.NAME && (t.text.equals("True") || t.text.equals("False") || t.text.equals("None"))
                    && !prevIsDot(out)) {
                out.add(new Tok(Kind.NAME, t.text.toLowerCase(java.util.Locale.ROOT)));
            } else {
                out.add(t);
            }
            i++;
        }
        return out;
    }

    private static int matchClose(List<Tok> in, int open, int to) {
        int depth = 0;
        for (int i = open; i < to; i++) {
            Tok t = in.get(i);
            if (t.kind != Kind.OP) continue;
            switch (t.text) {
                case "[", "(", "{" -> depth++;
                case "]", ")", "}" -> {
                    if (--depth == 0) {
                        String want = switch (in.get(open).text) { case "[" -> "]"; case "(" -> ")"; default -> "}"; };
                        if (!t.text.equals(want))
                            throw new SyntaxError("unexpected '" + t.text + "', expected '" + want + "'");
                        return i;
                    }
                }
                default -> {}
            }
        }
        throw new SyntaxError("'" + in.get(open).text + "' is never closed");
    }

    /** Splits already-processed tokens on a separator at bracket depth 0. */
    private static List<List<Tok>> splitTop(List<Tok> toks, String sep) {
        List<List<Tok>> parts = new ArrayList<>();
        List<Tok> cur = new ArrayList<>();
        int depth = 0;
        for (Tok t : toks) {
            if (t.kind == Kind.OP) {
                switch (t.text) {
                    case "[", "(", "{" -> depth++;
                    case "]", ")", "}" -> depth--;
                    default -> {}
                }
                if (depth == 0 && t.text.equals(sep)) {
                    parts.add(cur);
                    cur = new ArrayList<>();
                    continue;
                }
            }
            cur.add(t);
        }
        parts.add(cur);
        return parts;
    }

    /**
     * A dict literal {@code {k: v, ...}} as {@code rast_dict([k, v, ...])}: Jinjava reads a parenthesized expression
     * holding a dict literal with commas as a tuple ({@code ({'a': 1, 'b': 2})} is a one-element list there).
     */
    private static List<Tok> dictCall(List<Tok> inner) {
        List<Tok> out = new ArrayList<>(tokenize("rast_dict(["));
        boolean first = true;
        for (List<Tok> entry : splitTop(inner, ",")) {
            if (entry.stream().allMatch(x -> x.kind == Kind.WS)) continue; // {'a': 1,} allows a trailing comma
            List<List<Tok>> kv = splitTop(entry, ":");
            if (kv.size() != 2) throw new SyntaxError("a dict entry must be 'key: value'");
            if (!first) out.add(new Tok(Kind.OP, ","));
            first = false;
            out.addAll(kv.get(0));
            out.add(new Tok(Kind.OP, ","));
            out.addAll(kv.get(1));
        }
        out.addAll(tokenize("])"));
        return out;
    }

    /** {@code k=expr} arguments become {@code k=(expr)}; positional ones are left alone. */
    private static List<Tok> parenthesizeKwargs(List<Tok> inner) {
        List<List<Tok>> args = splitTop(inner, ",");
        List<Tok> out = new ArrayList<>();
        for (int a = 0; a < args.size(); a++) {
            if (a > 0) out.add(new Tok(Kind.OP, ","));
            List<Tok> arg = args.get(a);
            int k = nextNonWs(arg, 0), eq = k < 0 ? -1 : nextNonWs(arg, k + 1);
            if (k >= 0 && eq >= 0 && arg.get(k).kind == Kind.NAME && arg.get(eq).is("=")
                    && arg.subList(eq + 1, arg.size()).stream().anyMatch(x -> x.kind != Kind.WS)) {
                out.addAll(arg.subList(0, eq + 1));
                out.add(new Tok(Kind.OP, "("));
                out.addAll(arg.subList(eq + 1, arg.size()));
                out.add(new Tok(Kind.OP, ")"));
            } else {
                out.addAll(arg);
            }
        }
        return out;
    }

    /** Whether a '(' about to be appended to {@code out} opens a call's arguments rather than a group. */
    private static boolean isCall(List<Tok> out) {
        int p = prevNonWs(out, out.size());
        if (p < 0) return false;
        Tok t = out.get(p);
        return (t.kind == Kind.NAME && !KEYWORDS.contains(t.text)) || t.is(")") || t.is("]");
    }

    /**
     * Where the primary expression that ends {@code out} starts: a name, literal or bracketed group, extended to the
     * left over attribute dots, calls and subscripts ({@code message.content.split('x')}). -1 if there is none.
     */
    private static int operandStart(List<Tok> out) {
        int k = prevNonWs(out, out.size());
        while (k >= 0) {
            Tok t = out.get(k);
            int start;
            boolean group = false;
            if (t.is(")") || t.is("]") || t.is("}")) {
                start = matchOpen(out, k);
                group = !t.is("}");
            } else if ((t.kind == Kind.NAME && !KEYWORDS.contains(t.text)) || t.kind == Kind.STR || t.kind == Kind.NUM) {
                start = k;
            } else {
                return -1;
            }
            int p = prevNonWs(out, start);
            if (p >= 0) {
                Tok pt = out.get(p);
                if (pt.is(".")) { k = prevNonWs(out, p); continue; }
                if (group && ((pt.kind == Kind.NAME && !KEYWORDS.contains(pt.text)) || pt.is(")") || pt.is("]")
                        || pt.kind == Kind.STR)) { k = p; continue; }
            }
            return start;
        }
        return -1;
    }

    private static int matchOpen(List<Tok> out, int close) {
        int depth = 0;
        for (int i = close; i >= 0; i--) {
            Tok t = out.get(i);
            if (t.kind != Kind.OP) continue;
            if (t.is(")") || t.is("]") || t.is("}")) depth++;
            else if ((t.is("(") || t.is("[") || t.is("{")) && --depth == 0) return i;
        }
        throw new SyntaxError("unbalanced brackets");
    }

    private static boolean prevIsDot(List<Tok> out) {
        int p = prevNonWs(out, out.size());
        return p >= 0 && out.get(p).is(".");
    }

    static int prevNonWs(List<Tok> toks, int before) {
        for (int i = before - 1; i >= 0; i--) if (toks.get(i).kind != Kind.WS) return i;
        return -1;
    }

    static int nextNonWs(List<Tok> toks, int from) {
        for (int i = from; i < toks.size(); i++) if (toks.get(i).kind != Kind.WS) return i;
        return -1;
    }

    /**
     * A Jinja2 string literal's value: Jinja2 runs the text between the quotes through Python's "unicode-escape"
     * codec, so backslash escapes n t \\ ' " xhh, u or U with hex digits, octal and N{NAME} are decoded and any other backslash pair
     * is kept as written.
     */
    static String decodePythonString(String literal) {
        String s = literal.substring(1, literal.length() - 1);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 == s.length()) {
                sb.append(c);
                continue;
            }
            char e = s.charAt(++i);
            switch (e) {
                case '\n' -> {} // backslash-newline: a line continuation
                case '\\' -> sb.append('\\');
                case '\'' -> sb.append('\'');
                case '"' -> sb.append('"');
                case 'a' -> sb.append('\u0007');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'v' -> sb.append('\u000B');
                case 'x', 'u', 'U' -> {
                    int len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    String hex = i + 1 + len <= s.length() ? s.substring(i + 1, i + 1 + len) : "";
                    if (!hex.matches("[0-9a-fA-F]{" + len + "}"))
                        throw new SyntaxError("truncated \\" + e + " escape in a string literal");
                    sb.appendCodePoint(Integer.parseInt(hex, 16));
                    i += len;
                }
                case 'N' -> {
                    int end = s.indexOf('}', i);
                    if (i + 1 >= s.length() || s.charAt(i + 1) != '{' || end < 0)
                        throw new SyntaxError("malformed \\N escape in a string literal");
                    int cp;
                    try {
                        cp = Character.codePointOf(s.substring(i + 2, end));
                    } catch (IllegalArgumentException ex) {
                        throw new SyntaxError("unknown Unicode character name in \\N{" + s.substring(i + 2, end) + "}");
                    }
                    sb.appendCodePoint(cp);
                    i = end;
                }
                default -> {
                    if (e >= '0' && e <= '7') {
                        int j = i, v = 0;
                        while (j < s.length() && j < i + 3 && s.charAt(j) >= '0' && s.charAt(j) <= '7')
                            v = v * 8 + (s.charAt(j++) - '0');
                        sb.appendCodePoint(v);
                        i = j - 1;
                    } else {
                        sb.append('\\').append(e);
                    }
                }
            }
        }
        return sb.toString();
    }

    /** A Jinjava string literal whose value is exactly {@code value}: only backslash and quote are escaped. */
    static String jinjavaQuote(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }
}
