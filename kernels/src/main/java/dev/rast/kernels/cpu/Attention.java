package dev.rast.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Causal multi-head attention over KV caches, grouped-query: query head h reads KV head h / (heads / kvHeads).
 * Exact softmax in F32 (scores, max-subtract, exp, normalize), as Hugging Face's eager path computes it.
 *
 * <p>Batched: each query row belongs to one sequence ({@code rowCache[t]} indexes the caches) and sits at position
 * {@code rowPos[t]} of it, attending over that sequence's positions 0..rowPos[t]. Work items are (row, head) pairs,
 * so a decode step of many sequences and a long prefill both spread over all threads.
 */
final class Attention {
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
            float[] acc = new float[headDim];
            for (int item = i0; item < i1; item++) {
                int t = item / heads, h = item % heads, kvh = h / group;
                MemorySegment kc = k[rowCache[t]], vc = v[rowCache[t]];
                int len = rowPos[t] + 1; // causal: positions 0..rowPos[t]
                long qOff = ((long) t * qWidth + (long) h * headDim) * 4;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < len; j++) {
                    float s = VectorOps.dot(q, qOff, kc, ((long) j * kvWidth + (long) kvh * headDim) * 4, headDim) * scale;
                    scores[j] = s;
                    if (s > max) max = s;
                }
                float sum = 0;
                for (int j = 0; j < len; j++) {
                    float e = (float) Math.exp(scores[j] - max);
                    scores[j] = e;
                    sum += e;
                }
                java.util.Arrays.fill(acc, 0f);
                float inv = 1f / sum;
                for (int j = 0; j < len; j++)
                    VectorOps.axpy(acc, scores[j] * inv, vc, ((long) j * kvWidth + (long) kvh * headDim) * 4, headDim);
                MemorySegment.copy(acc, 0, out, ValueLayout.JAVA_FLOAT_UNALIGNED, qOff, headDim);
            }
        });
    }
}
