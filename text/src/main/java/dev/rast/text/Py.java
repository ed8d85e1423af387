package dev.rast.text;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Python semantics that Java lacks, for code that must give the same text as a Python reference: Python's idea of
 * whitespace, {@code str.strip}, {@code str.split}, {@code str.count}, slicing with negative indices and steps, and
 * {@code str()}/{@code repr()} of values. Chat templates need them because Hugging Face renders templates with Jinja2
 * on Python objects; the math grader needs them because SimpleRL's grader is Python. Strings are indexed by code
 * point, as Python does, never by UTF-16 unit.
 */
public final class Py {
    private Py() {}

    /** Python's {@code str.isspace} for one code point (and what {@code \s} matches in Python's re). */
    public static boolean isSpace(int cp) {
        return switch (cp) {
            case '\t', '\n', 0x0B, 0x0C, '\r', 0x1C, 0x1D, 0x1E, 0x1F, ' ', 0x85, 0xA0, 0x1680, 0x2028, 0x2029,
                 0x202F, 0x205F, 0x3000 -> true;
            default -> cp >= 0x2000 && cp <= 0x200A;
        };
    }

    /** {@code s.strip(chars)} / {@code lstrip} / {@code rstrip}; chars null means whitespace. */
    public static String strip(String s, String chars, boolean left, boolean right) {
        int from = 0, to = s.length();
        if (left) {
            for (int cp; from < to && stripped(cp = s.codePointAt(from), chars); ) from += Character.charCount(cp);
        }
        if (right) {
            for (int cp; to > from && stripped(cp = s.codePointBefore(to), chars); ) to -= Character.charCount(cp);
        }
        return s.substring(from, to);
    }

    private static boolean stripped(int cp, String chars) {
        return chars == null ? isSpace(cp) : chars.indexOf(cp) >= 0;
    }

    /** {@code s.strip()}: Python's whitespace set, which has NBSP and U+001C..U+001F where Java's strip() has not. */
    public static String strip(String s) { return strip(s, null, true, true); }

    /** {@code s.strip(chars)}. */
    public static String strip(String s, String chars) { return strip(s, chars, true, true); }

    /** {@code s.lstrip(chars)}. */
    public static String lstrip(String s, String chars) { return strip(s, chars, true, false); }

    /** {@code s.rstrip()}. */
    public static String rstrip(String s) { return strip(s, null, false, true); }

    /** {@code s.rstrip(chars)}. */
    public static String rstrip(String s, String chars) { return strip(s, chars, false, true); }

    /** {@code s.split()}: runs of whitespace separate, no empty pieces. */
    public static List<String> split(String s) { return split(s, null, -1); }

    /** {@code s.split(sep)} with a literal separator: keeps empty pieces, like Python. */
    public static List<String> split(String s, String sep) { return split(s, sep, -1); }

    /** {@code s.count(sub)}: non-overlapping occurrences; an empty {@code sub} counts len(s) + 1, as Python. */
    public static int count(String s, String sub) {
        if (sub.isEmpty()) return s.codePointCount(0, s.length()) + 1;
        int c = 0;
        for (int k = s.indexOf(sub); k >= 0; k = s.indexOf(sub, k + sub.length())) c++;
        return c;
    }

    /** {@code s.split(sep, maxsplit)}: sep null splits on runs of whitespace and drops empty ends, as Python. */
    public static List<String> split(String s, String sep, int maxsplit) {
        List<String> out = new ArrayList<>();
        if (sep == null) {
            int i = 0, n = s.length();
            while (true) {
                while (i < n && isSpace(s.codePointAt(i))) i += Character.charCount(s.codePointAt(i));
                if (i >= n) break;
                if (maxsplit >= 0 && out.size() == maxsplit) {
                    out.add(s.substring(i)); // Python keeps the remainder's trailing whitespace
                    break;
                }
                int j = i;
                while (j < n && !isSpace(s.codePointAt(j))) j += Character.charCount(s.codePointAt(j));
                out.add(s.substring(i, j));
                i = j;
            }
            return out;
        }
        if (sep.isEmpty()) throw new IllegalArgumentException("empty separator");
        int start = 0;
        while (maxsplit < 0 || out.size() < maxsplit) {
            int k = s.indexOf(sep, start);
            if (k < 0) break;
            out.add(s.substring(start, k));
            start = k + sep.length();
        }
        out.add(s.substring(start));
        return out;
    }

    /** {@code s.rsplit(sep, maxsplit)} with an explicit separator (the whitespace form is split's mirror). */
    public static List<String> rsplit(String s, String sep, int maxsplit) {
        if (sep == null || maxsplit < 0) return split(s, sep, maxsplit);
        if (sep.isEmpty()) throw new IllegalArgumentException("empty separator");
        List<String> out = new ArrayList<>();
        int end = s.length();
        while (out.size() < maxsplit) {
            int k = s.lastIndexOf(sep, end - sep.length());
            if (k < 0) break;
            out.addFirst(s.substring(k + sep.length(), end));
            end = k;
        }
        out.addFirst(s.substring(0, end));
        return out;
    }

    /** {@code obj[start:stop:step]} for strings (by code point) and sequences; null bounds mean "omitted". */
    public static Object slice(Object obj, Object start, Object stop, Object step) {
        long st = step == null ? 1 : toLong(step, "slice step");
        if (st == 0) throw new IllegalArgumentException("slice step cannot be zero");
        if (obj instanceof CharSequence cs) {
            int[] cps = cs.toString().codePoints().toArray();
            StringBuilder sb = new StringBuilder();
            for (int i : indices(cps.length, start, stop, st)) sb.appendCodePoint(cps[i]);
            return sb.toString();
        }
        List<Object> items = toList(obj);
        List<Object> out = new ArrayList<>();
        for (int i : indices(items.size(), start, stop, st)) out.add(items.get(i));
        return out;
    }

    /** The indices Python's {@code slice(start, stop, step).indices(n)} walks. */
    private static List<Integer> indices(int n, Object startObj, Object stopObj, long step) {
        long start, stop;
        if (step > 0) {
            start = startObj == null ? 0 : clamp(toLong(startObj, "slice start"), n, 0, n);
            stop = stopObj == null ? n : clamp(toLong(stopObj, "slice stop"), n, 0, n);
        } else {
            start = startObj == null ? n - 1 : clamp(toLong(startObj, "slice start"), n, -1, n - 1);
            stop = stopObj == null ? -1 : clamp(toLong(stopObj, "slice stop"), n, -1, n - 1);
        }
        List<Integer> out = new ArrayList<>();
        if (step > 0) for (long i = start; i < stop; i += step) out.add((int) i);
        else for (long i = start; i > stop; i += step) out.add((int) i);
        return out;
    }

    private static long clamp(long i, int n, long lo, long hi) {
        if (i < 0) i += n;
        return Math.max(lo, Math.min(hi, i));
    }

    public static long toLong(Object o, String what) {
        if (o instanceof Number num && num.doubleValue() == Math.rint(num.doubleValue())) return num.longValue();
        throw new IllegalArgumentException(what + " must be an integer, got " + repr(o));
    }

    /** Any iterable value as a list (what Python's {@code list(x)} gives for the types templates see). */
    public static List<Object> toList(Object obj) {
        List<Object> out = new ArrayList<>();
        switch (obj) {
            case null -> throw new IllegalArgumentException("cannot iterate over None");
            case Iterable<?> it -> it.forEach(out::add);
            case Object[] arr -> out.addAll(List.of(arr));
            case Map<?, ?> m -> out.addAll(m.keySet());
            case CharSequence cs -> cs.toString().codePoints().forEach(cp -> out.add(Character.toString(cp)));
            case Iterator<?> it -> it.forEachRemaining(out::add);
            default -> throw new IllegalArgumentException("cannot iterate over " + obj.getClass().getSimpleName());
        }
        return out;
    }

    /** Python's {@code str(x)}: what {@code {{ x }}} prints in Jinja2 (None prints "None" there; see ChatTemplate). */
    public static String str(Object o) {
        if (o instanceof CharSequence || o instanceof Character) return o.toString();
        return repr(o);
    }

    /** Python's {@code repr(x)} for the value types a template meets. */
    public static String repr(Object o) {
        return switch (o) {
            case null -> "None";
            case CharSequence cs -> reprString(cs.toString());
            case Character ch -> reprString(ch.toString());
            case Boolean b -> b ? "True" : "False";
            case Double d -> reprFloat(d);
            case Float f -> reprFloat(f.doubleValue());
            case BigDecimal bd -> reprFloat(bd.doubleValue());
            case Number n -> n.toString();
            case Map<?, ?> m -> {
                StringBuilder sb = new StringBuilder("{");
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!first) sb.append(", ");
                    first = false;
                    sb.append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
                }
                yield sb.append('}').toString();
            }
            case Map.Entry<?, ?> e -> "(" + repr(e.getKey()) + ", " + repr(e.getValue()) + ")";
            case Iterable<?> it -> {
                StringBuilder sb = new StringBuilder("[");
                boolean first = true;
                for (Object x : it) {
                    if (!first) sb.append(", ");
                    first = false;
                    sb.append(repr(x));
                }
                yield sb.append(']').toString();
            }
            case Object[] arr -> repr(List.of(arr));
            default -> o.toString();
        };
    }

    /** Python's float repr: shortest round-trip digits, fixed notation for 1e-4 ≤ |x| < 1e16, else 1e-05 style. */
    public static String reprFloat(double d) {
        if (Double.isNaN(d)) return "nan";
        if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        // Double.toString gives the shortest digits that round-trip (JDK 19+), like Python's repr.
        BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        // ... except that Java always writes two digits where one may do (4.9E-324 for Python's 5e-324).
        if (bd.precision() == 2) {
            BigDecimal one = bd.round(new java.math.MathContext(1, java.math.RoundingMode.HALF_EVEN));
            if (one.doubleValue() == d) bd = one.stripTrailingZeros();
        }
        String digits = bd.unscaledValue().abs().toString();
        int exp = digits.length() - 1 - bd.scale(); // decimal exponent of the first digit
        String sign = d < 0 ? "-" : "";
        if (exp >= -4 && exp < 16) {
            String plain = bd.abs().toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String mant = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return sign + mant + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
    }

    /** Python's repr of a str: single quotes unless the text has ' and no ", escapes for non-printables. */
    public static String reprString(String s) {
        char q = (s.indexOf('\'') >= 0 && s.indexOf('"') < 0) ? '"' : '\'';
        StringBuilder sb = new StringBuilder().append(q);
        s.codePoints().forEach(cp -> {
            if (cp == q || cp == '\\') sb.append('\\').appendCodePoint(cp);
            else if (cp == '\n') sb.append("\\n");
            else if (cp == '\r') sb.append("\\r");
            else if (cp == '\t') sb.append("\\t");
            else if (cp < 0x20 || cp == 0x7F) sb.append(String.format("\\x%02x", cp));
            else if (!printable(cp)) {
                if (cp <= 0xFF) sb.append(String.format("\\x%02x", cp));
                else if (cp <= 0xFFFF) sb.append(String.format("\\u%04x", cp));
                else sb.append(String.format("\\U%08x", cp));
            } else sb.appendCodePoint(cp);
        });
        return sb.append(q).toString();
    }

    /** Python's str.isprintable for one code point: not a control, format, separator (but space) or unassigned. */
    private static boolean printable(int cp) {
        if (cp == ' ') return true;
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE, Character.UNASSIGNED,
                 Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR, Character.SPACE_SEPARATOR -> false;
            default -> true;
        };
    }

    /** Python truthiness: None, False, 0, "" and empty containers are false. */
    public static boolean truthy(Object o) {
        return switch (o) {
            case null -> false;
            case Boolean b -> b;
            case Number n -> n.doubleValue() != 0;
            case CharSequence cs -> !cs.isEmpty();
            case java.util.Collection<?> c -> !c.isEmpty();
            case Map<?, ?> m -> !m.isEmpty();
            default -> true;
        };
    }
}
