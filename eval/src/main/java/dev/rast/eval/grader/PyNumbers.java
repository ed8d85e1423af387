package dev.rast.eval.grader;

import dev.rast.text.Py;
import java.math.BigInteger;

/**
 * The Python number built-ins whose exact behaviour the SimpleRL grader depends on: {@code float(s)} (accepts
 * {@code inf}, {@code nan}, {@code 1_000}, surrounding whitespace), {@code int(s)} and {@code str()} of a JSON number.
 * The string methods ({@code strip}, {@code split}, {@code count}) and {@code repr(float)} are the engine's
 * {@link Py}. Behaviour only; written from the Python language reference.
 */
public final class PyNumbers {
    private PyNumbers() {}

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
        String t = Py.strip(s);
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

    /** Python {@code str(x)} of a JSON number as Python's json module reads it: int stays int, float uses repr. */
    public static String str(Object jsonValue) {
        if (jsonValue instanceof Double d) return Py.reprFloat(d);
        return String.valueOf(jsonValue);
    }
}
