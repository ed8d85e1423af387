package dev.rast.engine.json;

import dev.rast.engine.BadInputException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small, strict JSON reader (RFC 8259) for config.json, safetensors headers and tokenizer files.
 *
 * <p>Values map to Java as: object → {@code LinkedHashMap<String,Object>} (key order kept), array →
 * {@code List<Object>}, string → {@code String}, number → {@code Long} when integral and in range, else
 * {@code Double}, true/false → {@code Boolean}, null → {@link #NULL}. We write our own rather than pull a
 * library so that every parse error can name the byte offset, and so the engine has no dependencies.
 */
public final class Json {
    /** JSON null; a sentinel so that "key present with null" differs from "key absent". */
    public static final Object NULL = new Object() {
        @Override public String toString() { return "null"; }
    };

    private final String text;
    private int pos;

    private Json(String text) { this.text = text; }

    /** Parses one JSON document; anything after it but whitespace is an error. */
    public static Object parse(String text) {
        Json p = new Json(text);
        p.skipWs();
        Object v = p.value(0);
        p.skipWs();
        if (p.pos != text.length()) throw p.error("unexpected trailing characters");
        return v;
    }

    /**
     * Parses a file that must hold one JSON object, for config files: bad JSON or another top-level value is a
     * {@link BadInputException} naming {@code source} ("SOURCE: not valid JSON: ...", "SOURCE: not a JSON object").
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text, Object source) {
        Object root;
        try {
            root = parse(text);
        } catch (JsonException e) {
            throw new BadInputException(source + ": not valid JSON: " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?>)) throw new BadInputException(source + ": not a JSON object");
        return (Map<String, Object>) root;
    }

    private JsonException error(String what) {
        return new JsonException(what + " at offset " + pos);
    }

    private Object value(int depth) {
        if (depth > 512) throw error("nesting deeper than 512");
        if (pos >= text.length()) throw error("unexpected end of input");
        char c = text.charAt(pos);
        return switch (c) {
            case '{' -> object(depth);
            case '[' -> array(depth);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", NULL);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) yield number();
                throw error("unexpected character '" + c + "'");
            }
        };
    }

    private Object literal(String word, Object v) {
        if (!text.startsWith(word, pos)) throw error("invalid literal");
        pos += word.length();
        return v;
    }

    private Map<String, Object> object(int depth) {
        Map<String, Object> m = new LinkedHashMap<>();
        pos++;
        skipWs();
        if (peek() == '}') { pos++; return m; }
        while (true) {
            skipWs();
            if (peek() != '"') throw error("expected a string key");
            String k = string();
            skipWs();
            expect(':');
            skipWs();
            Object v = value(depth + 1);
            if (m.put(k, v) != null) throw error("duplicate key \"" + k + "\"");
            skipWs();
            char c = next();
            if (c == '}') return m;
            if (c != ',') { pos--; throw error("expected ',' or '}'"); }
        }
    }

    private List<Object> array(int depth) {
        List<Object> a = new ArrayList<>();
        pos++;
        skipWs();
        if (peek() == ']') { pos++; return a; }
        while (true) {
            skipWs();
            a.add(value(depth + 1));
            skipWs();
            char c = next();
            if (c == ']') return a;
            if (c != ',') { pos--; throw error("expected ',' or ']'"); }
        }
    }

    private String string() {
        pos++; // opening quote
        StringBuilder sb = null;
        int start = pos;
        while (true) {
            if (pos >= text.length()) throw error("unterminated string");
            char c = text.charAt(pos);
            if (c == '"') {
                String s = sb == null ? text.substring(start, pos) : sb.append(text, start, pos).toString();
                pos++;
                return s;
            }
            if (c < 0x20) throw error("control character in string");
            if (c == '\\') {
                if (sb == null) sb = new StringBuilder();
                sb.append(text, start, pos);
                pos++;
                char e = next();
                switch (e) {
                    case '"' -> sb.append('"');
                    case '\\' -> sb.append('\\');
                    case '/' -> sb.append('/');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        if (pos + 4 > text.length()) throw error("truncated \\u escape");
                        int cp = 0;
                        for (int i = 0; i < 4; i++) {
                            int d = Character.digit(text.charAt(pos + i), 16);
                            if (d < 0) throw error("bad \\u escape");
                            cp = cp * 16 + d;
                        }
                        pos += 4;
                        sb.append((char) cp);
                    }
                    default -> { pos--; throw error("bad escape '\\" + e + "'"); }
                }
                start = pos;
            } else {
                pos++;
            }
        }
    }

    private Object number() {
        int start = pos;
        if (peek() == '-') pos++;
        if (peek() == '0') pos++;
        else if (Character.isDigit(peek())) while (Character.isDigit(peek())) pos++;
        else throw error("bad number");
        boolean integral = true;
        if (peek() == '.') {
            integral = false;
            pos++;
            if (!Character.isDigit(peek())) throw error("bad number");
            while (Character.isDigit(peek())) pos++;
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            pos++;
            if (peek() == '+' || peek() == '-') pos++;
            if (!Character.isDigit(peek())) throw error("bad number");
            while (Character.isDigit(peek())) pos++;
        }
        if (integral && pos - start < 19) {
            // Parse small integers in place: tokenizer.json has ~150k of them, and a substring each adds up.
            boolean neg = text.charAt(start) == '-';
            long v = 0;
            for (int i = neg ? start + 1 : start; i < pos; i++) v = v * 10 + (text.charAt(i) - '0');
            return neg ? -v : v;
        }
        return Double.parseDouble(text.substring(start, pos));
    }

    private char peek() { return pos < text.length() ? text.charAt(pos) : '\0'; }

    private char next() {
        if (pos >= text.length()) throw error("unexpected end of input");
        return text.charAt(pos++);
    }

    private void expect(char c) {
        if (next() != c) { pos--; throw error("expected '" + c + "'"); }
    }

    private void skipWs() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') pos++;
            else break;
        }
    }

    /**
     * Writes a JSON string literal as Python's json.dumps does with ensure_ascii=False: only ", \ and C0 controls
     * are escaped, with the short forms where JSON has them.
     */
    public static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }
}
