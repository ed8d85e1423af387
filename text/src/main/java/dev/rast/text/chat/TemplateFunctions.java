package dev.rast.text.chat;

import dev.rast.text.Py;
import java.time.LocalDateTime;
import java.util.List;

/**
 * The global functions chat templates see. Public only because Jinjava calls them by reflection; not an API.
 * {@code raise_exception} and {@code strftime_now} are Hugging Face's; the {@code rast_*} ones are targets of
 * {@link JinjaSource}'s rewrites and never appear in a model's template.
 */
public final class TemplateFunctions {
    private TemplateFunctions() {}

    /** Thrown by {@code raise_exception}; ChatTemplate reports it as the template's own message. */
    static final class Raised extends RuntimeException {
        Raised(String message) { super(message, null, false, false); }
    }

    /** The first raise_exception message of the render running on this thread (Jinjava keeps going after errors). */
    static final ThreadLocal<String> RAISED = new ThreadLocal<>();

    public static Object raiseException(Object message) {
        String m = Py.str(message);
        if (RAISED.get() == null) RAISED.set(m);
        throw new Raised(m);
    }

    /** The most numbers a {@code range} may hold: the limit of Jinja2's sandbox, which Hugging Face renders in. */
    static final int MAX_RANGE = 100_000;

    /** Python's range (one to three integer arguments), refused past {@link #MAX_RANGE} numbers as HF's sandbox does. */
    public static List<Long> range(Object first, Object... more) {
        long start = 0, stop, step = 1;
        if (more == null || more.length == 0) stop = Py.toLong(first, "range() argument");
        else {
            start = Py.toLong(first, "range() argument");
            stop = Py.toLong(more[0], "range() argument");
            if (more.length > 1) step = Py.toLong(more[1], "range() argument");
            if (more.length > 2) throw new IllegalArgumentException("range expected at most 3 arguments, got " + (more.length + 1));
        }
        if (step == 0) throw new IllegalArgumentException("range() arg 3 must not be zero");
        long n = step > 0 ? (stop > start ? (stop - start + step - 1) / step : 0)
                : (start > stop ? (start - stop - step - 1) / -step : 0);
        if (n > MAX_RANGE)
            throw new IllegalArgumentException("Range too big. The sandbox blocks ranges larger than MAX_RANGE (" + MAX_RANGE + ").");
        List<Long> out = new java.util.ArrayList<>((int) n);
        for (long i = 0, v = start; i < n; i++, v += step) out.add(v);
        return out;
    }

    public static String strftimeNow(Object format) {
        return PyStrftime.format(Py.str(format), LocalDateTime.now());
    }

    /** What {@code {{ x }}} prints: Python's str(x), except that None/undefined print nothing (see ChatTemplate). */
    public static String str(Object value) {
        return value == null ? "" : Py.str(value instanceof com.hubspot.jinjava.objects.SafeString s ? s.toString() : value);
    }

    public static Object slice(Object obj, Object start, Object stop, Object step) {
        return Py.slice(obj, start, stop, step);
    }

    /** A dict literal's value: keys and values alternate, later keys win, insertion order kept (Python 3.7+). */
    public static java.util.Map<Object, Object> dict(Object keysAndValues) {
        List<Object> kv = Py.toList(keysAndValues);
        java.util.Map<Object, Object> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i + 1 < kv.size(); i += 2) m.put(kv.get(i), kv.get(i + 1));
        return m;
    }

    public static List<Object> list(Object obj) {
        return Py.toList(obj);
    }

    public static Object previtem(Object seq, Object index0) {
        List<?> l = (List<?>) seq;
        int i = (int) Py.toLong(index0, "loop.index0");
        return i > 0 && i - 1 < l.size() ? l.get(i - 1) : null;
    }

    public static Object nextitem(Object seq, Object index0) {
        List<?> l = (List<?>) seq;
        int i = (int) Py.toLong(index0, "loop.index0");
        return i + 1 < l.size() ? l.get(i + 1) : null;
    }
}
