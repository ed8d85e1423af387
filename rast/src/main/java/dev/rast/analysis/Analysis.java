package dev.rast.analysis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What every analysis hands back, one shape for scripts: {@code kind}, {@code mean} (the headline figure, averaged
 * over trajectories), {@code ci95} and {@code ci_method}, {@code per_sample} (one object per trajectory with its
 * {@code id}, {@code value} and {@code positions}), then what the analysis adds. {@link #markdown()} is the same as
 * tables.
 */
public abstract class Analysis implements TeacherForcing.Visitor {
    /** The analysis name, as in {@code rast analyze KIND}. */
    public abstract String kind();

    /** What the headline figure is, for the Markdown title ("path coverage rate"). */
    protected abstract String headline();

    /** Per trajectory: id, value (NaN: no figure, excluded from the mean), positions, and extra fields. */
    protected abstract List<Map<String, Object>> perSample();

    /** Fields after the common ones (e.g. the top-KL tokens). */
    protected Map<String, Object> extra() { return Map.of(); }

    /** Markdown sections after the summary (e.g. a table of tokens). */
    protected String extraMarkdown() { return ""; }

    /** The per-sample values that are numbers, summarised. */
    public Summary summary() {
        List<Double> v = new ArrayList<>();
        for (Map<String, Object> s : perSample()) if (s.get("value") instanceof Double d && Double.isFinite(d)) v.add(d);
        return Summary.of(v.stream().mapToDouble(Double::doubleValue).toArray());
    }

    public Map<String, Object> toJson() {
        Summary s = summary();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind());
        m.put("mean", Summary.finite(s.mean()));
        m.put("ci95", s.toJson().get("ci95"));
        m.put("ci_method", Summary.CI_METHOD);
        m.put("samples", s.n());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Map<String, Object> r : perSample()) {
            Map<String, Object> copy = new LinkedHashMap<>(r);
            if (copy.get("value") instanceof Double d && !Double.isFinite(d)) copy.put("value", null);
            rows.add(copy);
        }
        m.putAll(extra());
        m.put("per_sample", rows);
        return m;
    }

    public String markdown() {
        Summary s = summary();
        StringBuilder b = new StringBuilder("# rast analyze ").append(kind()).append("\n\n");
        b.append(String.format(java.util.Locale.ROOT, "%s: **%s** over %d trajectories, 95%% CI %s (%s)%n%n",
                headline(), num(s.mean()), s.n(), Double.isFinite(s.ciLow()) ? "[" + num(s.ciLow()) + ", " + num(s.ciHigh()) + "]" : "n/a",
                Summary.CI_METHOD));
        b.append(extraMarkdown());
        b.append("## Per trajectory\n\n| id | value | positions |\n|---|---:|---:|\n");
        for (Map<String, Object> r : perSample())
            b.append("| ").append(cell(String.valueOf(r.get("id")))).append(" | ")
                    .append(r.get("value") instanceof Double d ? num(d) : "n/a").append(" | ").append(r.get("positions")).append(" |\n");
        return b.toString();
    }

    static String num(double v) { return Double.isFinite(v) ? String.format(java.util.Locale.ROOT, "%.6g", v) : "n/a"; }

    /** A Markdown table cell: pipes escaped, line breaks and invisible characters shown. */
    static String cell(String s) {
        return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t");
    }

    static Map<String, Object> sample(String id, double value, int positions) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("value", value);
        m.put("positions", positions);
        return m;
    }
}
