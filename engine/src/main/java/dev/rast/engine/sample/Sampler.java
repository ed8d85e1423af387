package dev.rast.engine.sample;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Chooses the next token from one row of f32 logits (already fused: the rast module's RastFusion): temperature → top-k →
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
 *   <li>draw: one {@code rng.nextDouble()} per token, inverse CDF over the survivors in id order (as the device
 *       sampler walks them, so that the same draw gives the same id on both).
 *   <li>greedy: the largest logit, the lowest id among ties (as torch.argmax).
 * </ul>
 * Weights are exp(s − max s) in f32 (vectorized, see {@link LogitMath}); every normalizer and cumulative sum is in
 * double. Min-p compares in the log domain (s − max s ≥ ln minP), so ties with the top survive minP = 1 exactly.
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

    /** Top-p bins s over [max − BUCKET_RANGE, max] in BUCKETS steps (see {@link #topP}). */
    private static final int BUCKETS = 2048;
    private static final float BUCKET_RANGE = 64;
    /**
     * Leading buckets {@link #topPOfAll} tries before all of them: s within 8, then 32 nats of the top (weight
     * ratios 3.4e-4 and 1.3e-14).
     */
    private static final int[] NEAR_TOP_BUCKETS = {256, 1024};

    private final SamplingParams params;
    /** s = logits / temperature: {@link #scaledBuffer}, or at temperature 1 the caller's row itself (read only). */
    private float[] scaled;
    private float[] scaledBuffer = new float[0];
    /** Σ weight over the whole vocabulary. */
    private double totalWeight;
    private int[] kept = new int[0];
    private float[] weight = new float[0];
    private long[] keys = new long[0];
    private float[] select = new float[0];
    private final double[] bucketMass = new double[BUCKETS];

    public Sampler(SamplingParams params) { this.params = params; }

    public SamplingParams params() { return params; }

    /** Chooses a token from {@code logits} (−∞ entries are never chosen), drawing from {@code rng} unless greedy. */
    public Choice sample(float[] logits, RandomGenerator rng) {
        int vocab = logits.length;
        ensureScratch(vocab);
        // log_softmax normalizer: log Σ exp(l) = max + log Σ exp(l − max)
        float max = checkedMax(logits, vocab);
        LogitMath.expShifted(logits, vocab, max, weight);
        double mass = LogitMath.sum(weight, vocab);
        double logNormalizer = max + Math.log(mass);
        int token;
        if (params.isGreedy()) token = LogitMath.firstIndexOf(logits, vocab, max);
        else {
            // At temperature 1, s = l / 1 = l exactly: the weights and their sum just computed are those of s.
            try {
                float sMax = params.temperature() == 1 ? useUnscaled(logits, max, mass) : scale(logits);
                token = pick(truncate(sMax, vocab), vocab, rng.nextDouble());
            } finally {
                scaled = null; // do not hold on to the caller's row
            }
        }
        return new Choice(token, logits[token] - logNormalizer);
    }

    /** log_softmax(logits)[token]: the log-probability {@link #sample} reports, for a token chosen elsewhere. */
    public double logprob(float[] logits, int token) {
        ensureScratch(logits.length);
        return logits[token] - logNormalizer(logits, checkedMax(logits, logits.length));
    }

    /** log Σ exp(l) = max + log Σ exp(l − max), the sum in double. Uses the weight scratch row. */
    private double logNormalizer(float[] logits, float max) {
        LogitMath.expShifted(logits, logits.length, max, weight);
        return max + Math.log(LogitMath.sum(weight, logits.length));
    }

    /** Index of the largest value; the lowest index wins ties, as torch.argmax does. */
    public static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    /** The max of a logits row, refusing rows a distribution cannot come from (NaN, +∞, or nothing finite). */
    static float checkedMax(float[] l, int n) {
        if (n == 0) throw new IllegalArgumentException("empty logits row");
        float max = LogitMath.max(l, n);
        if (Float.isNaN(max) || max == Float.POSITIVE_INFINITY) {
            for (int i = 0; i < n; i++)
                if (Float.isNaN(l[i]) || l[i] == Float.POSITIVE_INFINITY)
                    throw new IllegalArgumentException("logit of id " + i + " is " + l[i]);
        }
        if (max == Float.NEGATIVE_INFINITY) throw new IllegalArgumentException("every logit is -Infinity");
        return max;
    }

    /** The ids a draw can pick from (temperature > 0), ascending: what the truncation stages keep. For tests. */
    int[] survivors(float[] logits) {
        ensureScratch(logits.length);
        int n = truncate(scale(logits), logits.length);
        int[] out = Arrays.copyOf(kept, n);
        Arrays.sort(out);
        return out;
    }

    /** Temperature: s = logits / T into the scratch row, weight = exp(s − max s), their sum; returns max s. */
    private float scale(float[] logits) {
        if (params.isGreedy()) throw new IllegalStateException("greedy decoding truncates nothing");
        int vocab = logits.length;
        LogitMath.divide(logits, vocab, (float) params.temperature(), scaledBuffer);
        scaled = scaledBuffer;
        float max = checkedMax(scaled, vocab);
        LogitMath.expShifted(scaled, vocab, max, weight);
        totalWeight = LogitMath.sum(weight, vocab);
        return max;
    }

    /** {@link #scale} at temperature 1, where weight and its sum already hold what it would compute. */
    private float useUnscaled(float[] logits, float max, double mass) {
        scaled = logits;
        totalWeight = mass;
        return max;
    }

    /**
     * Top-k, top-p, min-p over s (see {@link #scale}): leaves the surviving ids in kept[0..n) and returns n.
     */
    private int truncate(float max, int vocab) {
        // Every stage keeps the top token, so `max` stays the max of the survivors throughout.
        boolean topK = params.topK() > 0 && params.topK() < vocab;
        int n;
        if (topK) n = topP(max, topK(vocab, params.topK()), vocab, params.topP());
        else if (params.topP() < 1) n = topPOfAll(max, vocab, params.topP());
        else n = all(vocab);
        if (params.topP() < 1) inIdOrder(n, vocab);
        if (params.minP() > 0) n = minP(max, n, params.minP());
        return n;
    }

    /**
     * Puts kept[0..n) back in id order after top-p (which leaves its boundary bucket sorted by s), so that the draw
     * walks the survivors in vocabulary order: the order the device sampler (sampling.cuh) walks them, so that the
     * same draw picks the same id on both. A few survivors are sorted; many are re-listed by one pass over a mark
     * per id.
     */
    private void inIdOrder(int n, int vocab) {
        if (n <= 4096) {
            Arrays.sort(kept, 0, n);
            return;
        }
        java.util.BitSet marks = new java.util.BitSet(vocab);
        for (int j = 0; j < n; j++) marks.set(kept[j]);
        int j = 0;
        for (int v = marks.nextSetBit(0); v >= 0; v = marks.nextSetBit(v + 1)) kept[j++] = v;
    }

    private int all(int vocab) {
        for (int v = 0; v < vocab; v++) kept[v] = v;
        return vocab;
    }

    /** Keeps ids whose s ≥ the k-th largest s, in id order; returns how many. */
    private int topK(int vocab, int k) {
        float kth = kthLargest(scaled, vocab, k, select);
        int n = 0;
        for (int v = 0; v < vocab; v++) if (scaled[v] >= kth) kept[n++] = v;
        return n;
    }

    /**
     * Top-p over the whole vocabulary (no top-k before it). A trained model's nucleus lies within a few nats of the
     * top, so the ids of the first few buckets ({@link #NEAR_TOP_BUCKETS}) are gathered with one vector pass and the
     * selection runs on them alone: when their mass reaches p·total, the buckets, their masses (summed in the same id
     * order) and so the survivors are exactly those of the selection over every id. Otherwise it tries more buckets,
     * and in the end (a flat distribution, as random weights give) every id.
     */
    private int topPOfAll(float max, int vocab, double p) {
        double need = p * totalWeight;
        for (int buckets : NEAR_TOP_BUCKETS) {
            int n = LogitMath.indexesBelow(scaled, vocab, max, BUCKETS / BUCKET_RANGE, buckets, kept);
            int out = nucleus(max, n, need, buckets);
            if (out >= 0) return out;
        }
        return nucleus(max, all(vocab), need, BUCKETS);
    }

    /** Top-p over kept[0..n) (after top-k): the smallest set reaching p of their mass; see {@link #nucleus}. */
    private int topP(float max, int n, int vocab, double p) {
        if (p >= 1) return n;
        return nucleus(max, n, p * keptMass(n, vocab), BUCKETS);
    }

    /**
     * Keeps the smallest set, taken in order of s descending then id ascending, whose weight reaches {@code need}:
     * a token stays while the weight of those before it is &lt; need. Without a full sort: the weights of kept[0..n)
     * are binned by s (bucket 0 holds the top); whole buckets before the one where the cumulative weight reaches
     * need are kept, those after it dropped, and only that one bucket is sorted and walked. Survivors are left in
     * kept[0..n) (the whole buckets in id order, then the sorted part); returns how many, or −1 when the first
     * {@code buckets} buckets do not reach need (the caller passed only the ids of those).
     */
    private int nucleus(float max, int n, double need, int buckets) {
        Arrays.fill(bucketMass, 0, buckets, 0);
        for (int j = 0; j < n; j++) {
            int v = kept[j];
            bucketMass[bucket(max, scaled[v])] += weight[v];
        }
        double before = 0;
        int edge = 0;
        if (buckets < BUCKETS) { // only the first buckets were filled: give up when need lies beyond them
            while (edge < buckets && before + bucketMass[edge] < need) before += bucketMass[edge++];
            if (edge == buckets) return -1;
        } else { // the last bucket holds everything below the range, so it ends the walk
            while (edge < BUCKETS - 1 && before + bucketMass[edge] < need) before += bucketMass[edge++];
        }
        int out = 0, m = 0;
        for (int j = 0; j < n; j++) { // out ≤ j: compacting in place is safe
            int v = kept[j];
            int b = bucket(max, scaled[v]);
            kept[out] = v; // branch-free: on a flat distribution "b < edge" is a coin flip per id
            out += b < edge ? 1 : 0;
            if (b == edge) keys[m++] = sortKey(scaled[v], v);
        }
        Arrays.sort(keys, 0, m);
        for (int r = 0; r < m; r++) {
            if (out > 0 && before >= need) break; // the top token (first of bucket 0) always stays
            int v = (int) keys[r];
            kept[out++] = v;
            before += weight[v];
        }
        return out;
    }

    /**
     * The top-p bucket of s ({@link LogitMath#indexesBelow} evaluates the same f32 expression): [max − 64, max] in
     * 2048 equal steps (monotone in s, so ties share a bucket); lower s,
     * whose weights are below e^−64 of the top's, all share the last bucket.
     */
    private static int bucket(float max, float s) {
        return (int) Math.min(BUCKETS - 1, (max - s) * (BUCKETS / BUCKET_RANGE));
    }

    /** Keeps ids with p / p_top = exp(s − max) ≥ minP, compared as s − max ≥ ln minP; returns how many. */
    private int minP(float max, int n, double minP) {
        double logMinP = Math.log(minP);
        int m = 0;
        for (int j = 0; j < n; j++) {
            int v = kept[j];
            if ((double) scaled[v] - max >= logMinP) kept[m++] = v;
        }
        return m;
    }

    /** Inverse CDF: the first kept id whose cumulative weight exceeds u · total. */
    private int pick(int n, int vocab, double u) {
        double target = u * keptMass(n, vocab);
        double cum = 0;
        int last = kept[0];
        for (int j = 0; j < n; j++) {
            float w = weight[kept[j]];
            if (w == 0) continue; // −∞ logits kept by a tie in top-k are never drawn
            cum += w;
            last = kept[j];
            if (target < cum) return last;
        }
        return last; // u·total rounded up to the full sum
    }

    /**
     * Σ weight over kept[0..n). When all {@code vocab} ids are kept (kept holds distinct ids, so it is then a
     * permutation of them), the same set is summed contiguously, which is several times faster.
     */
    private double keptMass(int n, int vocab) {
        if (n == vocab) return totalWeight;
        double total = 0;
        for (int j = 0; j < n; j++) total += weight[kept[j]];
        return total;
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

    /**
     * The k-th largest of a[0..n) (k ≥ 1), counting duplicates, with a min-heap of the k largest seen in
     * {@code heap[0..k)}: one comparison for most elements when k is small next to n (top-k 20..1000 of 152k).
     */
    static float kthLargest(float[] a, int n, int k, float[] heap) {
        for (int i = 0; i < k; i++) siftUp(heap, i, a[i]);
        for (int i = k; i < n; i++) if (a[i] > heap[0]) siftDown(heap, k, a[i]);
        return heap[0];
    }

    private static void siftUp(float[] heap, int i, float x) {
        while (i > 0 && heap[(i - 1) >>> 1] > x) {
            heap[i] = heap[(i - 1) >>> 1];
            i = (i - 1) >>> 1;
        }
        heap[i] = x;
    }

    /** Replaces the root with x and restores the heap of size k. */
    private static void siftDown(float[] heap, int k, float x) {
        int i = 0;
        while (true) {
            int c = 2 * i + 1;
            if (c >= k) break;
            if (c + 1 < k && heap[c + 1] < heap[c]) c++;
            if (heap[c] >= x) break;
            heap[i] = heap[c];
            i = c;
        }
        heap[i] = x;
    }

    private void ensureScratch(int vocab) {
        if (scaledBuffer.length >= vocab) return;
        scaledBuffer = new float[vocab];
        kept = new int[vocab];
        weight = new float[vocab];
        keys = new long[vocab];
        select = new float[vocab];
    }
}
