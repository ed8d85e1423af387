package dev.rast.engine.sample;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Chooses the next token from one row of f32 logits (already fused, see {@link RastFusion}): temperature → top-k →
 * top-p → min-p → draw, with the semantics of Hugging Face's TemperatureLogitsWarper, TopKLogitsWarper,
 * TopPLogitsWarper and MinPLogitsWarper applied in that order (as {@code generate} does), or argmax when the
 * temperature is 0. Every stage after the first works on the survivors of the one before, renormalized.
 *
 * <p>Exact rules (s = logits / temperature, in f32 as HF divides):
 * <ul>
 *   <li>top-k: keep every token whose s is ≥ the k-th largest s, so tokens tied with the k-th are all kept.
 *   <li>top-p: in order of s descending (ties: lower id first), keep a token when the probability of the tokens
 *       before it is &lt; p (HF: drop where the ascending cumulative probability is ≤ 1 − p); the first always stays.
 *       That is the smallest prefix whose probability reaches p. Which of several tokens tied exactly at the
 *       boundary HF keeps depends on torch.sort's internals (it differs with the vocabulary size); here the lower id.
 *   <li>min-p: keep a token when p(token) ≥ minP · p(top token), i.e. exp(s − max s) ≥ minP.
 *   <li>draw: one {@code rng.nextDouble()} per token, inverse CDF over the survivors.
 *   <li>greedy: the largest logit, the lowest id among ties (as torch.argmax).
 * </ul>
 * Probabilities are exp(s − max s) in double; normalizers are sums in double.
 *
 * <p>The returned log-probability is that of the chosen token under log_softmax(logits) of the row as given, before
 * temperature and truncation (what RAST reports as the fused model's log-probability).
 *
 * <p>Not thread-safe: it keeps scratch arrays sized to the vocabulary (a few MB at 152k). It holds no per-sequence
 * state (the random generator is passed in), so one Sampler per thread serves any number of sequences.
 */
public final class Sampler {
    /** The chosen id and its log-probability under log_softmax of the logits given to {@link #sample}. */
    public record Choice(int token, double logprob) {}

    /** Below this distance from the max, top-p sorts only candidates above the cut (see {@link #topP}). */
    private static final double FIRST_GAP = 16;

    private final SamplingParams params;
    private float[] scaled = new float[0];
    private int[] kept = new int[0];
    private double[] weight = new double[0];
    private long[] keys = new long[0];
    private float[] select = new float[0];
    private float scaledMax;

    public Sampler(SamplingParams params) { this.params = params; }

    public SamplingParams params() { return params; }

    /** Chooses a token from {@code logits} (−∞ entries are never chosen), drawing from {@code rng} unless greedy. */
    public Choice sample(float[] logits, RandomGenerator rng) {
        double logNormalizer = logSumExp(logits);
        int token = params.isGreedy() ? argmax(logits) : draw(logits, rng);
        return new Choice(token, logits[token] - logNormalizer);
    }

    /** Index of the largest value; the lowest index wins ties, as torch.argmax does. */
    public static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    /** log Σ exp(l), in double around the max so nothing overflows. */
    static double logSumExp(float[] l) {
        float max = checkedMax(l);
        double sum = 0;
        for (float x : l) sum += Math.exp((double) x - max);
        return max + Math.log(sum);
    }

    /** The max of a logits row, refusing rows a distribution cannot come from (NaN, +∞, or nothing finite). */
    static float checkedMax(float[] l) {
        if (l.length == 0) throw new IllegalArgumentException("empty logits row");
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < l.length; i++) {
            float x = l[i];
            if (Float.isNaN(x) || x == Float.POSITIVE_INFINITY)
                throw new IllegalArgumentException("logit of id " + i + " is " + x);
            if (x > max) max = x;
        }
        if (max == Float.NEGATIVE_INFINITY) throw new IllegalArgumentException("every logit is -Infinity");
        return max;
    }

    private int draw(float[] logits, RandomGenerator rng) {
        int n = truncate(logits);
        return pick(scaledMax, n, rng.nextDouble());
    }

    /** The ids a draw can pick from (temperature > 0), ascending: what the truncation stages keep. For tests. */
    int[] survivors(float[] logits) {
        int n = truncate(logits); // first: it may grow the scratch arrays
        int[] out = Arrays.copyOf(kept, n);
        Arrays.sort(out);
        return out;
    }

    /** Temperature, top-k, top-p, min-p: leaves the surviving ids in kept[0..n) and returns n. */
    private int truncate(float[] logits) {
        if (params.isGreedy()) throw new IllegalStateException("greedy decoding truncates nothing");
        int vocab = logits.length;
        ensureScratch(vocab);
        float t = (float) params.temperature();
        for (int v = 0; v < vocab; v++) scaled[v] = logits[v] / t;
        float max = scaledMax = checkedMax(scaled);
        // Every stage keeps the top token, so `max` stays the max of the survivors throughout.
        int n = params.topK() > 0 && params.topK() < vocab ? topK(vocab, params.topK()) : all(vocab);
        if (params.topP() < 1) n = topP(max, n, params.topP());
        if (params.minP() > 0) n = minP(max, n, params.minP());
        return n;
    }

    private int all(int vocab) {
        for (int v = 0; v < vocab; v++) kept[v] = v;
        return vocab;
    }

    /** Keeps ids whose s ≥ the k-th largest s (selection, not a sort), in id order; returns how many. */
    private int topK(int vocab, int k) {
        System.arraycopy(scaled, 0, select, 0, vocab);
        float kth = kthLargest(select, vocab, k);
        int n = 0;
        for (int v = 0; v < vocab; v++) if (scaled[v] >= kth) kept[n++] = v;
        return n;
    }

    /**
     * Keeps the smallest prefix, in order of s descending then id ascending, of the {@code n} kept ids whose
     * probability reaches p; leaves it sorted at the front of {@code kept}. Only the candidates with s above a cut
     * are sorted: the cut starts 16 below the max and moves down until the candidates hold at least p of the mass
     * (plus a 1e-9 margin for summation order); they are then a prefix of the full order that contains the answer.
     */
    private int topP(float max, int n, double p) {
        double total = 0;
        for (int j = 0; j < n; j++) total += weight[j] = Math.exp((double) scaled[kept[j]] - max);
        double need = p * total;
        int m;
        for (double gap = FIRST_GAP; ; gap *= 2) {
            float cut = gap > 1e6 ? Float.NEGATIVE_INFINITY : (float) (max - gap);
            double mass = 0;
            m = 0;
            for (int j = 0; j < n; j++) {
                int v = kept[j];
                if (scaled[v] >= cut) {
                    keys[m++] = sortKey(scaled[v], v);
                    mass += weight[j];
                }
            }
            if (mass >= need * (1 + 1e-9) || m == n) break;
        }
        Arrays.sort(keys, 0, m);
        double before = 0;
        int r = 0;
        for (; r < m; r++) {
            if (r > 0 && before >= need) break;
            int v = (int) keys[r];
            kept[r] = v;
            before += Math.exp((double) scaled[v] - max);
        }
        return r;
    }

    /** Keeps ids with exp(s − max) ≥ minP, in their current order; returns how many. */
    private int minP(float max, int n, double minP) {
        int m = 0;
        for (int j = 0; j < n; j++) {
            int v = kept[j];
            if (Math.exp((double) scaled[v] - max) >= minP) kept[m++] = v;
        }
        return m;
    }

    /** Inverse CDF: the first kept id whose cumulative weight exceeds u · total. */
    private int pick(float max, int n, double u) {
        double total = 0;
        for (int j = 0; j < n; j++) total += weight[j] = Math.exp((double) scaled[kept[j]] - max);
        double target = u * total;
        double cum = 0;
        int last = kept[0];
        for (int j = 0; j < n; j++) {
            if (weight[j] == 0) continue; // −∞ logits kept by a tie in top-k are never drawn
            cum += weight[j];
            last = kept[j];
            if (target < cum) return last;
        }
        return last; // u·total rounded up to the full sum
    }

    /**
     * A long that sorts ascending in order of s descending, then id ascending: the high half is the float's
     * bits made order-preserving as a signed int and inverted, the low half the id. +0.0 replaces −0.0 so the
     * two zeros tie as they compare.
     */
    static long sortKey(float s, int id) {
        int bits = Float.floatToIntBits(s + 0.0f);
        int ordered = bits < 0 ? bits ^ 0x7fffffff : bits;
        return ((long) ~ordered << 32) | id;
    }

    /** The k-th largest of a[0..n) (k ≥ 1), by quickselect with a three-way partition (many ties stay linear). */
    static float kthLargest(float[] a, int n, int k) {
        int lo = 0, hi = n - 1, target = k - 1;
        while (lo < hi) {
            float pivot = median(a[lo], a[(lo + hi) >>> 1], a[hi]);
            int gt = lo, i = lo, lt = hi; // [lo, gt) > pivot, [gt, i) == pivot, (lt, hi] < pivot
            while (i <= lt) {
                if (a[i] > pivot) swap(a, gt++, i++);
                else if (a[i] < pivot) swap(a, i, lt--);
                else i++;
            }
            if (target < gt) hi = gt - 1;
            else if (target > lt) lo = lt + 1;
            else return pivot;
        }
        return a[lo];
    }

    private static float median(float a, float b, float c) {
        return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    }

    private static void swap(float[] a, int i, int j) {
        float t = a[i];
        a[i] = a[j];
        a[j] = t;
    }

    private void ensureScratch(int vocab) {
        if (scaled.length >= vocab) return;
        scaled = new float[vocab];
        kept = new int[vocab];
        weight = new double[vocab];
        keys = new long[vocab];
        select = new float[vocab];
    }
}
