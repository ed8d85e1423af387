package dev.rast.text.chat;

import dev.rast.engine.json.Json;
import dev.rast.text.Py;
import java.util.Iterator;
import java.util.Map;

/**
 * The {@code tojson} filter as Hugging Face defines it for chat templates: Python's
 * {@code json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)}. Jinja2's own
 * tojson (HTML-escaping, compact) and Jinjava's (Jackson, compact) both differ, so tool schemas would not match HF.
 * Strings go through {@link Json#quote}, which escapes as json.dumps does; the rest is written here, as Jackson has
 * no equivalent of Python's float repr, string indents, separators of any kind, or its key conversions.
 */
final class PyJson {
    private PyJson() {}

    /**
     * @param indent null for one line; else the indent width (Python also accepts a string, used as-is)
     * @param itemSep  null for Python's default: ", " on one line, "," when indenting
     * @param keySep   null for ": "
     */
    static String dumps(Object value, Object indent, String itemSep, String keySep, boolean sortKeys) {
        String ind = switch (indent) {
            case null -> null;
            case Number n -> " ".repeat((int) Math.max(0, n.longValue()));
            default -> indent.toString();
        };
        String items = itemSep != null ? itemSep : (ind == null ? ", " : ",");
        String keys = keySep != null ? keySep : ": ";
        StringBuilder sb = new StringBuilder();
        write(sb, value, ind, items, keys, sortKeys, 0);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v, String ind, String items, String keys, boolean sort, int depth) {
        switch (v) {
            case null -> sb.append("null");
            case CharSequence cs -> string(sb, cs.toString());
            case Boolean b -> sb.append(b ? "true" : "false");
            case Double d -> sb.append(floatJson(d));
            case Float f -> sb.append(floatJson(f.doubleValue()));
            case Number n -> sb.append(n);
            case Map<?, ?> m -> {
                if (m.isEmpty()) { sb.append("{}"); return; }
                Iterable<? extends Map.Entry<?, ?>> entries = m.entrySet();
                if (sort) entries = new java.util.TreeMap<Object, Object>(m).entrySet();
                sb.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : entries) {
                    if (!first) sb.append(items);
                    first = false;
                    newline(sb, ind, depth + 1);
                    string(sb, keyString(e.getKey()));
                    sb.append(keys);
                    write(sb, e.getValue(), ind, items, keys, sort, depth + 1);
                }
                newline(sb, ind, depth);
                sb.append('}');
            }
            case Iterable<?> it -> {
                Iterator<?> i = it.iterator();
                if (!i.hasNext()) { sb.append("[]"); return; }
                sb.append('[');
                boolean first = true;
                while (i.hasNext()) {
                    if (!first) sb.append(items);
                    first = false;
                    newline(sb, ind, depth + 1);
                    write(sb, i.next(), ind, items, keys, sort, depth + 1);
                }
                newline(sb, ind, depth);
                sb.append(']');
            }
            case Object[] arr -> write(sb, java.util.List.of(arr), ind, items, keys, sort, depth);
            default -> string(sb, v.toString());
        }
    }

    /** Python's json turns keys that are not strings into strings: True → "true", None → "null", 1 → "1". */
    private static String keyString(Object k) {
        return switch (k) {
            case null -> "null";
            case Boolean b -> b ? "true" : "false";
            case Double d -> floatJson(d);
            default -> k.toString();
        };
    }

    private static String floatJson(double d) {
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
        return Py.reprFloat(d);
    }

    private static void newline(StringBuilder sb, String ind, int depth) {
        if (ind == null) return;
        sb.append('\n');
        sb.append(ind.repeat(depth));
    }

    /** A JSON string as json.dumps writes it with ensure_ascii=False. */
    private static void string(StringBuilder sb, String s) {
        sb.append(Json.quote(s));
    }
}
