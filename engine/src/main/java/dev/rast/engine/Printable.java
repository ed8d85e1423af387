package dev.rast.engine;

/**
 * Messages (errors, warnings) as one printable line. A message quotes what the user gave (a path, a JSON field, a
 * tensor name), which may hold control characters: a newline would split the one line, a NUL makes tools such as
 * grep take the whole stream for binary, and an escape sequence would restyle the terminal. Those are written as
 * Python writes them in a repr: backslash-n, backslash-t, backslash-x00.
 */
public final class Printable {
    private Printable() {}

    public static String line(String s) {
        if (s == null) return "null";
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String esc = escape(c);
            if (esc == null) {
                if (out != null) out.append(c);
                continue;
            }
            if (out == null) out = new StringBuilder(s.length() + 16).append(s, 0, i);
            out.append(esc);
        }
        return out == null ? s : out.toString();
    }

    /** The escape for {@code c}, or null when it prints as itself. */
    private static String escape(char c) {
        return switch (c) {
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            case '\t' -> "\\t";
            case '\\' -> null;
            default -> c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) ? String.format("\\x%02x", (int) c)
                    : c == '\u2028' || c == '\u2029' ? String.format("\\u%04x", (int) c) : null;
        };
    }
}
