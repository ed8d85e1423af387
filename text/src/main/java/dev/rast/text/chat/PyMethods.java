package dev.rast.text.chat;

import dev.rast.text.Py;
import java.beans.FeatureDescriptor;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Python's {@code str} methods for Jinjava. Chat templates call them on message text ({@code
 * content.split('</think>')[-1].lstrip('\n')}, {@code content.startswith('<tool_response>')}); Jinjava would look
 * for Java methods instead, which are missing ({@code lstrip}), spelled differently ({@code startsWith}) or
 * different ({@code String.split} takes a regex and drops trailing empty parts). Sits first in Jinjava's resolver
 * chain and answers only method calls on strings whose names it knows; everything else falls through.
 */
final class PyMethods extends ELResolver {
    private static final Object UNKNOWN = new Object();

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (base instanceof Map<?, ?> map && method instanceof String name) {
            Object r = dictCall(map, name, params == null ? new Object[0] : params);
            if (r == UNKNOWN) return null;
            context.setPropertyResolved(true);
            return r;
        }
        if (!(base instanceof CharSequence || base instanceof com.hubspot.jinjava.objects.SafeString)
                || !(method instanceof String name)) return null;
        Object r;
        try {
            r = call(base.toString(), name, params == null ? new Object[0] : params);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("str." + name + ": " + e.getMessage(), e);
        }
        if (r == UNKNOWN) return null;
        context.setPropertyResolved(true);
        return r;
    }

    private static Object call(String s, String name, Object[] a) {
        int n = a.length;
        return switch (name) {
            case "startswith", "endswith" -> {
                need(name, a, 1, 3);
                String sub = s.substring(index(s, n > 1 ? a[1] : null, 0), index(s, n > 2 ? a[2] : null, s.length()));
                for (Object p : prefixes(a[0])) {
                    if (name.equals("startswith") ? sub.startsWith(p.toString()) : sub.endsWith(p.toString())) yield true;
                }
                yield false;
            }
            case "strip", "lstrip", "rstrip" -> {
                need(name, a, 0, 1);
                String chars = n == 0 || a[0] == null ? null : a[0].toString();
                yield Py.strip(s, chars, !name.equals("rstrip"), !name.equals("lstrip"));
            }
            case "split", "rsplit" -> {
                need(name, a, 0, 2);
                String sep = n == 0 || a[0] == null ? null : a[0].toString();
                int max = n < 2 ? -1 : (int) Py.toLong(a[1], "maxsplit");
                yield name.equals("split") ? Py.split(s, sep, max) : Py.rsplit(s, sep, max);
            }
            case "splitlines" -> {
                need(name, a, 0, 0);
                List<String> out = new java.util.ArrayList<>(List.of(s.split("\r\n|[\n\r\u000B\f\u001C\u001D\u001E\u0085\u2028\u2029]", -1)));
                if (!out.isEmpty() && out.getLast().isEmpty()) out.removeLast();
                yield out;
            }
            case "upper" -> { need(name, a, 0, 0); yield s.toUpperCase(Locale.ROOT); }
            case "lower" -> { need(name, a, 0, 0); yield s.toLowerCase(Locale.ROOT); }
            case "capitalize" -> {
                need(name, a, 0, 0);
                yield s.isEmpty() ? s : s.substring(0, s.offsetByCodePoints(0, 1)).toUpperCase(Locale.ROOT)
                        + s.substring(s.offsetByCodePoints(0, 1)).toLowerCase(Locale.ROOT);
            }
            case "title" -> { need(name, a, 0, 0); yield title(s); }
            case "replace" -> {
                need(name, a, 2, 3);
                String old = a[0].toString(), neu = a[1].toString();
                long count = n > 2 ? Py.toLong(a[2], "count") : -1;
                yield replace(s, old, neu, count);
            }
            case "find", "rfind", "index", "rindex", "count" -> {
                need(name, a, 1, 1);
                String sub = a[0].toString();
                if (name.equals("count")) yield (long) Py.count(s, sub);
                int k = name.startsWith("r") ? s.lastIndexOf(sub) : s.indexOf(sub);
                if (k < 0 && name.contains("index")) throw new IllegalArgumentException("substring not found");
                yield (long) (k < 0 ? -1 : s.codePointCount(0, k));
            }
            case "join" -> {
                need(name, a, 1, 1);
                StringBuilder sb = new StringBuilder();
                boolean first = true;
                for (Object x : Py.toList(a[0])) {
                    if (!first) sb.append(s);
                    first = false;
                    sb.append(Py.str(x));
                }
                yield sb.toString();
            }
            case "removeprefix" -> { need(name, a, 1, 1); yield s.startsWith(a[0].toString()) ? s.substring(a[0].toString().length()) : s; }
            case "removesuffix" -> {
                need(name, a, 1, 1);
                String suf = a[0].toString();
                yield !suf.isEmpty() && s.endsWith(suf) ? s.substring(0, s.length() - suf.length()) : s;
            }
            case "isspace" -> { need(name, a, 0, 0); yield !s.isEmpty() && s.codePoints().allMatch(Py::isSpace); }
            case "isdigit" -> { need(name, a, 0, 0); yield !s.isEmpty() && s.codePoints().allMatch(Character::isDigit); }
            case "isalpha" -> { need(name, a, 0, 0); yield !s.isEmpty() && s.codePoints().allMatch(Character::isLetter); }
            case "isalnum" -> { need(name, a, 0, 0); yield !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit); }
            case "isupper" -> { need(name, a, 0, 0); yield s.codePoints().anyMatch(Character::isUpperCase) && !s.codePoints().anyMatch(Character::isLowerCase); }
            case "islower" -> { need(name, a, 0, 0); yield s.codePoints().anyMatch(Character::isLowerCase) && !s.codePoints().anyMatch(Character::isUpperCase); }
            default -> UNKNOWN;
        };
    }

    /** dict.items()/keys()/values()/get(): Jinjava knows them only on its own map type, not on maps we make. */
    private static Object dictCall(Map<?, ?> m, String name, Object[] a) {
        return switch (name) {
            case "items" -> { need(name, a, 0, 0); yield new java.util.ArrayList<Map.Entry<?, ?>>(m.entrySet()); }
            case "keys" -> { need(name, a, 0, 0); yield new java.util.ArrayList<Object>(m.keySet()); }
            case "values" -> { need(name, a, 0, 0); yield new java.util.ArrayList<Object>(m.values()); }
            case "get" -> {
                need(name, a, 1, 2);
                yield m.containsKey(a[0]) ? m.get(a[0]) : a.length > 1 ? a[1] : null;
            }
            default -> UNKNOWN;
        };
    }

    private static void need(String name, Object[] a, int min, int max) {
        if (a.length < min || a.length > max)
            throw new IllegalArgumentException(name + "() takes " + (min == max ? "" + min : min + " to " + max)
                    + " arguments, got " + a.length);
    }

    private static List<?> prefixes(Object p) {
        if (p instanceof CharSequence || p == null) return java.util.Collections.singletonList(String.valueOf(p));
        return Py.toList(p);
    }

    /** A Python start/end index (code points, negative from the end) as a UTF-16 offset into s. */
    private static int index(String s, Object i, int dflt) {
        if (i == null) return dflt;
        int n = s.codePointCount(0, s.length());
        long k = Py.toLong(i, "index");
        if (k < 0) k += n;
        k = Math.max(0, Math.min(n, k));
        return s.offsetByCodePoints(0, (int) k);
    }

    private static String replace(String s, String old, String neu, long count) {
        if (count < 0) {
            if (old.isEmpty()) { // Python inserts the replacement between every character and at both ends
                StringBuilder sb = new StringBuilder(neu);
                s.codePoints().forEach(cp -> sb.appendCodePoint(cp).append(neu));
                return sb.toString();
            }
            return s.replace(old, neu);
        }
        StringBuilder sb = new StringBuilder();
        int from = 0;
        for (long c = 0; c < count; c++) {
            int k = s.indexOf(old, from);
            if (k < 0 || old.isEmpty()) break;
            sb.append(s, from, k).append(neu);
            from = k + old.length();
        }
        return sb.append(s.substring(from)).toString();
    }

    /** str.title: upper-case the first letter of every run of letters, lower-case the rest. */
    private static String title(String s) {
        StringBuilder sb = new StringBuilder();
        boolean prevCased = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            boolean cased = Character.isLetter(cp);
            sb.append(cased ? (prevCased ? Character.toString(cp).toLowerCase(Locale.ROOT) : Character.toString(Character.toTitleCase(cp)))
                    : Character.toString(cp));
            prevCased = cased;
            i += Character.charCount(cp);
        }
        return sb.toString();
    }

    /** {@code s[i]} on a string: the i-th code point, negative from the end (Jinjava has neither). */
    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        if (!(base instanceof CharSequence cs)) return null;
        long i;
        if (property instanceof Number num) i = Py.toLong(num, "string index");
        else if (property instanceof String p && p.matches("-?\\d{1,9}")) i = Long.parseLong(p); // Jinjava may pass "1"
        else return null;
        String s = cs.toString();
        int n = s.codePointCount(0, s.length());
        if (i < 0) i += n;
        context.setPropertyResolved(true);
        if (i < 0 || i >= n) return null; // Python raises IndexError; Jinja2 turns that into undefined
        int at = s.offsetByCodePoints(0, (int) i);
        return s.substring(at, s.offsetByCodePoints(at, 1));
    }

    @Override public Class<?> getType(ELContext context, Object base, Object property) { return null; }

    @Override public void setValue(ELContext context, Object base, Object property, Object value) {}

    @Override public boolean isReadOnly(ELContext context, Object base, Object property) { return true; }

    @Override public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) { return null; }

    @Override public Class<?> getCommonPropertyType(ELContext context, Object base) { return null; }
}
