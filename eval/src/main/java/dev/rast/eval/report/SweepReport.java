package dev.rast.eval.report;

import dev.rast.analysis.AnalysisFiles;
import dev.rast.analysis.Svg;
import dev.rast.engine.files.AtomicFiles;
import dev.rast.eval.metrics.Metrics;
import dev.rast.eval.report.Report.DatasetStats;
import dev.rast.eval.report.Report.RunReport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The report of a sweep folder (the paper's Fig. 6): per data set, pass@1 (avg over the n samples) and maj@n at each
 * swept value, and with a base and a ceiling run the recovery rate (acc − base)/(ceiling − base) of each point.
 * Written as sweep.md, sweep-report.json and sweep.svg into the sweep folder; each point's own report too.
 */
public final class SweepReport {
    private final Sweep sweep;
    private final List<RunReport> points;
    private final RunReport base, ceiling;

    private SweepReport(Sweep sweep, List<RunReport> points, RunReport base, RunReport ceiling) {
        this.sweep = sweep;
        this.points = points;
        this.base = base;
        this.ceiling = ceiling;
    }

    /** Reports every point of the sweep at {@code dir} (writing their report files) and the sweep's. */
    public static SweepReport write(Path dir, RunReport base, RunReport ceiling) {
        Sweep s = Sweep.read(dir);
        List<RunReport> rs = new ArrayList<>();
        for (Sweep.Point p : s.points()) rs.add(Report.write(dir.resolve(p.dir())));
        SweepReport r = new SweepReport(s, rs, base, ceiling);
        RunDir.write(dir.resolve("sweep.md"), r.markdown(), AtomicFiles.Durability.RENAMED);
        RunDir.write(dir.resolve("sweep-report.json"), AnalysisFiles.prettyJson(r.toJson()), AtomicFiles.Durability.RENAMED);
        RunDir.write(dir.resolve("sweep.svg"), r.svg(), AtomicFiles.Durability.RENAMED);
        return r;
    }

    List<String> datasets() { return ReportFormat.datasets(points); }

    static double majAtN(DatasetStats d) {
        if (d == null || d.majAtK().isEmpty()) return Double.NaN;
        return d.majAtK().get(d.majAtK().keySet().stream().max(Integer::compare).orElseThrow());
    }

    double recovery(RunReport r, String dataset) {
        if (base == null || ceiling == null) return Double.NaN;
        return Metrics.recoveryRate(ReportFormat.acc(r, dataset), ReportFormat.acc(base, dataset), ReportFormat.acc(ceiling, dataset));
    }

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("parameter", sweep.parameter());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < points.size(); i++) {
            for (String d : datasets()) {
                DatasetStats s = points.get(i).dataset(d);
                Map<String, Object> r = new LinkedHashMap<>();
                r.put(sweep.parameter(), sweep.points().get(i).value());
                r.put("lambdas", sweep.points().get(i).lambdas());
                r.put("dataset", d);
                r.put("pass1_avg", s == null ? null : finite(s.pass1Avg()));
                r.put("maj_at_n", finite(majAtN(s)));
                r.put("recovery_rate", finite(recovery(points.get(i), d)));
                r.put("mean_tokens", s == null ? null : finite(s.meanTokens()));
                rows.add(r);
            }
        }
        m.put("points", rows);
        m.put("base", base == null ? null : base.dir().toString());
        m.put("ceiling", ceiling == null ? null : ceiling.dir().toString());
        return m;
    }

    /** JSON has no NaN: a figure that could not be computed is null. */
    private static Double finite(double v) { return Double.isFinite(v) ? v : null; }

    public String markdown() {
        StringBuilder b = new StringBuilder("# Sweep over " + sweep.parameter() + "\n\n| " + sweep.parameter() + " | dataset | pass@1 avg | maj@n | recovery rate | mean tokens |\n|---:|---|---:|---:|---:|---:|\n");
        for (int i = 0; i < points.size(); i++)
            for (String d : datasets()) {
                DatasetStats s = points.get(i).dataset(d);
                b.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s |%n", Sweep.number(sweep.points().get(i).value()), d,
                        ReportFormat.pct(s == null ? Double.NaN : s.pass1Avg()), ReportFormat.pct(majAtN(s)),
                        Double.isNaN(recovery(points.get(i), d)) ? "n/a" : String.format(Locale.ROOT, "%.3f", recovery(points.get(i), d)),
                        s == null ? "n/a" : String.format(Locale.ROOT, "%.0f", s.meanTokens())));
            }
        if (base == null) b.append("\nrecovery rate: name the base and ceiling runs (--base, --ceiling)\n");
        return b.toString();
    }

    /** Accuracy against the swept value, one line per data set (pass@1 solid, maj@n dashed); recovery below. */
    public String svg() {
        List<String> ds = datasets();
        boolean withRecovery = base != null && ceiling != null;
        int W = 720, panelH = 300, legendH = 24 * ((ds.size() + 2) / 3) + 8;
        double[] x = new double[points.size()];
        for (int i = 0; i < x.length; i++) x[i] = sweep.points().get(i).value();
        Svg svg = new Svg(W, legendH + panelH * (withRecovery ? 2 : 1));
        for (int i = 0; i < ds.size(); i++) svg.legend(12 + (i % 3) * (W / 3), 18 + (i / 3) * 24, i, ds.get(i));
        double[][] pass = new double[ds.size()][x.length], maj = new double[ds.size()][x.length], rec = new double[ds.size()][x.length];
        for (int d = 0; d < ds.size(); d++)
            for (int i = 0; i < x.length; i++) {
                DatasetStats s = points.get(i).dataset(ds.get(d));
                pass[d][i] = s == null ? Double.NaN : s.pass1Avg();
                maj[d][i] = majAtN(s);
                rec[d][i] = recovery(points.get(i), ds.get(d));
            }
        String xLabel = sweep.parameter().equals("lambda") ? "λ" : "temperature";
        Svg.LinePanel acc = svg.linePanel(legendH, panelH, "accuracy (%): pass@1 avg (solid), maj@n (dashed)", xLabel, x, 0, 100, 25, false);
        for (int d = 0; d < ds.size(); d++) {
            acc.line(pass[d], d, false);
            acc.line(maj[d], d, true);
        }
        if (withRecovery) {
            // Round ends on a step of 0.25 or 0.5 so the ticks read as plain numbers; 0 (base) and 1 (ceiling) always shown.
            double lo = Math.min(0, min(rec)), hi = Math.max(1, max(rec)), step = hi - lo > 2 ? 0.5 : 0.25;
            Svg.LinePanel r = svg.linePanel(legendH + panelH, panelH, "recovery rate (0 = base, 1 = ceiling)", xLabel, x,
                    Math.floor(lo / step) * step, Math.ceil(hi / step) * step, step, true);
            for (int d = 0; d < ds.size(); d++) r.line(rec[d], d, false);
        }
        return svg.end();
    }

    private static double min(double[][] a) { double m = 0; for (double[] r : a) for (double v : r) if (!Double.isNaN(v)) m = Math.min(m, v); return m; }

    private static double max(double[][] a) { double m = 1; for (double[] r : a) for (double v : r) if (!Double.isNaN(v)) m = Math.max(m, v); return m; }
}
