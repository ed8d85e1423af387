package dev.rast.engine.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.BadInputException;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The truncation stages keep exactly the sets Hugging Face's warpers keep (expected sets derived by hand in the
 * comments), the draw follows the truncated, renormalized distribution, and seeded draws are reproducible.
 */
class SamplerTest {
    static final float NEG = Float.NEGATIVE_INFINITY;

    static int[] survivors(SamplingParams p, float... logits) { return new Sampler(p).survivors(logits); }

    static SamplingParams params(double t, int topK, double topP, double minP) { return new SamplingParams(t, topK, topP, minP, 0); }

    static float ln(double x) { return (float) Math.log(x); }

    // ---- top-k

    @Test
    void topKKeepsTheKLargest() {
        assertArrayEquals(new int[] {1, 3}, survivors(params(1, 2, 1, 0), 1, 5, 3, 4, 2));
        assertArrayEquals(new int[] {1}, survivors(params(1, 1, 1, 0), 1, 5, 3, 4, 2));
    }

    /** HF drops only scores below the k-th largest: [1,3,3,3,0] with k = 2 keeps all three 3s (checked in HF). */
    @Test
    void topKKeepsEveryTokenTiedWithTheKth() {
        assertArrayEquals(new int[] {1, 2, 3}, survivors(params(1, 2, 1, 0), 1, 3, 3, 3, 0));
    }

    @Test
    void topKAtOrAboveTheVocabularyKeepsEverything() {
        assertArrayEquals(new int[] {0, 1, 2}, survivors(params(1, 3, 1, 0), 1, 2, 3));
        assertArrayEquals(new int[] {0, 1, 2}, survivors(params(1, 50, 1, 0), 1, 2, 3));
    }

    /** The heap selection against a full sort, on random rows with many ties and −∞s, every k. */
    @Test
    void kthLargestAgreesWithSorting() {
        SplittableRandom r = new SplittableRandom(7);
        for (int trial = 0; trial < 300; trial++) {
            int n = 1 + r.nextInt(400);
            float[] a = new float[n];
            for (int i = 0; i < n; i++) a[i] = r.nextInt(10) == 0 ? NEG : r.nextInt(r.nextBoolean() ? 5 : 1000) - 50f;
            float[] sorted = a.clone();
            Arrays.sort(sorted);
            int k = 1 + r.nextInt(n);
            assertEquals(sorted[n - k], Sampler.kthLargest(a, n, k, new float[k]), "n=" + n + " k=" + k);
        }
    }

    // ---- top-p

    /**
     * Four equal logits (the rest −∞): probabilities exactly 1/4, so the boundary is exact. Keep a token while the
     * mass before it is &lt; p: p = 0.5 keeps 2 (mass before the 3rd is 0.5, not &lt; 0.5); just above 0.5 keeps 3;
     * p = 0.25 keeps 1; a tiny p still keeps one. Ties go to the lower id.
     */
    @Test
    void topPBoundaryWithExactProbabilities() {
        float[] l = {NEG, 0, 0, NEG, 0, 0, NEG};
        assertArrayEquals(new int[] {1, 2}, survivors(params(1, 0, 0.5, 0), l));
        assertArrayEquals(new int[] {1, 2, 4}, survivors(params(1, 0, 0.5000001, 0), l));
        assertArrayEquals(new int[] {1}, survivors(params(1, 0, 0.25, 0), l));
        assertArrayEquals(new int[] {1, 2}, survivors(params(1, 0, 0.2500001, 0), l));
        assertArrayEquals(new int[] {1}, survivors(params(1, 0, 1e-9, 0), l));
        assertArrayEquals(new int[] {1, 2, 4, 5}, survivors(params(1, 0, 0.99, 0), l));
    }

    /** Probabilities 0.5, 0.2, 0.15, 0.1, 0.05 at shuffled ids 3, 0, 4, 1, 2: cumulative 0.5, 0.7, 0.85, 0.95. */
    @Test
    void topPKeepsTheSmallestSetReachingP() {
        float[] l = {ln(0.2), ln(0.1), ln(0.05), ln(0.5), ln(0.15)};
        assertArrayEquals(new int[] {3}, survivors(params(1, 0, 0.4, 0), l));
        assertArrayEquals(new int[] {0, 3}, survivors(params(1, 0, 0.6, 0), l));
        assertArrayEquals(new int[] {0, 3}, survivors(params(1, 0, 0.69, 0), l));
        assertArrayEquals(new int[] {0, 3, 4}, survivors(params(1, 0, 0.71, 0), l));
        assertArrayEquals(new int[] {0, 1, 3, 4}, survivors(params(1, 0, 0.9, 0), l));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, survivors(params(1, 0, 0.96, 0), l));
    }

    /**
     * Top-p after top-k sees the renormalized survivors. Weights 4, 3, 2, 1 at ids 0..3: alone, top-p 0.5 keeps
     * {0, 1} (mass before id 1 is 0.4); after top-k 2 the weights are 4/7, 3/7, and the mass before id 1 is 0.571.
     */
    @Test
    void topPRenormalizesAfterTopK() {
        float[] l = {ln(4), ln(3), ln(2), ln(1)};
        assertArrayEquals(new int[] {0, 1}, survivors(params(1, 0, 0.5, 0), l));
        assertArrayEquals(new int[] {0}, survivors(params(1, 2, 0.5, 0), l));
    }

    /**
     * A 152,000-token row: id 77 at logit 20 has weight w = e^20, the 151,999 others weight 1, Z = w + 151,999.
     * Order: 77, then the others by id. The r-th of those (r ≥ 1) stays while the mass before it, w + r − 1, is
     * &lt; p·Z: that keeps ⌈p·Z − w⌉ of them. p = 0.99969 sits just above w/Z = 0.9996868, so about 1,600 stay,
     * cut from inside one bucket of 151,999 tied tokens.
     */
    @Test
    void topPOnALargeVocabularyCutsInsideATiedBucket() {
        int vocab = 152_000;
        float[] l = new float[vocab];
        l[77] = 20;
        double w = Math.exp(20), z = w + (vocab - 1), p = 0.99969;
        int others = (int) Math.ceil(p * z - w);
        assertTrue(others > 100 && others < 5000, "the case needs some of the others: " + others);
        int[] want = IntStream.concat(IntStream.range(0, vocab).filter(i -> i != 77).limit(others), IntStream.of(77)).sorted().toArray();
        assertArrayEquals(want, survivors(params(1, 0, p, 0), l));
        // a p the top token reaches alone
        assertArrayEquals(new int[] {77}, survivors(params(1, 0, 0.999, 0), l));
    }

    /**
     * A plain transcription of HF's TopPLogitsWarper (sort ascending, cumsum, drop ≤ 1 − p) on random rows, narrow
     * (σ 2), peaked (σ 5: the nucleus lies within the first buckets the sampler tries alone) and wide (σ 30, beyond
     * the 64 the buckets span). Random floats do not tie, so the tie order is moot.
     */
    @Test
    void topPMatchesHuggingFacesRuleOnRandomRows() {
        SplittableRandom r = new SplittableRandom(11);
        double[] spreads = {2, 5, 30};
        for (int trial = 0; trial < 206; trial++) {
            int n = trial < 200 ? 1 + r.nextInt(3000) : 152_064; // six at Qwen's vocabulary size
            float[] l = new float[n];
            double spread = spreads[r.nextInt(3)];
            for (int i = 0; i < n; i++) l[i] = (float) (r.nextGaussian() * spread);
            double p = r.nextDouble();
            Integer[] asc = IntStream.range(0, n).boxed().sorted((a, b) -> Float.compare(l[a], l[b])).toArray(Integer[]::new);
            float max = l[asc[n - 1]];
            double z = 0;
            for (float x : l) z += Math.exp(x - max);
            double cum = 0;
            boolean[] drop = new boolean[n];
            for (int i = 0; i < n - 1; i++) { // the last (the top) always stays
                cum += Math.exp(l[asc[i]] - max) / z;
                drop[asc[i]] = cum <= 1 - p;
            }
            int[] want = IntStream.range(0, n).filter(i -> !drop[i]).toArray();
            assertArrayEquals(want, survivors(params(1, 0, p, 0), l), "trial " + trial + " n=" + n + " p=" + p);
        }
    }

    // ---- min-p and temperature

    /** Weights 8, 4, 2, 1: ratios to the top 1, 0.5, 0.25, 0.125. */
    @Test
    void minPKeepsTokensAboveAFractionOfTheTop() {
        float[] l = {ln(2), ln(8), ln(1), ln(4)};
        assertArrayEquals(new int[] {1, 3}, survivors(params(1, 0, 1, 0.3), l));
        assertArrayEquals(new int[] {0, 1, 3}, survivors(params(1, 0, 1, 0.2), l));
        assertArrayEquals(new int[] {0, 1, 2, 3}, survivors(params(1, 0, 1, 0.1), l));
        assertArrayEquals(new int[] {1}, survivors(params(1, 0, 1, 0.9), l));
    }

    @Test
    void minPOfOneKeepsTheTiedTopTokens() {
        assertArrayEquals(new int[] {0, 2}, survivors(params(1, 0, 1, 1), 5, 4, 5, 1));
    }

    /**
     * Min-p applies after temperature: T = 0.5 squares the ratios (1, 0.25, 0.0625, 0.016), so min-p 0.3 keeps only
     * the top, and 0.2 keeps two; at T = 2 they become 1, 0.707, 0.5, 0.354 and min-p 0.3 keeps all four.
     */
    @Test
    void temperatureScalesLogitsBeforeTruncation() {
        float[] l = {ln(2), ln(8), ln(1), ln(4)};
        assertArrayEquals(new int[] {1}, survivors(params(0.5, 0, 1, 0.3), l));
        assertArrayEquals(new int[] {1, 3}, survivors(params(0.5, 0, 1, 0.2), l));
        assertArrayEquals(new int[] {0, 1, 2, 3}, survivors(params(2, 0, 1, 0.3), l));
    }

    // ---- greedy, logprob

    @Test
    void greedyPicksTheLowestIdAmongTies() {
        Sampler s = new Sampler(SamplingParams.greedy());
        assertEquals(1, s.sample(new float[] {1, 3, 3, 2}, null).token());
        assertEquals(2, s.sample(new float[] {NEG, NEG, -7, NEG}, null).token());
        assertEquals(0, s.sample(new float[] {4}, null).token());
    }

    /**
     * log_softmax([1, 2, 3])[2] = −ln(1 + e^−1 + e^−2) = −0.40760596444438; untouched by temperature or top-k.
     * Tolerance 2e-7: the weights are f32 exponentials (each within 2^−23 relative), so log Σ is within ~1.2e-7.
     */
    @Test
    void logprobIsLogSoftmaxOfTheRawLogits() {
        float[] l = {1, 2, 3};
        assertEquals(-0.40760596444438, new Sampler(SamplingParams.greedy()).sample(l, null).logprob(), 2e-7);
        Sampler hot = new Sampler(new SamplingParams(0.5, 1, 1, 0, 3));
        Sampler.Choice c = hot.sample(l, SequenceRandom.of(3, 0));
        assertEquals(2, c.token());
        assertEquals(-0.40760596444438, c.logprob(), 2e-7);
        // −∞ ids carry no mass: two equal finite logits → ln ½
        assertEquals(Math.log(0.5), new Sampler(SamplingParams.greedy()).sample(new float[] {NEG, 5, 5}, null).logprob(), 2e-7);
        // a large offset does not overflow the normalizer: log_softmax([1000, 0])[0] = −ln(1 + e^−1000) ≈ 0
        assertEquals(0.0, new Sampler(SamplingParams.greedy()).sample(new float[] {1000, 0}, null).logprob(), 1e-300);
    }

    // ---- drawing

    /**
     * Logits [3, 2.2, 1.9, 1, 0.4, −0.5, −2, 2.6], T = 0.8 → s = [3.75, 2.75, 2.375, 1.25, 0.5, −0.625, −2.5, 3.25].
     * top-k 6 drops ids 5, 6. Weights e^(s−3.75): id0 1, id7 0.6065, id1 0.3679, id2 0.2528, id3 0.0821,
     * id4 0.0388 (sum 2.3481); mass before each in that order 0, 0.426, 0.684, 0.841, 0.9485, 0.9835, so top-p 0.95
     * keeps ids 0, 7, 1, 2, 3. min-p 0.1 drops id3 (0.0821). Draws follow weights 1, e^−0.5, e^−1, e^−1.375 on
     * {0, 7, 1, 2}, renormalized.
     *
     * <p>Tolerance: Pearson's χ² over the 4 kept ids (3 degrees of freedom) must stay below 21.11, its 99.99th
     * percentile: a correct sampler fails this with probability 1e-4 (and the seed is fixed, so the test is
     * deterministic). A wrong kept set or a missing renormalization shifts some expected count by ≥ 4% of 100,000
     * draws, a χ² in the hundreds.
     */
    @Test
    void drawsFollowTheTruncatedRenormalizedDistribution() {
        float[] l = {3.0f, 2.2f, 1.9f, 1.0f, 0.4f, -0.5f, -2.0f, 2.6f};
        Sampler s = new Sampler(new SamplingParams(0.8, 6, 0.95, 0.1, 5));
        int[] keptIds = {0, 7, 1, 2};
        double[] w = {1, Math.exp(-0.5), Math.exp(-1), Math.exp(-1.375)};
        double total = Arrays.stream(w).sum();
        int draws = 100_000;
        int[] counts = new int[l.length];
        RandomGenerator rng = SequenceRandom.of(5, 0);
        for (int i = 0; i < draws; i++) counts[s.sample(l, rng).token()]++;
        for (int id : new int[] {3, 4, 5, 6}) assertEquals(0, counts[id], "id " + id + " is truncated away");
        double chi2 = 0;
        for (int j = 0; j < keptIds.length; j++) {
            double expected = draws * w[j] / total;
            chi2 += Math.pow(counts[keptIds[j]] - expected, 2) / expected;
        }
        assertTrue(chi2 < 21.11, "chi-square " + chi2 + " counts " + Arrays.toString(counts));
    }

    /** −∞ ids kept only through a tie at the k-th value (k larger than the finite ids) are never drawn. */
    @Test
    void negativeInfinityIsNeverDrawn() {
        Sampler s = new Sampler(new SamplingParams(1, 3, 1, 0, 1));
        RandomGenerator rng = SequenceRandom.of(1, 0);
        for (int i = 0; i < 2000; i++) assertEquals(1, s.sample(new float[] {NEG, 0, NEG, NEG}, rng).token());
    }

    // ---- seeds

    static int[] run(Sampler s, long seed, int index, float[] l, int steps) {
        RandomGenerator rng = SequenceRandom.of(seed, index);
        return IntStream.range(0, steps).map(i -> s.sample(l, rng).token()).toArray();
    }

    static final float[] FLAT = {0, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f};

    @Test
    void sameSeedAndIndexGiveTheSameDraws() {
        SamplingParams p = new SamplingParams(1, 0, 0.95, 0, 42);
        assertArrayEquals(run(new Sampler(p), 42, 3, FLAT, 200), run(new Sampler(p), 42, 3, FLAT, 200));
        assertNotEquals(Arrays.toString(run(new Sampler(p), 42, 3, FLAT, 200)), Arrays.toString(run(new Sampler(p), 42, 4, FLAT, 200)));
        assertNotEquals(Arrays.toString(run(new Sampler(p), 42, 0, FLAT, 200)), Arrays.toString(run(new Sampler(p), 43, 0, FLAT, 200)));
    }

    /**
     * n sequences stepped together (interleaved, one shared Sampler, as a batch does) give what each gives alone:
     * a sequence's draws depend only on (seed, index).
     */
    @Test
    void batchedSequencesEqualSeparateRuns() {
        SamplingParams p = new SamplingParams(0.9, 5, 0.9, 0.05, 7);
        int n = 6, steps = 50;
        Sampler shared = new Sampler(p);
        RandomGenerator[] rngs = IntStream.range(0, n).mapToObj(i -> SequenceRandom.of(7, i)).toArray(RandomGenerator[]::new);
        int[][] batched = new int[n][steps];
        for (int t = 0; t < steps; t++) for (int i = 0; i < n; i++) batched[i][t] = shared.sample(FLAT, rngs[i]).token();
        for (int i = 0; i < n; i++) assertArrayEquals(run(new Sampler(p), 7, i, FLAT, steps), batched[i], "sequence " + i);
    }

    /** The documented derivation, spelled out with the JDK's SplittableRandom. */
    @Test
    void sequenceGeneratorsFollowTheDocumentedDerivation() {
        SplittableRandom root = new SplittableRandom(99);
        for (int i = 0; i < 5; i++) {
            long seedI = root.nextLong();
            assertEquals(new SplittableRandom(seedI).nextDouble(), SequenceRandom.of(99, i).nextDouble());
        }
    }

    // ---- bad input

    @Test
    void invalidSettingsAreRefusedWithTheirName() {
        assertEquals("top-p must be in (0, 1] (1 = off), is 0.0",
                assertThrows(BadInputException.class, () -> params(1, 0, 0, 0)).getMessage());
        assertEquals("top-p must be in (0, 1] (1 = off), is 1.5",
                assertThrows(BadInputException.class, () -> params(1, 0, 1.5, 0)).getMessage());
        assertEquals("top-p must be in (0, 1] (1 = off), is NaN",
                assertThrows(BadInputException.class, () -> params(1, 0, Double.NaN, 0)).getMessage());
        assertEquals("top-k must be >= 0 (0 = off), is -1",
                assertThrows(BadInputException.class, () -> params(1, -1, 1, 0)).getMessage());
        assertEquals("min-p must be in [0, 1] (0 = off), is 2.0",
                assertThrows(BadInputException.class, () -> params(1, 0, 1, 2)).getMessage());
        assertEquals("temperature must be 0 (greedy) or a finite number >= 1.0E-4, is -1.0",
                assertThrows(BadInputException.class, () -> params(-1, 0, 1, 0)).getMessage());
        assertThrows(BadInputException.class, () -> params(1e-6, 0, 1, 0));
        assertThrows(BadInputException.class, () -> params(Double.POSITIVE_INFINITY, 0, 1, 0));
    }

    @Test
    void brokenLogitsAreRefused() {
        Sampler s = new Sampler(SamplingParams.greedy());
        assertEquals("logit of id 1 is NaN",
                assertThrows(IllegalArgumentException.class, () -> s.sample(new float[] {0, Float.NaN}, null)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> s.sample(new float[] {NEG, NEG}, null));
        assertThrows(IllegalArgumentException.class, () -> s.sample(new float[] {0, Float.POSITIVE_INFINITY}, null));
    }
}
