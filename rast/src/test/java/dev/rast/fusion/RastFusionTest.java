package dev.rast.fusion;

import dev.rast.engine.sample.Sampler;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rast.engine.BadInputException;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** fused = M + Σᵢ λᵢ·(Eᵢ − Bᵢ) over the shared ids, −∞ beyond; expected rows worked out by hand. */
class RastFusionTest {
    static final float NEG = Float.NEGATIVE_INFINITY;

    static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * 5);
        return a;
    }

    static float[] fuse(float[] lambdas, float[] m, float[][] e, float[][] b) {
        return new RastFusion(lambdas).fuse(m, e, b, new float[m.length]);
    }

    @Test
    void lambdaZeroGivesTheBaseModel() {
        SplittableRandom r = new SplittableRandom(1);
        float[] m = random(r, 50), e = random(r, 50), b = random(r, 50);
        assertArrayEquals(m, fuse(new float[] {0}, m, new float[][] {e}, new float[][] {b}));
    }

    @Test
    void anExpertEqualToItsBaseGivesTheBaseModel() {
        SplittableRandom r = new SplittableRandom(2);
        float[] m = random(r, 50), e = random(r, 50);
        assertArrayEquals(m, fuse(new float[] {1.7f}, m, new float[][] {e}, new float[][] {e.clone()}));
    }

    /** M has 6 rows (padded), the expert 4, its base 5: ids 0..3 are fused, 4 and 5 get −∞, the row stays 6 long. */
    @Test
    void idsBeyondTheSharedVocabularyGetNegativeInfinity() {
        float[] m = {1, 2, 3, 4, 50, 60};
        float[] e = {1, 1, 1, 1};
        float[] b = {0, 0, 0, 0, 9};
        assertEquals(4, RastFusion.sharedVocab(m, new float[][] {e}, new float[][] {b}));
        assertArrayEquals(new float[] {3, 4, 5, 6, NEG, NEG}, fuse(new float[] {2}, m, new float[][] {e}, new float[][] {b}));
        // a base shorter than the experts: everything of the base's row is shared
        assertArrayEquals(new float[] {1.5f, 2.5f}, fuse(new float[] {0.5f}, new float[] {1, 2}, new float[][] {e}, new float[][] {b}));
    }

    /**
     * Two pairs, λ = (0.5, −2), values exact in binary:
     * id0: 1 + 0.5·(0.5 − 0) − 2·(1 − 0) = −0.75; id1: 2 + 0.5·(1 − 0) − 2·(1 − 2) = 4.5; id2: 3 + 0 − 2·(1 − 1) = 3.
     */
    @Test
    void twoPairsWithDifferentLambdas() {
        float[] m = {1, 2, 3};
        float[][] e = {{0.5f, 1, 0}, {1, 1, 1}};
        float[][] b = {{0, 0, 0}, {0, 2, 1}};
        assertArrayEquals(new float[] {-0.75f, 4.5f, 3}, fuse(new float[] {0.5f, -2}, m, e, b));
    }

    /** RAST's point: the delta can change the top token. M prefers id 0; the expert pair pushes id 2 up by 2λ. */
    @Test
    void theDeltaCanChangeTheGreedyToken() {
        float[] m = {3, 1, 2.5f};
        float[][] e = {{0, 0, 2}}, b = {{0, 0, 0}};
        assertEquals(0, Sampler.argmax(fuse(new float[] {0.1f}, m, e, b))); // 3 vs 2.7
        assertEquals(2, Sampler.argmax(fuse(new float[] {0.5f}, m, e, b))); // 3 vs 3.5
    }

    @Test
    void badLambdasAndMismatchedPairsAreRefused() {
        assertEquals("lambda of expert pair 2 must be a finite number, is NaN",
                assertThrows(BadInputException.class, () -> new RastFusion(1, Float.NaN)).getMessage());
        float[] m = new float[3];
        assertThrows(IllegalArgumentException.class,
                () -> new RastFusion(1, 1).fuse(m, new float[][] {m}, new float[][] {m}, new float[3]));
        assertThrows(IllegalArgumentException.class,
                () -> new RastFusion(1).fuse(m, new float[][] {m}, new float[][] {m}, new float[2]));
    }

    @Test
    void noPairsIsTheBaseModel() {
        float[] m = {1, -2, 3};
        assertEquals(Arrays.toString(m), Arrays.toString(fuse(new float[0], m, new float[0][], new float[0][])));
    }
}
