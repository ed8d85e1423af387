package dev.rast.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The analyses' arithmetic on cases worked by hand. */
class AnalysisMathTest {
    static final float LN3 = (float) Math.log(3);

    @Test
    void klOfTwoKnownDistributions() {
        // p = softmax(0, ln 3) = (1/4, 3/4), q = (1/2, 1/2): KL = ¼·ln(½) + ¾·ln(3/2) = 0.130812035...
        // (f32 exponentials: within 1e-6 of the exact value.)
        double kl = Distributions.kl(new float[] {0, LN3}, new float[] {5, 5});
        assertEquals(0.25 * Math.log(0.5) + 0.75 * Math.log(1.5), kl, 1e-6);
        assertEquals(0.1308120, kl, 1e-6);
        // The same rows: 0. A masked id (−∞ in p) carries nothing: p = (0, 1), q = (½, ½) gives ln 2.
        assertEquals(0, Distributions.kl(new float[] {1, 2, 3}, new float[] {1, 2, 3}), 1e-9);
        assertEquals(Math.log(2), Distributions.kl(new float[] {Float.NEGATIVE_INFINITY, 7}, new float[] {0, 0}), 1e-6);
        // q has an id p's row lacks (padding): summed over the shared ids, q normalised over its whole row.
        // p = (½, ½); q = softmax(0, 0, ln 2) = (¼, ¼, ½): KL = ln 2.
        assertEquals(Math.log(2), Distributions.kl(new float[] {0, 0}, new float[] {0, 0, (float) Math.log(2)}), 1e-6);
    }

    @Test
    void klOfLongRowsAgreesWithDouble() {
        // 152k ids (many vector blocks and a tail), logits spread like a model's, a masked tail in P: within 1e-6 of
        // the same sum in double with Math.exp.
        java.util.Random r = new java.util.Random(3);
        int n = 152_064;
        float[] p = new float[n], q = new float[n];
        for (int i = 0; i < n; i++) {
            p[i] = (float) (r.nextGaussian() * 3);
            q[i] = p[i] + (float) (r.nextGaussian() * 0.5);
        }
        for (int i = 151_936; i < n; i++) p[i] = Float.NEGATIVE_INFINITY;
        double mp = Double.NEGATIVE_INFINITY, mq = Double.NEGATIVE_INFINITY, zp = 0, zq = 0, kl = 0;
        for (int i = 0; i < n; i++) { mp = Math.max(mp, p[i]); mq = Math.max(mq, q[i]); }
        for (int i = 0; i < n; i++) { zp += Math.exp(p[i] - mp); zq += Math.exp(q[i] - mq); }
        for (int i = 0; i < n; i++) {
            if (p[i] == Float.NEGATIVE_INFINITY) continue;
            double lp = p[i] - mp - Math.log(zp), lq = q[i] - mq - Math.log(zq);
            kl += Math.exp(lp) * (lp - lq);
        }
        assertEquals(kl, Distributions.kl(p, q), 1e-6);
        assertTrue(kl > 0.05, "a real divergence: " + kl);
        double dot = 0, x2 = 0, y2 = 0;
        float[] zero = new float[n];
        for (int i = 0; i < 151_936; i++) {
            dot += (double) p[i] * q[i];
            x2 += (double) p[i] * p[i];
            y2 += (double) q[i] * q[i];
        }
        assertEquals(dot / Math.sqrt(x2 * y2), Distributions.deltaCosine(p, zero, q, zero, 151_936), 1e-6);
    }

    @Test
    void cosineOfDeltas() {
        // a − b = (1, 0), c − d = (1, 1): cos = 1/√2; opposite deltas −1; a zero delta has no direction: 0.
        assertEquals(1 / Math.sqrt(2), Distributions.deltaCosine(new float[] {3, 2}, new float[] {2, 2}, new float[] {1, 1}, new float[] {0, 0}, 2), 1e-12);
        assertEquals(-1, Distributions.deltaCosine(new float[] {1, 2}, new float[] {0, 0}, new float[] {0, 0}, new float[] {1, 2}, 2), 1e-12);
        assertEquals(0, Distributions.deltaCosine(new float[] {1, 2}, new float[] {1, 2}, new float[] {0, 1}, new float[] {0, 0}, 2));
        // Only the first n ids count.
        assertEquals(1, Distributions.deltaCosine(new float[] {1, 0, 9}, new float[] {0, 0, 0}, new float[] {2, 0, -9}, new float[] {0, 0, 0}, 2), 1e-12);
    }

    @Test
    void summaryIntervalIsTheNormalApproximation() {
        Summary s = Summary.of(new double[] {1, 2, 3});
        assertEquals(2, s.mean(), 1e-12);
        assertEquals(1, s.sd(), 1e-12);
        assertEquals(2 - 1.96 / Math.sqrt(3), s.ciLow(), 1e-12);
        assertEquals(2 + 1.96 / Math.sqrt(3), s.ciHigh(), 1e-12);
        assertNull(Summary.of(new double[] {5}).toJson().get("ci95"), "one value: no interval");
    }

    @Test
    void pathCoverageCountsFromTheSecondToken() {
        // Vocabulary 3; tokens (2, 0, 1). Rows' argmax per position: 2 (first token: not counted), 0 (match), 2 (miss).
        Trajectory t = new Trajectory("t", new int[] {1}, new int[] {2, 0, 1});
        PathCoverage pcr = new PathCoverage(Configuration.fused(new float[0], 3), List.of(t));
        pcr.position(0, 0, new float[][] {{0, 0, 1}});
        pcr.position(0, 1, new float[][] {{1, 0, 0}});
        pcr.position(0, 2, new float[][] {{0, 0, 1}});
        assertEquals(1, pcr.matches(0));
        assertEquals(2, pcr.positions(0));
        // A tie between ids 0 and 1 is the lower id's, as greedy decoding picks: t₂ = 0 matches.
        PathCoverage tie = new PathCoverage(Configuration.fused(new float[0], 3), List.of(new Trajectory("tie", new int[] {1}, new int[] {2, 0})));
        tie.position(0, 1, new float[][] {{4, 4, 0}});
        assertEquals(1, tie.matches(0));
        assertEquals(0.5, pcr.summary().mean(), 1e-12);
        // A one-token trajectory has no PCR: null per sample, not in the mean.
        PathCoverage one = new PathCoverage(Configuration.fused(new float[0], 3), List.of(new Trajectory("o", new int[] {1}, new int[] {2})));
        one.position(0, 0, new float[][] {{0, 0, 1}});
        @SuppressWarnings("unchecked") var rows = (List<Map<String, Object>>) one.toJson().get("per_sample");
        assertNull(rows.getFirst().get("value"));
        assertNull(one.toJson().get("mean"));
    }

    @Test
    void fusedConfigurationMasksPaddingAndPicksThroughTheDelta() {
        // M prefers padding id 3 (vocabulary 4, pairs' 3); M + 1·(E − B) = (1, 2, 1, −∞) -> 1.
        Configuration c = Configuration.fused(new float[] {1}, 4);
        float[] row = c.row(new float[][] {{1, 0, 1, 9}, {0, 5, 0}, {0, 3, 0}});
        assertArrayEquals(new float[] {1, 2, 1, Float.NEGATIVE_INFINITY}, row);
        assertEquals("M + 1.0·(E1 − B1)", c.describe());
        assertEquals("M over the shared vocabulary", Configuration.fused(new float[] {0}, 4).describe());
    }

    @Test
    void reasoningWordsAreWholeWordsAnyCase() {
        ReasoningWords.Counts c = ReasoningWords.count("But wait, let me check: checking again. However, another try; verify!");
        // words: but wait let me check checking again however another try verify = 11
        assertEquals(11, c.words());
        assertArrayEquals(new int[] {2, 3, 2}, c.family(), "branching: another, try; backtracking: but, again, however; verification: check, verify");
        assertEquals(1000.0 * 2 / 11, c.perThousand(0), 1e-9);
        ReasoningWords.RunWords r = ReasoningWords.run("r", List.of("a", "b"), List.of("check this", "no words of note here"), new int[] {3, 7});
        assertEquals(7, r.words());
        assertEquals(1000.0 / 7, r.pooledPerThousand(2), 1e-9);
        assertEquals(5, r.length().mean(), 1e-12);
    }
}
