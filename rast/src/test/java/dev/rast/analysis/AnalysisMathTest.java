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
        double kl = Distributions.kl(new float[] {0, LN3}, new float[] {5, 5}, new double[2], new double[2]);
        assertEquals(0.25 * Math.log(0.5) + 0.75 * Math.log(1.5), kl, 1e-7);
        assertEquals(0.1308120, kl, 1e-6);
        // The same rows: 0. A masked id (−∞ in p) carries nothing: p = (0, 1), q = (½, ½) gives ln 2.
        assertEquals(0, Distributions.kl(new float[] {1, 2, 3}, new float[] {1, 2, 3}, new double[3], new double[3]), 1e-12);
        assertEquals(Math.log(2), Distributions.kl(new float[] {Float.NEGATIVE_INFINITY, 7}, new float[] {0, 0}, new double[2], new double[2]), 1e-12);
        // q has an id p's row lacks (padding): summed over the shared ids, q normalised over its whole row.
        // p = (½, ½); q = softmax(0, 0, ln 2) = (¼, ¼, ½): KL = ln 2.
        assertEquals(Math.log(2), Distributions.kl(new float[] {0, 0}, new float[] {0, 0, (float) Math.log(2)}, new double[2], new double[3]), 1e-7);
    }

    @Test
    void logSoftmaxAndArgmax() {
        double[] out = Distributions.logSoftmax(new float[] {0, LN3, Float.NEGATIVE_INFINITY}, 3, new double[3]);
        assertEquals(Math.log(0.25), out[0], 1e-7);
        assertEquals(Math.log(0.75), out[1], 1e-7);
        assertEquals(Double.NEGATIVE_INFINITY, out[2]);
        assertEquals(1, Distributions.argmax(new float[] {1, 3, 3, 2}), "ties go to the lower id");
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
