package dev.rast.analysis;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The mean of per-trajectory figures with a 95% confidence interval by the normal approximation: mean ± 1.96 · s/√n,
 * s the sample standard deviation (n − 1). With one value the interval is undefined (null in JSON).
 */
public record Summary(int n, double mean, double sd, double ciLow, double ciHigh) {
    public static final String CI_METHOD = "normal approximation: mean ± 1.96 · sd / √n over trajectories";

    public static Summary of(double[] values) {
        int n = values.length;
        if (n == 0) return new Summary(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        double sum = 0;
        for (double v : values) sum += v;
        double mean = sum / n, ss = 0;
        for (double v : values) ss += (v - mean) * (v - mean);
        double sd = n > 1 ? Math.sqrt(ss / (n - 1)) : Double.NaN;
        double half = 1.96 * sd / Math.sqrt(n);
        return new Summary(n, mean, sd, mean - half, mean + half);
    }

    /** {"mean", "ci95": [lo, hi] or null, "sd", "n"}. */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mean", finite(mean));
        m.put("ci95", Double.isFinite(ciLow) ? java.util.List.of(ciLow, ciHigh) : null);
        m.put("sd", finite(sd));
        m.put("n", n);
        return m;
    }

    static Double finite(double v) { return Double.isFinite(v) ? v : null; }
}
