package dev.rast.bench;

import java.util.Map;

/** A benchmark's @Param values by name, as JMH reports them with a result. */
record Params(Map<String, String> values) {
    String get(String name) {
        String v = values.get(name);
        if (v == null) throw new IllegalArgumentException("no parameter " + name + " in " + values);
        return v;
    }

    int getInt(String name) { return Integer.parseInt(get(name)); }
}
