package dev.rast.eval.metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The evaluation metrics, as pure functions on per-sample verdicts. Values are fractions in [0, 1]; reports show
 * percentages.
 */
public final class Metrics {
    private Metrics() {}

    /**
     * The unbiased pass@k estimator for one problem with {@code c} correct among {@code n} samples:
     * 1 − C(n−c, k)/C(n, k), computed as 1 − ∏_{i=n−c+1}^{n} (1 − k/i) so no binomial coefficient is formed
     * (C(32, 16) is fine in a double, C(1024, 512) is not). Same formula as SimpleRL's evaluate.py.
     */
    public static double passAtK(int n, int c, int k) {
        if (n < 1 || c < 0 || c > n || k < 1 || k > n)
            throw new IllegalArgumentException("pass@k needs 1 <= k <= n and 0 <= c <= n; got n=" + n + " c=" + c + " k=" + k);
        if (n - c < k) return 1.0;
        double miss = 1.0;
        for (int i = n - c + 1; i <= n; i++) miss *= 1.0 - (double) k / i;
        return 1.0 - miss;
    }

    /** pass@k averaged over problems, each with {@code n} samples and {@code correct[p]} of them right. */
    public static double meanPassAtK(int[] correct, int n, int k) {
        if (correct.length == 0) return Double.NaN;
        double sum = 0;
        for (int c : correct) sum += passAtK(n, c, k);
        return sum / correct.length;
    }

    /**
     * The k values reported: 1, 2, 4, ... up to n (SimpleRL's powers of two), plus n itself when n is not a
     * power of two (then pass@n is SimpleRL's "pass_acc", any sample correct).
     */
    public static List<Integer> kValues(int n) {
        List<Integer> ks = new ArrayList<>();
        for (int k = 1; k <= n; k *= 2) ks.add(k);
        if (!ks.isEmpty() && ks.get(ks.size() - 1) != n) ks.add(n);
        return ks;
    }

    /** The fraction of correct samples over all problems and samples: the paper's "Avg." (SimpleRL's acc). */
    public static double pass1Average(List<boolean[]> verdicts) {
        long right = 0, total = 0;
        for (boolean[] v : verdicts) {
            for (boolean b : v) if (b) right++;
            total += v.length;
        }
        return total == 0 ? Double.NaN : (double) right / total;
    }

    /** One sample's vote: its normalized prediction (null when there was none) and its verdict. */
    public record Vote(String pred, boolean correct) {
        /** RAST votes on str(pred), so SimpleRL's None prediction is the string "None". */
        String key() { return pred == null ? "None" : pred; }
    }

    /**
     * Majority vote over the given samples, in the order given: the prediction with the most votes wins, by exact
     * string equality of the normalized predictions (not by math_equal), ties going to the prediction met first
     * (RAST's Counter.most_common). Returns whether the winning prediction is correct.
     */
    public static boolean majorityCorrect(List<Vote> votes) {
        // Counter.most_common(1) is max() over the counts in insertion order: among tied counts, the prediction met
        // first wins, even when another one reached that count earlier ("1", "2", "2", "1" elects "1").
        Map<String, Integer> counts = new java.util.LinkedHashMap<>();
        Map<String, Boolean> verdict = new HashMap<>();
        for (Vote v : votes) {
            counts.merge(v.key(), 1, Integer::sum);
            verdict.putIfAbsent(v.key(), v.correct());
        }
        String best = null;
        int bestCount = 0;
        for (Map.Entry<String, Integer> e : counts.entrySet())
            if (e.getValue() > bestCount) { best = e.getKey(); bestCount = e.getValue(); }
        return best != null && verdict.get(best);
    }

    /** How many random draws maj@k averages over for k < n, as RAST's math_eval_pred.py (one draw when k = n). */
    public static final int MAJORITY_DRAWS = 10;

    /**
     * maj@k as RAST measures it: draw k of the n sample indices at random (the same draw for every problem), vote
     * per problem, and average the accuracy over {@link #MAJORITY_DRAWS} draws; for k = n one draw of all samples
     * in their order. The draws come from {@code seed}, so a report is reproducible.
     *
     * @param votes per problem, its n votes indexed by sample number
     */
    public static double majorityAtK(List<List<Vote>> votes, int n, int k, long seed) {
        if (votes.isEmpty()) return Double.NaN;
        if (k < 1 || k > n) throw new IllegalArgumentException("maj@k needs 1 <= k <= n; got k=" + k + " n=" + n);
        SplittableRandom rnd = new SplittableRandom(seed);
        int draws = k == n ? 1 : MAJORITY_DRAWS;
        double sum = 0;
        for (int d = 0; d < draws; d++) {
            int[] pick = k == n ? identity(n) : sample(rnd, n, k);
            int right = 0;
            for (List<Vote> problem : votes) {
                List<Vote> drawn = new ArrayList<>(k);
                for (int i : pick) drawn.add(problem.get(i));
                if (majorityCorrect(drawn)) right++;
            }
            sum += (double) right / votes.size();
        }
        return sum / draws;
    }

    private static int[] identity(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }

    /** k distinct indices of 0..n-1 in random order (a partial Fisher-Yates shuffle, like random.sample). */
    static int[] sample(SplittableRandom rnd, int n, int k) {
        int[] a = identity(n);
        for (int i = 0; i < k; i++) {
            int j = i + rnd.nextInt(n - i);
            int t = a[i]; a[i] = a[j]; a[j] = t;
        }
        return java.util.Arrays.copyOf(a, k);
    }

    /** The mean of the response lengths in tokens. */
    public static double meanLength(int[] tokens) {
        if (tokens.length == 0) return Double.NaN;
        long s = 0;
        for (int t : tokens) s += t;
        return (double) s / tokens.length;
    }

    /**
     * The recovery rate (acc − acc_base)/(acc_ceiling − acc_base): which share of the gap between the base model
     * and the ceiling (the RL-trained large model) a method closes. NaN when base and ceiling are equal.
     */
    public static double recoveryRate(double acc, double base, double ceiling) {
        return ceiling == base ? Double.NaN : (acc - base) / (ceiling - base);
    }
}
