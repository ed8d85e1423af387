package dev.rast.engine.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The vector passes against scalar Math on odd lengths (every tail size), with −∞ and extreme values. */
class LogitMathTest {
    static float[] row(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            int kind = r.nextInt(20);
            a[i] = kind == 0 ? Float.NEGATIVE_INFINITY : kind == 1 ? -200f : (float) (r.nextGaussian() * 8);
        }
        return a;
    }

    /**
     * Every float in [−104, 0] at a fine step, down into the subnormal results: within 2 ulp of the correctly rounded
     * exponential (Math.exp in double, then rounded to float: within 0.5 ulp + 1e-16). exp(0) is exactly 1.
     */
    @Test
    void expIsAccurateOverTheWholeRange() {
        int n = 1_040_001;
        float[] x = new float[n], got = new float[n];
        for (int i = 0; i < n; i++) x[i] = -104f * i / (n - 1);
        LogitMath.expShifted(x, n, 0f, got);
        assertEquals(1f, got[0]);
        for (int i = 0; i < n; i++) {
            float want = (float) Math.exp(x[i]);
            float ulp = Math.ulp(want);
            assertTrue(Math.abs(got[i] - want) <= 2 * ulp, "exp(" + x[i] + ") = " + got[i] + " vs " + want);
        }
    }

    /** The polynomial exp is within 2 ulp of the exact value; Math.exp adds at most 1 more (margin: 2 ulp). */
    @Test
    void expShiftedIsWithinTwoUlpsOfMathExp() {
        SplittableRandom r = new SplittableRandom(3);
        for (int n = 1; n <= 70; n++) {
            float[] a = row(r, n);
            float shift = LogitMath.max(a, n);
            float[] got = new float[n];
            LogitMath.expShifted(a, n, shift, got);
            for (int i = 0; i < n; i++) {
                float want = (float) Math.exp(a[i] - shift);
                assertTrue(Math.abs(got[i] - want) <= 2 * Math.ulp(want), "n=" + n + " i=" + i + ": " + got[i] + " vs " + want);
                if (a[i] == Float.NEGATIVE_INFINITY) assertEquals(0f, got[i]);
            }
        }
    }

    /** Equal inputs give equal weights wherever they sit (main loop or tail): ties must stay ties. */
    @Test
    void equalInputsGiveEqualWeights() {
        float[] a = new float[37];
        java.util.Arrays.fill(a, 1.2345f);
        float[] w = new float[37];
        LogitMath.expShifted(a, 37, 3.5f, w);
        for (float x : w) assertEquals(w[0], x);
    }

    @Test
    void maxAndDivideMatchScalar() {
        SplittableRandom r = new SplittableRandom(4);
        for (int n = 1; n <= 70; n++) {
            float[] a = row(r, n);
            float want = Float.NEGATIVE_INFINITY;
            for (float x : a) want = Math.max(want, x);
            assertEquals(want, LogitMath.max(a, n));
            float[] d = new float[n];
            LogitMath.divide(a, n, 0.7f, d);
            for (int i = 0; i < n; i++) assertEquals(a[i] / 0.7f, d[i]);
        }
        float[] withNaN = new float[40];
        withNaN[33] = Float.NaN;
        assertTrue(Float.isNaN(LogitMath.max(withNaN, 40)));
        withNaN[33] = 0;
        withNaN[3] = Float.NaN;
        assertTrue(Float.isNaN(LogitMath.max(withNaN, 40)));
    }
}
