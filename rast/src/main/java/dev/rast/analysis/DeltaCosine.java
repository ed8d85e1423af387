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
    private double[] recovery;        // of RAST with pair j (j ≥ 2), when run folders were named
    private List<String> recoveryRuns;

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

    /**
     * The paper's Fig. 4: {@code rates[j − 2]} is the recovery rate of RAST with pair j (j = 2..pairs), from run
     * {@code runs[j − 2]}; each is plotted against the mean cosine of pair j's ΔR with pair 1's.
     */
    public DeltaCosine withRecovery(double[] rates, List<String> runs) {
        if (rates.length != pairs - 1 || runs.size() != pairs - 1)
            throw new IllegalArgumentException(rates.length + " recovery rates for " + pairs + " pairs");
        recovery = rates.clone();
        recoveryRuns = List.copyOf(runs);
        return this;
    }

    /** Mean over trajectories of the cosine between pair 1 and pair j (1-based j ≥ 2). */
    private double meanWithFirst(int j) {
        double s = 0;
        for (int t = 0; t < sums.length; t++) s += mean(t, 0, j - 1);
        return s / sums.length;
    }

    private List<Map<String, Object>> scatter() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int j = 2; recovery != null && j <= pairs; j++) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("pair", j);
            m.put("run", recoveryRuns.get(j - 2));
            m.put("cosine_with_pair_1", meanWithFirst(j));
            m.put("recovery_rate", Summary.finite(recovery[j - 2]));
            out.add(m);
        }
        return out;
    }

    /** The cosine-against-recovery scatter as SVG, or null without recovery rates. */
    public String scatterSvg() {
        if (recovery == null) return null;
        double[] x = new double[pairs - 1];
        List<String> labels = new ArrayList<>();
        for (int j = 2; j <= pairs; j++) {
            x[j - 2] = meanWithFirst(j);
            labels.add("pair " + j + " (" + recoveryRuns.get(j - 2) + ")");
        }
        Svg svg = new Svg(640, 420);
        svg.scatter(0, 420, "recovery rate against ΔR cosine with pair 1", "mean cosine of ΔR_j with ΔR_1", "recovery rate", x, recovery, labels);
        return svg.end();
    }

    @Override
    protected Map<String, Object> extra() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pairs", table());
        if (recovery != null) m.put("scatter", scatter());
        return m;
    }

    @Override
    protected String extraMarkdown() {
        StringBuilder b = new StringBuilder("## By pairs of expert pairs\n\n| pair | pair | mean cosine | 95% CI |\n|---:|---:|---:|---|\n");
        for (Map<String, Object> r : table()) {
            @SuppressWarnings("unchecked") List<Double> ci = (List<Double>) r.get("ci95");
            b.append("| ").append(r.get("pair_a")).append(" | ").append(r.get("pair_b")).append(" | ")
                    .append(r.get("mean") instanceof Double d ? num(d) : "n/a").append(" | ")
                    .append(ci == null ? "n/a" : "[" + num(ci.get(0)) + ", " + num(ci.get(1)) + "]").append(" |\n");
        }
        if (recovery != null) {
            b.append("\n## Recovery rate against cosine with pair 1\n\n| pair | run | mean cosine with pair 1 | recovery rate |\n|---:|---|---:|---:|\n");
            for (Map<String, Object> r : scatter())
                b.append("| ").append(r.get("pair")).append(" | ").append(cell(String.valueOf(r.get("run")))).append(" | ")
                        .append(num((Double) r.get("cosine_with_pair_1"))).append(" | ")
                        .append(r.get("recovery_rate") instanceof Double d ? num(d) : "n/a").append(" |\n");
        }
        return b.append('\n').toString();
    }
}
