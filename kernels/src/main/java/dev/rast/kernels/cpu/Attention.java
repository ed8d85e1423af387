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
 * <p>Per item: scores are dot products; the softmax runs over vectors of positions (one vector exp for L
 * positions); the weighted sum of values keeps four vectors of head dimensions in registers while it walks the
 * positions, instead of loading and storing an accumulator array for every position.
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
            for (int item = i0; item < i1; item++) {
                int t = item / heads, h = item % heads, kvh = h / group;
                MemorySegment kc = k[rowCache[t]], vc = v[rowCache[t]];
                int len = rowPos[t] + 1; // causal: positions 0..rowPos[t]
                long qOff = ((long) t * qWidth + (long) h * headDim) * 4, kvOff = (long) kvh * headDim * 4;
                for (int j = 0; j < len; j++)
                    scores[j] = VectorOps.dot(q, qOff, kc, (long) j * kvWidth * 4 + kvOff, headDim) * scale;
                float inv = 1f / softmaxNumerators(scores, len);
                weightedSum(scores, len, inv, vc, kvOff, kvWidth, headDim, out, qOff);
            }
        });
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
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            long base = kvOff + 4L * d;
            for (int j = 0; j < len; j++, base += rowBytes) {
                FloatVector w = FloatVector.broadcast(F, p[j]);
                a0 = FloatVector.fromMemorySegment(F, v, base, LE).fma(w, a0);
                a1 = FloatVector.fromMemorySegment(F, v, base + 4L * L, LE).fma(w, a1);
                a2 = FloatVector.fromMemorySegment(F, v, base + 8L * L, LE).fma(w, a2);
                a3 = FloatVector.fromMemorySegment(F, v, base + 12L * L, LE).fma(w, a3);
            }
            long o = outOff + 4L * d;
            a0.mul(inv).intoMemorySegment(out, o, LE);
            a1.mul(inv).intoMemorySegment(out, o + 4L * L, LE);
            a2.mul(inv).intoMemorySegment(out, o + 8L * L, LE);
            a3.mul(inv).intoMemorySegment(out, o + 12L * L, LE);
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
