package dev.rast.analysis;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Per-token KL divergence along trajectories (the paper's §4.2): at each position, KL(P ‖ Q) in nats between two
 * configurations' next-token distributions, e.g. P = RAST's fused M + λ(E − B) and Q = M. Per trajectory the mean
 * over its positions; over trajectories the mean of those. The tokens where P departs most from Q are gathered by
 * their text: for each token string, how often it occurs and its mean KL.
 */
public final class TokenKl extends Analysis {
    /** One token string's KL over all its occurrences. */
    public record TokenStat(String token, int count, double total) {
        public double mean() { return total / count; }
    }

    private final Configuration p, q;
    private final List<Trajectory> trajectories;
    private final IntFunction<String> tokenText;
    private final double[][] kl;
    private final Map<String, double[]> byToken = new HashMap<>(); // token text -> {count, total}
    private int topTokens = 20, minCount = 3;

    /** {@code tokenText}: how a token id reads (for the top-KL table and pages). */
    public TokenKl(Configuration p, Configuration q, List<Trajectory> trajectories, IntFunction<String> tokenText) {
        this.p = p;
        this.q = q;
        this.trajectories = trajectories;
        this.tokenText = tokenText;
        kl = new double[trajectories.size()][];
        for (int t = 0; t < kl.length; t++) kl[t] = new double[trajectories.get(t).tokens().length];
    }

    /** How many tokens the top-KL table lists, and how often a token must occur to be listed. */
    public TokenKl top(int tokens, int minCount) {
        this.topTokens = tokens;
        this.minCount = minCount;
        return this;
    }

    @Override public String kind() { return "kl"; }

    @Override protected String headline() { return "Mean KL(P ‖ Q) per token, nats, P = " + p.describe() + ", Q = " + q.describe(); }

    @Override
    public void position(int t, int index, float[][] rows) {
        double d = Distributions.kl(p.row(rows), q.row(rows));
        kl[t][index] = d;
        double[] s = byToken.computeIfAbsent(tokenText.apply(trajectories.get(t).tokens()[index]), k -> new double[2]);
        s[0]++;
        s[1] += d;
    }

    /** The KL at every position of trajectory {@code t}. */
    public double[] perPosition(int t) { return kl[t]; }

    /** Token strings seen at least {@code minCount} times, by mean KL, largest first. */
    public List<TokenStat> topTokens() {
        List<TokenStat> all = new ArrayList<>();
        for (var e : byToken.entrySet())
            if (e.getValue()[0] >= minCount) all.add(new TokenStat(e.getKey(), (int) e.getValue()[0], e.getValue()[1]));
        all.sort(Comparator.comparingDouble(TokenStat::mean).reversed().thenComparing(TokenStat::token));
        return all.subList(0, Math.min(topTokens, all.size()));
    }

    @Override
    protected List<Map<String, Object>> perSample() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int t = 0; t < kl.length; t++) {
            double sum = 0, max = 0;
            for (double d : kl[t]) {
                sum += d;
                max = Math.max(max, d);
            }
            Map<String, Object> m = sample(trajectories.get(t).id(), sum / kl[t].length, kl[t].length);
            m.put("max", max);
            out.add(m);
        }
        return out;
    }

    @Override
    protected Map<String, Object> extra() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("p", p.describe());
        m.put("q", q.describe());
        m.put("min_count", minCount);
        List<Map<String, Object>> top = new ArrayList<>();
        for (TokenStat s : topTokens()) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("token", s.token());
            r.put("count", s.count());
            r.put("mean_kl", s.mean());
            r.put("total_kl", s.total());
            top.add(r);
        }
        m.put("top_tokens", top);
        return m;
    }

    @Override
    protected String extraMarkdown() {
        StringBuilder b = new StringBuilder("## Tokens with the largest mean KL (seen at least " + minCount + " times)\n\n");
        b.append("| token | count | mean KL | total KL |\n|---|---:|---:|---:|\n");
        for (TokenStat s : topTokens())
            b.append("| `").append(cell(s.token()).replace("`", "'")).append("` | ").append(s.count()).append(" | ")
                    .append(num(s.mean())).append(" | ").append(num(s.total())).append(" |\n");
        return b.append('\n').toString();
    }
}
