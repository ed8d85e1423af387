package dev.rast.analysis;

import dev.rast.engine.generate.Generator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Path Coverage Rate (the paper's §2.1, Eq. 1–2): how often a configuration's greedy choice is the trajectory's own
 * next token. For tokens t₁..tₙ, PCR = (1/(n−1)) Σᵢ₌₁ⁿ⁻¹ 1[argmax p(· | prompt, t₁..tᵢ) = tᵢ₊₁]; the first token
 * (predicted from the prompt alone) is not counted, as in Eq. 2. Ties go to the lower id, as greedy decoding picks. A one-token trajectory has no PCR (value null, left
 * out of the mean).
 */
public final class PathCoverage extends Analysis {
    private final Configuration config;
    private final List<Trajectory> trajectories;
    private final int[] matches, positions;

    public PathCoverage(Configuration config, List<Trajectory> trajectories) {
        this.config = config;
        this.trajectories = trajectories;
        matches = new int[trajectories.size()];
        positions = new int[trajectories.size()];
    }

    @Override public String kind() { return "pcr"; }

    @Override protected String headline() { return "Path coverage rate of " + config.describe(); }

    @Override
    public void position(int t, int index, float[][] rows) {
        if (index == 0) return;
        positions[t]++;
        if (Generator.argmax(config.row(rows)) == trajectories.get(t).tokens()[index]) matches[t]++;
    }

    public int matches(int t) { return matches[t]; }

    public int positions(int t) { return positions[t]; }

    @Override
    protected List<Map<String, Object>> perSample() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int t = 0; t < matches.length; t++) {
            Map<String, Object> m = sample(trajectories.get(t).id(), positions[t] == 0 ? Double.NaN : (double) matches[t] / positions[t], positions[t]);
            m.put("matches", matches[t]);
            out.add(m);
        }
        return out;
    }

    @Override
    protected Map<String, Object> extra() {
        long mt = 0, pt = 0;
        for (int t = 0; t < matches.length; t++) {
            mt += matches[t];
            pt += positions[t];
        }
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("configuration", config.describe());
        m.put("pooled", pt == 0 ? null : (double) mt / pt); // all positions together, long trajectories weigh more
        m.put("matches", mt);
        m.put("positions", pt);
        return m;
    }
}
