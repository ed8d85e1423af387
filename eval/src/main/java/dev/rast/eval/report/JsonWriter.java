package dev.rast.eval.report;

import dev.rast.engine.json.Json;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Writes maps, lists, strings, numbers, booleans and null as JSON: on one line for JSONL rows, or indented for
 * files people read. Non-finite doubles become null (JSON has no NaN).
 */
public final class JsonWriter {
    private JsonWriter() {}

    public static String line(Object v) {
        StringBuilder sb = new StringBuilder();
        write(sb, v, -1, 0);
        return sb.toString();
    }

    public static String pretty(Object v) {
        StringBuilder sb = new StringBuilder();
        write(sb, v, 2, 0);
        return sb.append('\n').toString();
    }

    private static void write(StringBuilder sb, Object v, int indent, int depth) {
        if (v == null || v == Json.NULL) sb.append("null");
        else if (v instanceof String s) sb.append(Json.quote(s));
        else if (v instanceof Boolean || v instanceof Integer || v instanceof Long) sb.append(v);
        else if (v instanceof Number n) {
            double d = n.doubleValue();
            sb.append(Double.isFinite(d) ? Double.toString(d) : "null");
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            Iterator<? extends Map.Entry<?, ?>> it = m.entrySet().iterator();
            boolean any = it.hasNext();
            while (it.hasNext()) {
                Map.Entry<?, ?> e = it.next();
                newline(sb, indent, depth + 1);
                sb.append(Json.quote(String.valueOf(e.getKey()))).append(": ");
                write(sb, e.getValue(), indent, depth + 1);
                if (it.hasNext()) sb.append(indent < 0 ? ", " : ",");
            }
            if (any) newline(sb, indent, depth);
            sb.append('}');
        } else if (v instanceof List<?> l) {
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) sb.append(", ");
                write(sb, l.get(i), -1, depth + 1); // lists stay on one line: they hold numbers here
            }
            sb.append(']');
        } else {
            throw new IllegalArgumentException("cannot write " + v.getClass().getName() + " as JSON");
        }
    }

    private static void newline(StringBuilder sb, int indent, int depth) {
        if (indent < 0) return;
        sb.append('\n').append(" ".repeat(indent * depth));
    }
}
