package dev.rast.analysis;

import java.util.List;
import java.util.Locale;

/** A small hand-written SVG canvas for the analyses' charts: legends, grouped bar panels and scatter panels. */
final class Svg {
    static final String[] COLORS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf"};
    private static final int LEFT = 64, RIGHT = 16, TOP = 34, BOTTOM = 40;

    private final StringBuilder sb = new StringBuilder();
    private final int width;

    Svg(int width, int height) {
        this.width = width;
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n", width, height, width, height));
        sb.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    }

    static String color(int i) { return COLORS[i % COLORS.length]; }

    void legend(int x, int y, int series, String label) {
        sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"18\" height=\"10\" fill=\"%s\"/>"
                + "<text x=\"%d\" y=\"%d\">%s</text>\n", x, y - 9, color(series), x + 24, y, xml(label)));
    }

    /**
     * A panel at {@code top} of height {@code h}: one group per label, one bar per series ({@code v[group][series]})
     * from 0 to {@code max}; {@code err} (may be null) draws ± whiskers.
     */
    void bars(int top, int h, String title, List<String> groups, double[][] v, double max, double[][] err) {
        int x0 = LEFT, x1 = width - RIGHT, y0 = top + h - BOTTOM, y1 = top + TOP;
        double hi = niceCeiling(max);
        frame(top, x0, x1, y0, y1, title, 0, hi);
        double groupW = (double) (x1 - x0) / groups.size();
        int series = v.length == 0 ? 0 : v[0].length;
        double barW = groupW * 0.8 / Math.max(1, series);
        for (int g = 0; g < groups.size(); g++) {
            double gx = x0 + g * groupW + groupW * 0.1;
            for (int s = 0; s < series; s++) {
                double val = Double.isFinite(v[g][s]) ? v[g][s] : 0;
                double y = y0 - val / hi * (y0 - y1), x = gx + s * barW;
                sb.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s</title></rect>\n",
                        x, y, barW * 0.92, y0 - y, color(s), String.format(Locale.ROOT, "%.3g", val)));
                if (err != null && err[g][s] > 0) {
                    double ylo = y0 - (val - err[g][s]) / hi * (y0 - y1), yhi = y0 - (val + err[g][s]) / hi * (y0 - y1), cx = x + barW * 0.46;
                    sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222\"/>\n", cx, ylo, cx, yhi));
                }
            }
            sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                    x0 + (g + 0.5) * groupW, y0 + 16, xml(groups.get(g))));
        }
    }

    /** A scatter panel: points (x[i], y[i]) labelled, axes spanning the data. */
    void scatter(int top, int h, String title, String xLabel, String yLabel, double[] x, double[] y, List<String> labels) {
        int x0 = LEFT, x1 = width - RIGHT, y0 = top + h - BOTTOM, y1 = top + TOP;
        double xlo = min(x), xhi = max(x), ylo = min(y), yhi = max(y);
        if (xhi - xlo < 1e-9) { xlo -= 0.05; xhi += 0.05; }
        if (yhi - ylo < 1e-9) { ylo -= 0.05; yhi += 0.05; }
        double xpad = (xhi - xlo) * 0.1, ypad = (yhi - ylo) * 0.1;
        xlo -= xpad; xhi += xpad; ylo -= ypad; yhi += ypad;
        frame(top, x0, x1, y0, y1, title, ylo, yhi);
        for (int t = 0; t <= 4; t++) {
            double xv = xlo + (xhi - xlo) * t / 4, px = x0 + (double) (x1 - x0) * t / 4;
            sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.3g</text>\n", px, y0 + 16, xv));
        }
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", (x0 + x1) / 2, y0 + 34, xml(xLabel)));
        sb.append(String.format(Locale.ROOT, "<text transform=\"translate(14,%d) rotate(-90)\" text-anchor=\"middle\">%s</text>\n", (y0 + y1) / 2, xml(yLabel)));
        for (int i = 0; i < x.length; i++) {
            double px = x0 + (x[i] - xlo) / (xhi - xlo) * (x1 - x0), py = y0 - (y[i] - ylo) / (yhi - ylo) * (y0 - y1);
            boolean right = px > x0 + 0.6 * (x1 - x0); // label on the left of points near the right edge, so it is not cut
            sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\"%s>%s</text>\n",
                    px, py, color(i), right ? px - 8 : px + 8, py - 6, right ? " text-anchor=\"end\"" : "", xml(labels.get(i))));
        }
    }

    /** A line panel: one polyline per series over shared x values. */
    void lines(int top, int h, String title, String xLabel, double[] x, double[][] ys, double ylo, double yhi) {
        int x0 = LEFT, x1 = width - RIGHT, y0 = top + h - BOTTOM, y1 = top + TOP;
        double xlo = min(x), xhi = max(x);
        if (xhi - xlo < 1e-9) { xlo -= 0.5; xhi += 0.5; }
        frame(top, x0, x1, y0, y1, title, ylo, yhi);
        for (double xv : x) {
            double px = x0 + (xv - xlo) / (xhi - xlo) * (x1 - x0);
            sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", px, y0 + 16, trim(xv)));
        }
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", (x0 + x1) / 2, y0 + 34, xml(xLabel)));
        for (int s = 0; s < ys.length; s++) {
            StringBuilder pts = new StringBuilder();
            for (int i = 0; i < x.length; i++) {
                if (!Double.isFinite(ys[s][i])) continue;
                double px = x0 + (x[i] - xlo) / (xhi - xlo) * (x1 - x0), py = y0 - (ys[s][i] - ylo) / (yhi - ylo) * (y0 - y1);
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
                sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", px, py, color(s)));
            }
            sb.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"%s\" points=\"%s\"/>\n", color(s), pts.toString().strip()));
        }
    }

    private void frame(int top, int x0, int x1, int y0, int y1, String title, double lo, double hi) {
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-weight=\"bold\">%s</text>\n",
                (x0 + x1) / 2, top + 20, xml(title)));
        sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#444\"/>\n", x0, y1, x1 - x0, y0 - y1));
        for (int t = 0; t <= 4; t++) {
            double v = lo + (hi - lo) * t / 4, y = y0 - (double) (y0 - y1) * t / 4;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", x0, y, x1, y, x0 - 6, y + 4, trim(v)));
        }
    }

    String end() { return sb.append("</svg>\n").toString(); }

    /** The smallest of 1, 2, 5 × 10ᵏ at or above {@code v} (a round top for an axis). */
    static double niceCeiling(double v) {
        if (!(v > 0)) return 1;
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 5, 10}) if (m * p >= v) return m * p;
        return 10 * p;
    }

    private static String trim(double v) { return String.format(Locale.ROOT, "%.3g", v); }

    private static double min(double[] a) { double m = Double.POSITIVE_INFINITY; for (double v : a) if (Double.isFinite(v)) m = Math.min(m, v); return m == Double.POSITIVE_INFINITY ? 0 : m; }

    private static double max(double[] a) { double m = Double.NEGATIVE_INFINITY; for (double v : a) if (Double.isFinite(v)) m = Math.max(m, v); return m == Double.NEGATIVE_INFINITY ? 1 : m; }

    static String xml(String s) { return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;"); }
}
