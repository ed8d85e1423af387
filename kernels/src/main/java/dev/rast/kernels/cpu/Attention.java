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

    /** Positions per tile of keys and values that a block of query rows passes over together (16 KiB at head dim 64). */
    private static final int TILE = 64;
    /** A sequence with at least this many new rows (a prompt) goes through in blocks of rows. */
    private static final int BLOCK_MIN_ROWS = 4;
    /** Most rows per block: a block's scores (rows × heads of a group × positions floats) stay within ~2 MiB. */
    private static final int BLOCK_MAX_ROWS = 16;
    private static final int BLOCK_SCORES = 1 << 19;

    static void run(WorkerPool pool, MemorySegment q, MemorySegment[] k, MemorySegment[] v, MemorySegment out,
                    int[] rowCache, int[] rowPos, int heads, int kvHeads, int headDim) {
        int T = rowPos.length;
        int group = heads / kvHeads;
        int qWidth = heads * headDim, kvWidth = kvHeads * headDim;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        int maxLen = 0;
        for (int p : rowPos) maxLen = Math.max(maxLen, p + 1);
        int scoresLen = maxLen;
        Items items = items(rowCache, rowPos, heads, kvHeads, headDim);
        pool.run(items.size, (worker, i0, i1) -> {
            float[] scores = new float[scoresLen];
            float[] qh = new float[headDim];
            Block block = null;
            for (int item = i0; item < i1; item++) {
                int t = items.row[item];
                MemorySegment kc = k[rowCache[t]], vc = v[rowCache[t]];
                if (items.rows[item] > 0) { // a block of a prompt's rows, all heads of one KV head
                    if (block == null) block = new Block(items.maxRows * group, scoresLen, headDim);
                    block.run(q, kc, vc, out, t, items.rows[item], rowPos, items.head[item], group, qWidth, kvWidth, headDim, scale);
                    continue;
                }
                int h = items.head[item], kvh = h / group;
                int len = rowPos[t] + 1; // causal: positions 0..rowPos[t]
                long qOff = ((long) t * qWidth + (long) h * headDim) * 4, kvOff = (long) kvh * headDim * 4;
                MemorySegment.copy(q, FLOAT, qOff, qh, 0, headDim);
                scores(qh, headDim, kc, kvOff, (long) kvWidth * 4, len, scale, scores, 0);
                float inv = 1f / softmaxNumerators(scores, 0, len);
                weightedSum(scores, len, inv, vc, kvOff, kvWidth, headDim, out, qOff);
            }
        });
    }

    /**
     * The op's work items. A row of a decode step (its sequence has one new row) is one item per head: {@code row},
     * {@code head}, {@code rows} 0. A prompt's rows are cut into blocks, one item per (block, KV head): {@code row}
     * is the block's first row, {@code rows} its row count, {@code head} the KV head. Blocks go longest first, so
     * that the last pieces the threads take are short.
     */
    private record Items(int size, int[] row, int[] rows, int[] head, int maxRows) {}

    private static Items items(int[] rowCache, int[] rowPos, int heads, int kvHeads, int headDim) {
        int T = rowPos.length, group = heads / kvHeads;
        boolean blocks = headDim % (4 * L) == 0; // the weighted sum's tile form covers head dims of whole 4-vector chunks
        java.util.List<int[]> blockItems = new java.util.ArrayList<>(), rowItems = new java.util.ArrayList<>();
        int maxRows = 0;
        for (int t = 0; t < T; ) {
            int e = t; // rows t..e: one sequence, consecutive positions
            while (e + 1 < T && rowCache[e + 1] == rowCache[t] && rowPos[e + 1] == rowPos[e] + 1) e++;
            int n = e - t + 1;
            if (blocks && n >= BLOCK_MIN_ROWS) {
                int per = Math.clamp(BLOCK_SCORES / ((long) group * (rowPos[e] + 1)), 1, BLOCK_MAX_ROWS);
                for (int b = t; b <= e; b += per) {
                    int rows = Math.min(per, e - b + 1);
                    maxRows = Math.max(maxRows, rows);
                    for (int kvh = 0; kvh < kvHeads; kvh++) blockItems.add(new int[] {b, rows, kvh});
                }
            } else {
                for (int r = t; r <= e; r++)
                    for (int h = 0; h < heads; h++) rowItems.add(new int[] {r, 0, h});
            }
            t = e + 1;
        }
        java.util.Collections.reverse(blockItems); // later blocks attend over more positions: hand them out first
        int size = blockItems.size() + rowItems.size();
        int[] row = new int[size], rows = new int[size], head = new int[size];
        int i = 0;
        for (java.util.List<int[]> l : java.util.List.of(blockItems, rowItems))
            for (int[] it : l) { row[i] = it[0]; rows[i] = it[1]; head[i] = it[2]; i++; }
        return new Items(size, row, rows, head, maxRows);
    }

    /**
     * A block of a prompt's rows against one KV head: every query head of the group, for every row of the block,
     * passes over each tile of keys (then of values) while the tile is in L1, instead of each (row, head) reading
     * the whole cache on its own: a long prompt read its cache from L3 once per row and head. Same arithmetic as the
     * one-row path, position by position and in the same order (tiles start at multiples of 4 and are even, the
     * accumulators of the weighted sum carry over from tile to tile), so the outputs are the same bits.
     */
    private static final class Block {
        final float[][] q;     // query vector per (row, head of the group)
        final float[] scores;  // then probabilities: (row, head) × positions
        final float[] acc;     // weighted-sum accumulators per (row, head): even positions, then odd ones
        final float[] inv;
        final int stride;

        Block(int queries, int positions, int hd) {
            q = new float[queries][hd];
            scores = new float[queries * positions];
            acc = new float[queries * 2 * hd];
            inv = new float[queries];
            stride = positions;
        }

        void run(MemorySegment qs, MemorySegment kc, MemorySegment vc, MemorySegment out, int t0, int rows, int[] rowPos,
                 int kvh, int group, int qWidth, int kvWidth, int hd, float scale) {
            long kvOff = (long) kvh * hd * 4, rowBytes = (long) kvWidth * 4;
            int queries = rows * group, maxLen = rowPos[t0 + rows - 1] + 1;
            for (int i = 0; i < queries; i++) {
                int r = i / group, h = kvh * group + i % group;
                MemorySegment.copy(qs, FLOAT, ((long) (t0 + r) * qWidth + (long) h * hd) * 4, q[i], 0, hd);
            }
            for (int j0 = 0; j0 < maxLen; j0 += TILE)
                for (int i = 0; i < queries; i++) {
                    int len = rowPos[t0 + i / group] + 1;
                    if (j0 < len) scores(q[i], hd, kc, kvOff + j0 * rowBytes, rowBytes, Math.min(TILE, len - j0), scale, scores, i * stride + j0);
                }
            for (int i = 0; i < queries; i++) inv[i] = 1f / softmaxNumerators(scores, i * stride, rowPos[t0 + i / group] + 1);
            java.util.Arrays.fill(acc, 0, queries * 2 * hd, 0f);
            for (int j0 = 0; j0 < maxLen; j0 += TILE)
                for (int i = 0; i < queries; i++) {
                    int len = rowPos[t0 + i / group] + 1;
                    if (j0 < len) weightedSumTile(scores, i * stride, j0, Math.min(j0 + TILE, len), vc, kvOff, rowBytes, hd, acc, i * 2 * hd);
                }
            for (int i = 0; i < queries; i++) {
                int r = i / group, h = kvh * group + i % group;
                long o = ((long) (t0 + r) * qWidth + (long) h * hd) * 4;
                FloatVector w = FloatVector.broadcast(F, inv[i]);
                for (int d = 0; d < hd; d += L)
                    FloatVector.fromArray(F, acc, i * 2 * hd + d).add(FloatVector.fromArray(F, acc, i * 2 * hd + hd + d)).mul(w)
                            .intoMemorySegment(out, o + 4L * d, LE);
            }
        }
    }

    /**
     * s[j] = scale · q·k_j for positions j < len; k_j starts at byte kvOff + j·rowBytes of k. Four positions at a
     * time in independent FMA chains (one lane reduction each is the slow part; four in flight hide its latency),
     * with q held in registers for the common head sizes 64 and 128: ~4 ns per position and head instead of ~15.
     */
    private static void scores(float[] q, int hd, MemorySegment k, long kvOff, long rowBytes, int len, float scale, float[] s, int so) {
        int j = 0;
        if (L == 16 && hd == 64) j = scores64(q, k, kvOff, rowBytes, len, scale, s, so);
        else if (L == 16 && hd == 128) j = scores128(q, k, kvOff, rowBytes, len, scale, s, so);
        else if (hd % L == 0) j = scoresBy4(q, hd, k, kvOff, rowBytes, len, scale, s, so);
        for (; j < len; j++) s[so + j] = dot(q, hd, k, kvOff + j * rowBytes) * scale;
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
    private static int scores64(float[] q, MemorySegment k, long off, long rb, int len, float scale, float[] s, int so) {
        FloatVector q0 = FloatVector.fromArray(F, q, 0), q1 = FloatVector.fromArray(F, q, 16);
        FloatVector q2 = FloatVector.fromArray(F, q, 32), q3 = FloatVector.fromArray(F, q, 48);
        int j = 0;
        for (; j + 3 < len; j += 4, off += 4 * rb) {
            for (int u = 0; u < 4; u++) { // constant trip count: unrolled, four independent chains
                long o = off + u * rb;
                FloatVector a = q0.mul(k(k, o)).add(q1.mul(k(k, o + 64))).add(q2.mul(k(k, o + 128)).add(q3.mul(k(k, o + 192))));
                s[so + j + u] = dev.rast.engine.math.Lanes.sum(a) * scale;
            }
        }
        return j;
    }

    /** Head dim 128 = eight 16-lane vectors. */
    private static int scores128(float[] q, MemorySegment k, long off, long rb, int len, float scale, float[] s, int so) {
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
                s[so + j + u] = dev.rast.engine.math.Lanes.sum(a.add(b)) * scale;
            }
        }
        return j;
    }

    /** Any head dim that is a multiple of the vector length. */
    private static int scoresBy4(float[] q, int hd, MemorySegment k, long off, long rb, int len, float scale, float[] s, int so) {
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
            s[so + j] = dev.rast.engine.math.Lanes.sum(a) * scale;
            s[so + j + 1] = dev.rast.engine.math.Lanes.sum(b) * scale;
            s[so + j + 2] = dev.rast.engine.math.Lanes.sum(c) * scale;
            s[so + j + 3] = dev.rast.engine.math.Lanes.sum(d) * scale;
        }
        return j;
    }

    /** Replaces s[so..so+len) by exp(s[j] - max) and returns their sum. */
    private static float softmaxNumerators(float[] s, int so, int len) {
        int j = 0;
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (; j <= len - L; j += L) mv = mv.max(FloatVector.fromArray(F, s, so + j));
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; j < len; j++) max = Math.max(max, s[so + j]);
        FloatVector m = FloatVector.broadcast(F, max), sum = FloatVector.zero(F);
        j = 0;
        for (; j <= len - L; j += L) {
            FloatVector e = dev.rast.engine.math.VectorExp.exp(FloatVector.fromArray(F, s, so + j).sub(m));
            e.intoArray(s, so + j);
            sum = sum.add(e);
        }
        float total = dev.rast.engine.math.Lanes.sum(sum);
        for (; j < len; j++) {
            float e = dev.rast.engine.math.VectorExp.exp(s[so + j] - max);
            s[so + j] = e;
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

    /**
     * {@link #weightedSum}'s first loop over positions [j0, j1) only (j0 even), for head dims of whole 4-vector
     * chunks, carrying its two sets of accumulators (even and odd positions) in {@code acc} from tile to tile:
     * {@code acc[ao + d]} the even set, {@code acc[ao + hd + d]} the odd one.
     */
    private static void weightedSumTile(float[] p, int po, int j0, int j1, MemorySegment v, long kvOff, long rowBytes, int hd,
                                        float[] acc, int ao) {
        for (int d = 0; d < hd; d += 4 * L) {
            int ea = ao + d, oa = ao + hd + d;
            FloatVector a0 = FloatVector.fromArray(F, acc, ea), a1 = FloatVector.fromArray(F, acc, ea + L);
            FloatVector a2 = FloatVector.fromArray(F, acc, ea + 2 * L), a3 = FloatVector.fromArray(F, acc, ea + 3 * L);
            FloatVector b0 = FloatVector.fromArray(F, acc, oa), b1 = FloatVector.fromArray(F, acc, oa + L);
            FloatVector b2 = FloatVector.fromArray(F, acc, oa + 2 * L), b3 = FloatVector.fromArray(F, acc, oa + 3 * L);
            long base = kvOff + 4L * d + j0 * rowBytes;
            int j = j0;
            for (; j + 1 < j1; j += 2, base += 2 * rowBytes) {
                FloatVector w = FloatVector.broadcast(F, p[po + j]), u = FloatVector.broadcast(F, p[po + j + 1]);
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
            if (j < j1) { // an odd end: only at the row's last position, as in weightedSum
                FloatVector w = FloatVector.broadcast(F, p[po + j]);
                a0 = FloatVector.fromMemorySegment(F, v, base, LE).fma(w, a0);
                a1 = FloatVector.fromMemorySegment(F, v, base + 4L * L, LE).fma(w, a1);
                a2 = FloatVector.fromMemorySegment(F, v, base + 8L * L, LE).fma(w, a2);
                a3 = FloatVector.fromMemorySegment(F, v, base + 12L * L, LE).fma(w, a3);
            }
            a0.intoArray(acc, ea); a1.intoArray(acc, ea + L); a2.intoArray(acc, ea + 2 * L); a3.intoArray(acc, ea + 3 * L);
            b0.intoArray(acc, oa); b1.intoArray(acc, oa + L); b2.intoArray(acc, oa + 2 * L); b3.intoArray(acc, oa + 3 * L);
        }
    }
}
