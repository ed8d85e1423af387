package dev.rast.analysis;

import java.util.List;
import java.util.Locale;

/**
 * A small hand-written SVG canvas for the analyses' and sweeps' charts: legends, grouped bar panels, scatter panels
 * and line panels. A few dozen elements each, so no plotting library is needed.
 */
public final class Svg {
    static final String[] COLORS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf"};
    private static final int LEFT = 64, RIGHT = 16, TOP = 34, BOTTOM = 40;

    private final StringBuilder sb = new StringBuilder();
    private final int width;

    public Svg(int width, int height) {
        this.width = width;
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n", width, height, width, height));
        sb.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    }

    static String color(int i) { return COLORS[i % COLORS.length]; }

    public void legend(int x, int y, int series, String label) {
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

    /**
     * A line panel at {@code top} of height {@code h}: x from the smallest to the largest of {@code x} (ticks at
     * those values), y from {@code lo} to {@code hi} with a tick every {@code step} (a darker line at 0, and at 1
     * when {@code markOne}); its {@link LinePanel#line lines} are drawn by the caller.
     */
    public LinePanel linePanel(int top, int h, String title, String xLabel, double[] x, double lo, double hi, double step, boolean markOne) {
        return new LinePanel(top, h, title, xLabel, x, lo, hi, step, markOne);
    }

    /** A panel of lines over shared x values. */
    public final class LinePanel {
        private final int x0 = LEFT, x1 = width - RIGHT, y0, y1;
        private final double[] x;
        private final double xlo, xhi, lo, hi;

        private LinePanel(int top, int h, String title, String xLabel, double[] x, double lo, double hi, double step, boolean markOne) {
            this.x = x.clone();
            y0 = top + h - BOTTOM;
            y1 = top + TOP;
            double a = min(x), b = max(x);
            if (b - a < 1e-12) { a -= 0.5; b += 0.5; }
            xlo = a;
            xhi = b;
            this.lo = lo;
            this.hi = hi;
            title(top, title);
            sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#444\"/>\n", x0, y1, x1 - x0, y0 - y1));
            for (double v = lo; v <= hi + step / 2; v += step) {
                boolean mark = Math.abs(v) < 1e-9 || markOne && Math.abs(v - 1) < 1e-9;
                sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                        x0, py(v), x1, py(v), mark ? "#999" : "#ddd", x0 - 6, py(v) + 4, trim(Math.round(v * 1000) / 1000.0)));
            }
            for (double v : x)
                sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", px(v), y0 + 16, trim(v)));
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", (x0 + x1) / 2, y0 + 34, xml(xLabel)));
        }

        private double px(double v) { return x0 + (v - xlo) / (xhi - xlo) * (x1 - x0); }

        private double py(double v) { return y0 - (v - lo) / (hi - lo) * (y0 - y1); }

        /** One line through (x[i], y[i]), NaNs skipped, in series {@code series}'s colour, dashed or solid. */
        public void line(double[] y, int series, boolean dashed) {
            StringBuilder pts = new StringBuilder();
            for (int i = 0; i < x.length; i++) {
                if (!Double.isFinite(y[i])) continue;
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px(x[i]), py(y[i])));
                sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", px(x[i]), py(y[i]), color(series)));
            }
            sb.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"%s\"%s points=\"%s\"/>\n",
                    color(series), dashed ? " stroke-dasharray=\"6,4\"" : "", pts.toString().strip()));
        }
    }

    private void title(int top, String title) {
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-weight=\"bold\">%s</text>\n",
                (LEFT + width - RIGHT) / 2, top + 20, xml(title)));
    }

    private void frame(int top, int x0, int x1, int y0, int y1, String title, double lo, double hi) {
        title(top, title);
        sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#444\"/>\n", x0, y1, x1 - x0, y0 - y1));
        for (int t = 0; t <= 4; t++) {
            double v = lo + (hi - lo) * t / 4, y = y0 - (double) (y0 - y1) * t / 4;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", x0, y, x1, y, x0 - 6, y + 4, trim(v)));
        }
    }

    public String end() { return sb.append("</svg>\n").toString(); }

    /** The smallest of 1, 2, 5 × 10ᵏ at or above {@code v} (a round top for an axis). */
    static double niceCeiling(double v) {
        if (!(v > 0)) return 1;
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 5, 10}) if (m * p >= v) return m * p;
        return 10 * p;
    }

    /** An axis label: three significant digits, without trailing zeros ("0.25", "100", "-0.5"). */
    static String trim(double v) {
        if (v == 0) return "0";
        return new java.math.BigDecimal(String.format(Locale.ROOT, "%.3g", v)).stripTrailingZeros().toPlainString();
    }

    private static double min(double[] a) { double m = Double.POSITIVE_INFINITY; for (double v : a) if (Double.isFinite(v)) m = Math.min(m, v); return m == Double.POSITIVE_INFINITY ? 0 : m; }

    private static double max(double[] a) { double m = Double.NEGATIVE_INFINITY; for (double v : a) if (Double.isFinite(v)) m = Math.max(m, v); return m == Double.NEGATIVE_INFINITY ? 1 : m; }

    static String xml(String s) { return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;"); }
}
