package dev.rast.eval.report;

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
        RunDir.write(dir.resolve("sweep.md"), r.markdown());
        RunDir.write(dir.resolve("sweep-report.json"), JsonWriter.pretty(r.toJson()));
        RunDir.write(dir.resolve("sweep.svg"), r.svg());
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
                r.put("pass1_avg", s == null ? null : s.pass1Avg());
                r.put("maj_at_n", majAtN(s));
                r.put("recovery_rate", recovery(points.get(i), d));
                r.put("mean_tokens", s == null ? null : s.meanTokens());
                rows.add(r);
            }
        }
        m.put("points", rows);
        m.put("base", base == null ? null : base.dir().toString());
        m.put("ceiling", ceiling == null ? null : ceiling.dir().toString());
        return m;
    }

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
        int W = 720, panelH = 300, legendH = 24 * ((ds.size() + 2) / 3) + 8, H = legendH + panelH * (withRecovery ? 2 : 1);
        double[] x = new double[points.size()];
        for (int i = 0; i < x.length; i++) x[i] = sweep.points().get(i).value();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
                        + "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H, W, H));
        for (int i = 0; i < ds.size(); i++) {
            int lx = 12 + (i % 3) * (W / 3), ly = 18 + (i / 3) * 24;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2.5\"/><text x=\"%d\" y=\"%d\">%s</text>\n",
                    lx, ly - 4, lx + 24, ly - 4, SvgPlot.COLORS[i % SvgPlot.COLORS.length], lx + 30, ly, SvgPlot.xml(ds.get(i))));
        }
        double[][] pass = new double[ds.size()][x.length], maj = new double[ds.size()][x.length], rec = new double[ds.size()][x.length];
        for (int d = 0; d < ds.size(); d++)
            for (int i = 0; i < x.length; i++) {
                DatasetStats s = points.get(i).dataset(ds.get(d));
                pass[d][i] = s == null ? Double.NaN : s.pass1Avg();
                maj[d][i] = majAtN(s);
                rec[d][i] = recovery(points.get(i), ds.get(d));
            }
        panel(sb, legendH, panelH, W, "accuracy (%): pass@1 avg (solid), maj@n (dashed)", x, List.<double[][]>of(pass, maj), 0, 100, 25);
        if (withRecovery) {
            // Round ends on a step of 0.25 or 0.5 so the ticks read as plain numbers; 0 (base) and 1 (ceiling) always shown.
            double lo = Math.min(0, min(rec)), hi = Math.max(1, max(rec)), step = hi - lo > 2 ? 0.5 : 0.25;
            panel(sb, legendH + panelH, panelH, W, "recovery rate (0 = base, 1 = ceiling)", x, List.<double[][]>of(rec),
                    Math.floor(lo / step) * step, Math.ceil(hi / step) * step, step);
        }
        return sb.append("</svg>\n").toString();
    }

    /** One panel: y from {@code lo} to {@code hi} with a tick every {@code step}, x at the swept values. */
    private void panel(StringBuilder sb, int top, int h, int W, String title, double[] x, List<double[][]> series, double lo, double hi, double step) {
        int x0 = 60, x1 = W - 20, y0 = top + h - 42, y1 = top + 34;
        double xlo = x[0], xhi = x[0];
        for (double v : x) { xlo = Math.min(xlo, v); xhi = Math.max(xhi, v); }
        if (xhi - xlo < 1e-12) { xlo -= 0.5; xhi += 0.5; }
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-weight=\"bold\">%s</text>\n", (x0 + x1) / 2, top + 20, SvgPlot.xml(title)));
        sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#444\"/>\n", x0, y1, x1 - x0, y0 - y1));
        for (double v = lo; v <= hi + step / 2; v += step) {
            double y = y0 - (v - lo) / (hi - lo) * (y0 - y1);
            boolean mark = Math.abs(v) < 1e-9 || Math.abs(v - 1) < 1e-9 && step < 1; // recovery's base and ceiling lines
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                    x0, y, x1, y, mark ? "#999" : "#ddd", x0 - 6, y + 4, Sweep.number(Math.round(v * 100) / 100.0)));
        }
        for (double v : x) {
            double px = x0 + (v - xlo) / (xhi - xlo) * (x1 - x0);
            sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", px, y0 + 16, Sweep.number(v)));
        }
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", (x0 + x1) / 2, y0 + 34, sweep.parameter().equals("lambda") ? "λ" : "temperature"));
        for (int s = 0; s < series.size(); s++)
            for (int d = 0; d < series.get(s).length; d++) {
                String color = SvgPlot.COLORS[d % SvgPlot.COLORS.length];
                StringBuilder pts = new StringBuilder();
                for (int i = 0; i < x.length; i++) {
                    double v = series.get(s)[d][i];
                    if (Double.isNaN(v)) continue;
                    double px = x0 + (x[i] - xlo) / (xhi - xlo) * (x1 - x0), py = y0 - (v - lo) / (hi - lo) * (y0 - y1);
                    pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
                    sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", px, py, color));
                }
                sb.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"%s\"%s points=\"%s\"/>\n",
                        color, s == 1 ? " stroke-dasharray=\"6,4\"" : "", pts.toString().strip()));
            }
    }

    private static double min(double[][] a) { double m = 0; for (double[] r : a) for (double v : r) if (!Double.isNaN(v)) m = Math.min(m, v); return m; }

    private static double max(double[][] a) { double m = 1; for (double[] r : a) for (double v : r) if (!Double.isNaN(v)) m = Math.max(m, v); return m; }
}
