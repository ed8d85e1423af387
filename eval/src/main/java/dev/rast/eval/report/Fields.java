package dev.rast.eval.report;

import dev.rast.engine.BadInputException;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;

/** Typed access to a JSON object's fields, with errors naming the source and the field; absent or null → null. */
final class Fields {
    private final Map<String, Object> m;
    private final String where;

    Fields(Map<String, Object> m, String where) {
        this.m = m;
        this.where = where;
    }

    String string(String k) {
        Object v = m.get(k);
        if (v == null || v instanceof String) return (String) v;
        throw new BadInputException(where + ": field '" + k + "' must be a string");
    }

    Long integer(String k) {
        Object v = m.get(k);
        if (v == null || v instanceof Long) return (Long) v;
        if (v instanceof BigInteger) throw new BadInputException(where + ": field '" + k + "' is out of range (" + v + ")");
        throw new BadInputException(where + ": field '" + k + "' must be an integer");
    }

    /** An integer field that must fit an int (counts, indexes): a larger one names the field, not an overflow. */
    Integer int32(String k) {
        Long v = integer(k);
        if (v == null) return null;
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE)
            throw new BadInputException(where + ": field '" + k + "' is out of range (" + v + ")");
        return (int) (long) v;
    }

    /** An index or a count: an int of 0 or more (a negative one would be counted as a problem or sample of its own). */
    Integer count(String k) {
        Integer v = int32(k);
        if (v != null && v < 0) throw new BadInputException(where + ": field '" + k + "' must be 0 or more, is " + v);
        return v;
    }

    Double number(String k) {
        Object v = m.get(k);
        if (v == null) return null;
        if (v instanceof Number x) return x.doubleValue();
        throw new BadInputException(where + ": field '" + k + "' must be a number");
    }

    Boolean bool(String k) {
        Object v = m.get(k);
        if (v == null || v instanceof Boolean) return (Boolean) v;
        throw new BadInputException(where + ": field '" + k + "' must be true or false");
    }

    List<?> list(String k) {
        Object v = m.get(k);
        if (v == null) return List.of();
        if (v instanceof List<?> l) return l;
        throw new BadInputException(where + ": field '" + k + "' must be a list");
    }

    /** A required field: fails naming it when absent. */
    <T> T required(String k, T v) {
        if (v == null) throw new BadInputException(where + ": missing field '" + k + "'");
        return v;
    }
}
