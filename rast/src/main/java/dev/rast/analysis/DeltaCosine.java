package dev.rast.analysis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Similarity of two expert pairs' corrections (the paper's §4.1): at each position the cosine between the logit
 * deltas ΔRᵢ = Eᵢ − Bᵢ and ΔRⱼ = Eⱼ − Bⱼ over the ids all pair models share, averaged per trajectory and then over
 * trajectories, for every two pairs i &lt; j. The headline value of a trajectory is the mean over all such
 * combinations (with two pairs: the one cosine). Rows come in the order E₁, B₁, E₂, B₂, ...: the base M has no part
 * in it, so it need not run.
 */
public final class DeltaCosine extends Analysis {
    private final List<Trajectory> trajectories;
    private final int pairs;
    private final double[][] sums; // [trajectory][combination]
    private final int[] positions;

    public DeltaCosine(int pairs, List<Trajectory> trajectories) {
        if (pairs < 2) throw new dev.rast.engine.BadInputException("delta-cosine compares expert pairs: give at least two (--expert/--expert-base twice)");
        this.pairs = pairs;
        this.trajectories = trajectories;
        sums = new double[trajectories.size()][pairs * (pairs - 1) / 2];
        positions = new int[trajectories.size()];
    }

    @Override public String kind() { return "delta-cosine"; }

    @Override protected String headline() { return "Mean cosine of the pairs' logit deltas ΔR = E − B"; }

    @Override
    public void position(int t, int index, float[][] rows) {
        int shared = Integer.MAX_VALUE;
        for (int r = 0; r < rows.length; r++) shared = Math.min(shared, rows[r].length);
        int c = 0;
        for (int i = 0; i < pairs; i++)
            for (int j = i + 1; j < pairs; j++)
                sums[t][c++] += Distributions.deltaCosine(rows[2 * i], rows[2 * i + 1], rows[2 * j], rows[2 * j + 1], shared);
        positions[t]++;
    }

    /** Trajectory {@code t}'s mean cosine between pairs i and j (0-based, i &lt; j). */
    public double mean(int t, int i, int j) { return sums[t][combination(i, j)] / positions[t]; }

    private int combination(int i, int j) {
        int c = 0;
        for (int a = 0; a < pairs; a++)
            for (int b = a + 1; b < pairs; b++, c++)
                if (a == i && b == j) return c;
        throw new IllegalArgumentException("no pairs " + i + ", " + j);
    }

    @Override
    protected List<Map<String, Object>> perSample() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int t = 0; t < sums.length; t++) {
            double all = 0;
            for (double s : sums[t]) all += s / positions[t];
            Map<String, Object> m = sample(trajectories.get(t).id(), all / sums[t].length, positions[t]);
            List<Double> each = new ArrayList<>();
            for (double s : sums[t]) each.add(s / positions[t]);
            m.put("by_pairs", each);
            out.add(m);
        }
        return out;
    }

    /** The table across pairs: each i &lt; j with its mean over trajectories and interval. */
    public List<Map<String, Object>> table() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < pairs; i++)
            for (int j = i + 1; j < pairs; j++) {
                double[] v = new double[sums.length];
                for (int t = 0; t < v.length; t++) v[t] = mean(t, i, j);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("pair_a", i + 1);
                m.put("pair_b", j + 1);
                m.putAll(Summary.of(v).toJson());
                out.add(m);
            }
        return out;
    }

    @Override
    protected Map<String, Object> extra() { return Map.of("pairs", table()); }

    @Override
    protected String extraMarkdown() {
        StringBuilder b = new StringBuilder("## By pairs of expert pairs\n\n| pair | pair | mean cosine | 95% CI |\n|---:|---:|---:|---|\n");
        for (Map<String, Object> r : table()) {
            @SuppressWarnings("unchecked") List<Double> ci = (List<Double>) r.get("ci95");
            b.append("| ").append(r.get("pair_a")).append(" | ").append(r.get("pair_b")).append(" | ")
                    .append(r.get("mean") instanceof Double d ? num(d) : "n/a").append(" | ")
                    .append(ci == null ? "n/a" : "[" + num(ci.get(0)) + ", " + num(ci.get(1)) + "]").append(" |\n");
        }
        return b.append('\n').toString();
    }
}
