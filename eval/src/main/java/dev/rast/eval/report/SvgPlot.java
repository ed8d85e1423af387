package dev.rast.eval.report;

import dev.rast.eval.report.Report.DatasetStats;
import dev.rast.eval.report.Report.RunReport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * pass@k against k as an SVG drawing, like the paper's Figure 3: one panel per data set, one line per run, k on a
 * log2 axis. Written by hand (a few dozen elements), so no plotting library is needed.
 */
public final class SvgPlot {
    private SvgPlot() {}

    static final String[] COLORS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf"};
    static final int PANEL_W = 360, PANEL_H = 260, LEFT = 52, RIGHT = 16, TOP = 30, BOTTOM = 42, COLUMNS = 3;

    public static void write(List<RunReport> runs, Path out) { RunDir.write(out, render(runs), dev.rast.engine.files.AtomicFiles.Durability.RENAMED); }

    public static String render(List<RunReport> runs) {
        List<String> datasets = ReportFormat.datasets(runs);
        List<String> labels = ReportFormat.labels(runs);
        int cols = Math.max(1, Math.min(COLUMNS, datasets.size()));
        int rows = Math.max(1, (datasets.size() + cols - 1) / cols);
        int legendH = 22 * ((runs.size() + 2) / 3) + 10;
        int width = cols * PANEL_W, height = legendH + rows * PANEL_H;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n", width, height, width, height));
        sb.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        for (int i = 0; i < runs.size(); i++) {
            int x = 12 + (i % 3) * (width / 3), y = 18 + (i / 3) * 22;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2.5\"/>"
                    + "<text x=\"%d\" y=\"%d\">%s</text>\n", x, y - 4, x + 24, y - 4, color(i), x + 30, y, xml(labels.get(i))));
        }
        for (int p = 0; p < datasets.size(); p++) {
            int ox = (p % cols) * PANEL_W, oy = legendH + (p / cols) * PANEL_H;
            panel(sb, datasets.get(p), runs, ox, oy);
        }
        return sb.append("</svg>\n").toString();
    }

    private static String color(int i) { return COLORS[i % COLORS.length]; }

    private static void panel(StringBuilder sb, String dataset, List<RunReport> runs, int ox, int oy) {
        int x0 = ox + LEFT, x1 = ox + PANEL_W - RIGHT, y0 = oy + PANEL_H - BOTTOM, y1 = oy + TOP;
        int kMax = 1;
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (RunReport r : runs) {
            DatasetStats d = r.dataset(dataset);
            if (d == null) continue;
            for (Map.Entry<Integer, Double> e : d.passAtK().entrySet()) {
                if (Double.isNaN(e.getValue())) continue;
                kMax = Math.max(kMax, e.getKey());
                lo = Math.min(lo, e.getValue());
                hi = Math.max(hi, e.getValue());
            }
        }
        if (lo > hi) { lo = 0; hi = 100; }
        lo = Math.max(0, Math.floor(lo / 10) * 10);
        hi = Math.min(100, Math.ceil(hi / 10) * 10);
        if (hi - lo < 10) { hi = Math.min(100, lo + 10); lo = hi - 10; }
        double xSpan = Math.max(1e-9, log2(kMax));
        sb.append(String.format(Locale.ROOT, "<g><text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-weight=\"bold\">%s</text>\n",
                (x0 + x1) / 2, oy + 18, xml(dataset)));
        sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#444\"/>\n",
                x0, y1, x1 - x0, y0 - y1));
        double step = hi - lo > 60 ? 20 : 10;
        for (double v = lo; v <= hi + 1e-9; v += step) {
            double y = y0 - (v - lo) / (hi - lo) * (y0 - y1);
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>\n", x0, y, x1, y, x0 - 6, y + 4, v));
        }
        for (int k = 1; k <= kMax; k *= 2) {
            double x = x0 + (kMax == 1 ? 0.5 : log2(k) / xSpan) * (x1 - x0);
            sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>\n", x, y0 + 16, k));
        }
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">k</text>\n", (x0 + x1) / 2, y0 + 34));
        sb.append(String.format(Locale.ROOT, "<text transform=\"translate(%d,%d) rotate(-90)\" text-anchor=\"middle\">pass@k (%%)</text>\n",
                ox + 14, (y0 + y1) / 2));
        for (int i = 0; i < runs.size(); i++) {
            DatasetStats d = runs.get(i).dataset(dataset);
            if (d == null) continue;
            List<String> pts = new ArrayList<>();
            for (Map.Entry<Integer, Double> e : d.passAtK().entrySet()) {
                if (Double.isNaN(e.getValue())) continue;
                double x = x0 + (kMax == 1 ? 0.5 : log2(e.getKey()) / xSpan) * (x1 - x0);
                double y = y0 - (e.getValue() - lo) / (hi - lo) * (y0 - y1);
                pts.add(String.format(Locale.ROOT, "%.1f,%.1f", x, y));
                sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", x, y, color(i)));
            }
            sb.append("<polyline fill=\"none\" stroke-width=\"2\" stroke=\"").append(color(i)).append("\" points=\"")
                    .append(String.join(" ", pts)).append("\"/>\n");
        }
        sb.append("</g>\n");
    }

    private static double log2(double k) { return Math.log(k) / Math.log(2); }

    static String xml(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
