package dev.rast.eval.grader;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * The few Python built-ins whose exact behaviour the SimpleRL grader depends on: {@code str.strip()} (Python's
 * whitespace set includes NBSP and U+001C..U+001F, Java's {@code String.strip()} does not), {@code str.split()},
 * {@code float(s)} (accepts {@code inf}, {@code nan}, {@code 1_000}, surrounding whitespace), {@code int(s)} and
 * {@code repr(float)}. Behaviour only; written from the Python language reference.
 */
public final class Py {
    private Py() {}

    /** Python {@code str.isspace()} for one character. */
    public static boolean isSpace(char c) {
        return switch (c) {
            case ' ', '\t', '\n', '\u000b', '\f', '\r', '\u001c', '\u001d', '\u001e', '\u001f', '\u0085', '\u00a0',
                 '\u1680', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000' -> true;
            default -> c >= '\u2000' && c <= '\u200a';
        };
    }

    /** {@code s.strip()} with Python's whitespace set. */
    public static String strip(String s) {
        int a = 0, b = s.length();
        while (a < b && isSpace(s.charAt(a))) a++;
        while (b > a && isSpace(s.charAt(b - 1))) b--;
        return s.substring(a, b);
    }

    /** {@code s.strip(chars)}: removes any of {@code chars} from both ends. */
    public static String strip(String s, String chars) { return lstrip(rstrip(s, chars), chars); }

    /** {@code s.rstrip(chars)}. */
    public static String rstrip(String s, String chars) {
        int b = s.length();
        while (b > 0 && chars.indexOf(s.charAt(b - 1)) >= 0) b--;
        return s.substring(0, b);
    }

    /** {@code s.lstrip(chars)}. */
    public static String lstrip(String s, String chars) {
        int a = 0;
        while (a < s.length() && chars.indexOf(s.charAt(a)) >= 0) a++;
        return s.substring(a);
    }

    /** {@code s.rstrip()} with Python's whitespace set. */
    public static String rstrip(String s) {
        int b = s.length();
        while (b > 0 && isSpace(s.charAt(b - 1))) b--;
        return s.substring(0, b);
    }

    /** {@code s.split()}: runs of whitespace separate, no empty pieces. */
    public static List<String> split(String s) {
        List<String> out = new ArrayList<>();
        int i = 0, n = s.length();
        while (i < n) {
            while (i < n && isSpace(s.charAt(i))) i++;
            int start = i;
            while (i < n && !isSpace(s.charAt(i))) i++;
            if (i > start) out.add(s.substring(start, i));
        }
        return out;
    }

    /** {@code s.split(sep)} with a literal separator: keeps empty pieces, like Python. */
    public static List<String> split(String s, String sep) {
        List<String> out = new ArrayList<>();
        int from = 0;
        while (true) {
            int at = s.indexOf(sep, from);
            if (at < 0) { out.add(s.substring(from)); return out; }
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
    }

    /** {@code s.count(sub)} for a non-empty {@code sub}: non-overlapping occurrences. */
    public static int count(String s, String sub) {
        int n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) n++;
        return n;
    }

    /** {@code s.isdigit()} restricted to what {@code int()} can read: non-empty and all Unicode decimal digits. */
    public static boolean isDecimal(String s) {
        if (s.isEmpty()) return false;
        for (int i = 0; i < s.length(); i++) if (!Character.isDigit(s.charAt(i))) return false;
        return true;
    }

    /** {@code str(int(s))} for an all-decimal-digit string: leading zeros go, Unicode digits become ASCII. */
    public static String intString(String digits) {
        StringBuilder sb = new StringBuilder(digits.length());
        for (int i = 0; i < digits.length(); i++) sb.append((char) ('0' + Character.digit(digits.charAt(i), 10)));
        return new BigInteger(sb.toString()).toString();
    }

    /**
     * Python {@code float(s)}, or null where Python raises ValueError. Accepts surrounding whitespace, a sign,
     * {@code inf}/{@code infinity}/{@code nan} in any case, single underscores between digits and Unicode digits.
     */
    public static Double parseFloat(String s) {
        String t = strip(s);
        if (t.isEmpty()) return null;
        int i = 0;
        boolean neg = false;
        if (t.charAt(0) == '+' || t.charAt(0) == '-') { neg = t.charAt(0) == '-'; i = 1; }
        String body = t.substring(i).toLowerCase(java.util.Locale.ROOT);
        if (body.equals("inf") || body.equals("infinity")) return neg ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        if (body.equals("nan")) return Double.NaN;
        StringBuilder ascii = new StringBuilder(body.length() + 1);
        if (neg) ascii.append('-');
        int digitsBefore = 0, digitsAfter = 0;
        int p = 0, n = body.length();
        p = digitPart(body, p, ascii);
        if (p < 0) return null;
        digitsBefore = ascii.length() - (neg ? 1 : 0);
        if (p < n && body.charAt(p) == '.') {
            ascii.append('.');
            int before = ascii.length();
            p = digitPart(body, p + 1, ascii);
            if (p < 0) return null;
            digitsAfter = ascii.length() - before;
        }
        if (digitsBefore + digitsAfter == 0) return null;
        if (p < n && body.charAt(p) == 'e') {
            ascii.append('e');
            p++;
            if (p < n && (body.charAt(p) == '+' || body.charAt(p) == '-')) ascii.append(body.charAt(p++));
            int before = ascii.length();
            p = digitPart(body, p, ascii);
            if (p < 0 || ascii.length() == before) return null;
        }
        if (p != n) return null;
        return Double.parseDouble(ascii.toString());
    }

    /** Reads digits with single underscores between them; returns the end, or -1 for a misplaced underscore. */
    private static int digitPart(String s, int p, StringBuilder out) {
        int n = s.length();
        boolean any = false;
        while (p < n) {
            char c = s.charAt(p);
            if (Character.isDigit(c)) { out.append((char) ('0' + Character.digit(c, 10))); any = true; p++; }
            else if (c == '_' && any && p + 1 < n && Character.isDigit(s.charAt(p + 1))) p++;
            else if (c == '_') return -1;
            else break;
        }
        return p;
    }

    /** Python {@code repr(float)}: shortest round-trip digits, fixed notation for 1e-4 <= |x| < 1e16. */
    public static String repr(double d) {
        if (Double.isNaN(d)) return "nan";
        if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        BigDecimal bd = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = bd.unscaledValue().toString();
        int exp10 = digits.length() - bd.scale() - 1;
        StringBuilder sb = new StringBuilder();
        if (d < 0) sb.append('-');
        if (exp10 < -4 || exp10 >= 16) {
            sb.append(digits.charAt(0));
            if (digits.length() > 1) sb.append('.').append(digits, 1, digits.length());
            sb.append('e').append(exp10 < 0 ? '-' : '+');
            String e = Integer.toString(Math.abs(exp10));
            if (e.length() < 2) sb.append('0');
            sb.append(e);
        } else if (exp10 < 0) {
            sb.append("0.").append("0".repeat(-exp10 - 1)).append(digits);
        } else if (digits.length() <= exp10 + 1) {
            sb.append(digits).append("0".repeat(exp10 + 1 - digits.length())).append(".0");
        } else {
            sb.append(digits, 0, exp10 + 1).append('.').append(digits, exp10 + 1, digits.length());
        }
        return sb.toString();
    }

    /** Python {@code str(x)} of a JSON number as Python's json module reads it: int stays int, float uses repr. */
    public static String str(Object jsonValue) {
        if (jsonValue instanceof Double d) return repr(d);
        return String.valueOf(jsonValue);
    }
}
