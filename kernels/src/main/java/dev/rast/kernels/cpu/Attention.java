package dev.rast.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal multi-head attention over KV caches, grouped-query: query head h reads KV head h / (heads / kvHeads).
 * Exact softmax in F32 (scores, max-subtract, exp, normalize), as Hugging Face's eager path computes it.
 *
 * <p>Batched: each query row belongs to one sequence ({@code rowCache[t]} indexes the caches) and sits at position
 * {@code rowPos[t]} of it, attending over that sequence's positions 0..rowPos[t]. Work items are (row, head) pairs,
 * so a decode step of many sequences and a long prefill both spread over all threads.
 *
 * <p>Per item: scores are dot products, four positions at a time; the softmax runs over vectors of positions (one
 * vector exp for L positions); the weighted sum of values keeps head dimensions in registers (two sets, even and
 * odd positions) while it walks the positions, instead of loading and storing an accumulator for every position.
 */
final class Attention {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private Attention() {}

    static void run(WorkerPool pool, MemorySegment q, MemorySegment[] k, MemorySegment[] v, MemorySegment out,
                    int[] rowCache, int[] rowPos, int heads, int kvHeads, int headDim) {
        int T = rowPos.length;
        int group = heads / kvHeads;
        int qWidth = heads * headDim, kvWidth = kvHeads * headDim;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        int maxLen = 0;
        for (int p : rowPos) maxLen = Math.max(maxLen, p + 1);
        int scoresLen = maxLen;
        pool.run(T * heads, (worker, i0, i1) -> {
            float[] scores = new float[scoresLen];
            float[] qh = new float[headDim];
            for (int item = i0; item < i1; item++) {
                int t = item / heads, h = item % heads, kvh = h / group;
                MemorySegment kc = k[rowCache[t]], vc = v[rowCache[t]];
                int len = rowPos[t] + 1; // causal: positions 0..rowPos[t]
                long qOff = ((long) t * qWidth + (long) h * headDim) * 4, kvOff = (long) kvh * headDim * 4;
                MemorySegment.copy(q, FLOAT, qOff, qh, 0, headDim);
                scores(qh, headDim, kc, kvOff, (long) kvWidth * 4, len, scale, scores);
                float inv = 1f / softmaxNumerators(scores, len);
                weightedSum(scores, len, inv, vc, kvOff, kvWidth, headDim, out, qOff);
            }
        });
    }

    /**
     * s[j] = scale · q·k_j for positions j < len; k_j starts at byte kvOff + j·rowBytes of k. Four positions at a
     * time in independent FMA chains (one lane reduction each is the slow part; four in flight hide its latency),
     * with q held in registers for the common head sizes 64 and 128: ~4 ns per position and head instead of ~15.
     */
    private static void scores(float[] q, int hd, MemorySegment k, long kvOff, long rowBytes, int len, float scale, float[] s) {
        int j = 0;
        if (L == 16 && hd == 64) j = scores64(q, k, kvOff, rowBytes, len, scale, s);
        else if (L == 16 && hd == 128) j = scores128(q, k, kvOff, rowBytes, len, scale, s);
        else if (hd % L == 0) j = scoresBy4(q, hd, k, kvOff, rowBytes, len, scale, s);
        for (; j < len; j++) s[j] = dot(q, hd, k, kvOff + j * rowBytes) * scale;
    }

    private static float dot(float[] q, int hd, MemorySegment k, long off) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i <= hd - L; i += L) acc = FloatVector.fromArray(F, q, i).fma(FloatVector.fromMemorySegment(F, k, off + 4L * i, LE), acc);
        float s = dev.rast.engine.math.Lanes.sum(acc);
        for (; i < hd; i++) s += q[i] * k.get(FLOAT, off + 4L * i);
        return s;
    }

    private static FloatVector k(MemorySegment k, long off) { return FloatVector.fromMemorySegment(F, k, off, LE); }

    /** Head dim 64 = four 16-lane vectors. Returns how many positions it did (a multiple of 4). */
    private static int scores64(float[] q, MemorySegment k, long off, long rb, int len, float scale, float[] s) {
        FloatVector q0 = FloatVector.fromArray(F, q, 0), q1 = FloatVector.fromArray(F, q, 16);
        FloatVector q2 = FloatVector.fromArray(F, q, 32), q3 = FloatVector.fromArray(F, q, 48);
        int j = 0;
        for (; j + 3 < len; j += 4, off += 4 * rb) {
            for (int u = 0; u < 4; u++) { // constant trip count: unrolled, four independent chains
                long o = off + u * rb;
                FloatVector a = q0.mul(k(k, o)).add(q1.mul(k(k, o + 64))).add(q2.mul(k(k, o + 128)).add(q3.mul(k(k, o + 192))));
                s[j + u] = dev.rast.engine.math.Lanes.sum(a) * scale;
            }
        }
        return j;
    }

    /** Head dim 128 = eight 16-lane vectors. */
    private static int scores128(float[] q, MemorySegment k, long off, long rb, int len, float scale, float[] s) {
        FloatVector q0 = FloatVector.fromArray(F, q, 0), q1 = FloatVector.fromArray(F, q, 16);
        FloatVector q2 = FloatVector.fromArray(F, q, 32), q3 = FloatVector.fromArray(F, q, 48);
        FloatVector q4 = FloatVector.fromArray(F, q, 64), q5 = FloatVector.fromArray(F, q, 80);
        FloatVector q6 = FloatVector.fromArray(F, q, 96), q7 = FloatVector.fromArray(F, q, 112);
        int j = 0;
        for (; j + 3 < len; j += 4, off += 4 * rb) {
            for (int u = 0; u < 4; u++) {
                long o = off + u * rb;
                FloatVector a = q0.mul(k(k, o)).add(q1.mul(k(k, o + 64))).add(q2.mul(k(k, o + 128)).add(q3.mul(k(k, o + 192))));
                FloatVector b = q4.mul(k(k, o + 256)).add(q5.mul(k(k, o + 320))).add(q6.mul(k(k, o + 384)).add(q7.mul(k(k, o + 448))));
                s[j + u] = dev.rast.engine.math.Lanes.sum(a.add(b)) * scale;
            }
        }
        return j;
    }

    /** Any head dim that is a multiple of the vector length. */
    private static int scoresBy4(float[] q, int hd, MemorySegment k, long off, long rb, int len, float scale, float[] s) {
        int j = 0;
        for (; j + 3 < len; j += 4, off += 4 * rb) {
            long o1 = off + rb, o2 = o1 + rb, o3 = o2 + rb;
            FloatVector a = FloatVector.zero(F), b = a, c = a, d = a;
            for (int i = 0; i < hd; i += L) {
                FloatVector qv = FloatVector.fromArray(F, q, i);
                long x = 4L * i;
                a = qv.fma(k(k, off + x), a);
                b = qv.fma(k(k, o1 + x), b);
                c = qv.fma(k(k, o2 + x), c);
                d = qv.fma(k(k, o3 + x), d);
            }
            s[j] = dev.rast.engine.math.Lanes.sum(a) * scale;
            s[j + 1] = dev.rast.engine.math.Lanes.sum(b) * scale;
            s[j + 2] = dev.rast.engine.math.Lanes.sum(c) * scale;
            s[j + 3] = dev.rast.engine.math.Lanes.sum(d) * scale;
        }
        return j;
    }

    /** Replaces s[0..len) by exp(s[j] - max) and returns their sum. */
    private static float softmaxNumerators(float[] s, int len) {
        int j = 0;
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (; j <= len - L; j += L) mv = mv.max(FloatVector.fromArray(F, s, j));
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; j < len; j++) max = Math.max(max, s[j]);
        FloatVector m = FloatVector.broadcast(F, max), sum = FloatVector.zero(F);
        j = 0;
        for (; j <= len - L; j += L) {
            FloatVector e = dev.rast.engine.math.VectorExp.exp(FloatVector.fromArray(F, s, j).sub(m));
            e.intoArray(s, j);
            sum = sum.add(e);
        }
        float total = dev.rast.engine.math.Lanes.sum(sum);
        for (; j < len; j++) {
            float e = dev.rast.engine.math.VectorExp.exp(s[j] - max);
            s[j] = e;
            total += e;
        }
        return total;
    }

    /** out[qOff + d] = inv · Σ_j p[j] · v[j, kvOff + d] for d in [0, headDim). */
    private static void weightedSum(float[] p, int len, float inv, MemorySegment v, long kvOff, int kvWidth, int headDim,
                                    MemorySegment out, long outOff) {
        long rowBytes = (long) kvWidth * 4;
        int d = 0;
        for (; d <= headDim - 4 * L; d += 4 * L) {
            // Two sets of accumulators (even and odd positions) so that consecutive FMAs do not wait on each other.
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            long base = kvOff + 4L * d;
            int j = 0;
            for (; j + 1 < len; j += 2, base += 2 * rowBytes) {
                FloatVector w = FloatVector.broadcast(F, p[j]), u = FloatVector.broadcast(F, p[j + 1]);
                long nb = base + rowBytes;
                a0 = FloatVector.fromMemorySegment(F, v, base, LE).fma(w, a0);
                a1 = FloatVector.fromMemorySegment(F, v, base + 4L * L, LE).fma(w, a1);
                a2 = FloatVector.fromMemorySegment(F, v, base + 8L * L, LE).fma(w, a2);
                a3 = FloatVector.fromMemorySegment(F, v, base + 12L * L, LE).fma(w, a3);
                b0 = FloatVector.fromMemorySegment(F, v, nb, LE).fma(u, b0);
                b1 = FloatVector.fromMemorySegment(F, v, nb + 4L * L, LE).fma(u, b1);
                b2 = FloatVector.fromMemorySegment(F, v, nb + 8L * L, LE).fma(u, b2);
                b3 = FloatVector.fromMemorySegment(F, v, nb + 12L * L, LE).fma(u, b3);
            }
            if (j < len) {
                FloatVector w = FloatVector.broadcast(F, p[j]);
                a0 = FloatVector.fromMemorySegment(F, v, base, LE).fma(w, a0);
                a1 = FloatVector.fromMemorySegment(F, v, base + 4L * L, LE).fma(w, a1);
                a2 = FloatVector.fromMemorySegment(F, v, base + 8L * L, LE).fma(w, a2);
                a3 = FloatVector.fromMemorySegment(F, v, base + 12L * L, LE).fma(w, a3);
            }
            long o = outOff + 4L * d;
            a0.add(b0).mul(inv).intoMemorySegment(out, o, LE);
            a1.add(b1).mul(inv).intoMemorySegment(out, o + 4L * L, LE);
            a2.add(b2).mul(inv).intoMemorySegment(out, o + 8L * L, LE);
            a3.add(b3).mul(inv).intoMemorySegment(out, o + 12L * L, LE);
        }
        for (; d <= headDim - L; d += L) {
            FloatVector a = FloatVector.zero(F);
            long base = kvOff + 4L * d;
            for (int j = 0; j < len; j++, base += rowBytes) a = FloatVector.fromMemorySegment(F, v, base, LE).fma(FloatVector.broadcast(F, p[j]), a);
            a.mul(inv).intoMemorySegment(out, outOff + 4L * d, LE);
        }
        for (; d < headDim; d++) {
            float a = 0;
            long base = kvOff + 4L * d;
            for (int j = 0; j < len; j++, base += rowBytes) a += p[j] * v.get(FLOAT, base);
            out.set(FLOAT, outOff + 4L * d, a * inv);
        }
    }
}
