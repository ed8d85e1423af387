package dev.rast.engine.sample;

import dev.rast.engine.math.VectorExp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The passes over a whole logits row that the sampler makes for every token: max, divide, exp, sum. With 152k ids a
 * scalar Math.exp pass costs ~3 ms, the vector one ~0.4 ms, and with n = 32 samples per step that is the difference
 * between sampling mattering next to a decode step or not.
 *
 * <p>{@link #expShifted} is f32 (within 2 ulp of the exact exponential), bit-for-bit the same whether compiled or
 * interpreted, and runs every element, the tail included, through the same vector operations, so equal inputs always
 * give equal weights (ties stay ties). Sums of the weights are taken in double by the callers. {@link #max} is public:
 * the analyses' per-position KL (rast's dev.rast.analysis.Distributions) takes its rows' maxima with it.
 */
public final class LogitMath {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();

    private LogitMath() {}

    /** The max of a[0..n); NaN if any element is NaN (vector max, like Math.max, propagates NaN). */
    public static float max(float[] a, int n) {
        FloatVector acc = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i <= n - L; i += L) acc = acc.max(FloatVector.fromArray(F, a, i));
        float m = acc.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) m = Math.max(m, a[i]);
        return m;
    }

    /** dst[i] = src[i] / d: IEEE division, identical to the scalar one. */
    static void divide(float[] src, int n, float d, float[] dst) {
        int i = 0;
        for (; i <= n - L; i += L) FloatVector.fromArray(F, src, i).div(d).intoArray(dst, i);
        for (; i < n; i++) dst[i] = src[i] / d;
    }

    /** dst[i] = exp(src[i] − shift) in f32; −∞ gives 0. */
    static void expShifted(float[] src, int n, float shift, float[] dst) {
        int i = 0;
        for (; i <= n - L; i += L) VectorExp.exp(FloatVector.fromArray(F, src, i).sub(shift)).intoArray(dst, i);
        if (i < n) {
            VectorMask<Float> m = F.indexInRange(i, n);
            VectorExp.exp(FloatVector.fromArray(F, src, i, m).sub(shift)).intoArray(dst, i, m);
        }
    }

    /** The first i with a[i] == x, or −1. */
    static int firstIndexOf(float[] a, int n, float x) {
        int i = 0;
        for (; i <= n - L; i += L) {
            VectorMask<Float> eq = FloatVector.fromArray(F, a, i).compare(VectorOperators.EQ, x);
            if (eq.anyTrue()) return i + eq.firstTrue();
        }
        for (; i < n; i++) if (a[i] == x) return i;
        return -1;
    }

    /**
     * Writes to {@code out}, in ascending order, every i with {@code (max − s[i]) · scale < limit}, evaluated in f32
     * exactly as a scalar expression would be (IEEE subtract and multiply), so that it agrees with a scalar bucket
     * index computed the same way; returns how many.
     */
    static int indexesBelow(float[] s, int n, float max, float scale, float limit, int[] out) {
        FloatVector top = FloatVector.broadcast(F, max);
        int m = 0, i = 0;
        for (; i <= n - L; i += L) {
            long bits = top.sub(FloatVector.fromArray(F, s, i)).mul(scale).compare(VectorOperators.LT, limit).toLong();
            while (bits != 0) {
                out[m++] = i + Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
            }
        }
        for (; i < n; i++) if ((max - s[i]) * scale < limit) out[m++] = i;
        return m;
    }

    /** Σ w[0..n) in double, in a fixed order (four interleaved partial sums, so the adds do not wait on each other). */
    static double sum(float[] w, int n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i <= n - 4; i += 4) {
            s0 += w[i];
            s1 += w[i + 1];
            s2 += w[i + 2];
            s3 += w[i + 3];
        }
        for (; i < n; i++) s0 += w[i];
        return (s0 + s1) + (s2 + s3);
    }
}
