package dev.rast.kernels.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal multi-head attention over KV caches, grouped-query: query head h reads KV head h / (heads / kvHeads).
 * Exact softmax in F32 (scores, max-subtract, exp, normalize), as Hugging Face's eager path computes it.
 *
 * <p>Batched: each query row belongs to one sequence ({@code rowCache[t]} indexes the block tables) and sits at
 * position {@code rowPos[t]} of it, attending over that sequence's positions 0..rowPos[t]. The caches are paged: one
 * key and one value pool for all sequences, position j of a sequence at pool row
 * {@code table[j / blockSize]·blockSize + j % blockSize}; where the rows sit changes no bits. A work item is a block of one
 * sequence's consecutive rows (one row in a decode step, up to {@link #BLOCK_MAX_ROWS} of a prompt) against one KV
 * head: its queries are every (row, query head of that KV head) pair, and they pass over the cache together, a tile
 * of {@link #TILE} positions at a time, while the tile is in L1.
 *
 * <p>Queries sit in vector lanes: a score is a chain of FMAs over the head dimension, each key element broadcast
 * against up to 16 queries, with no lane reductions; the softmax runs down the positions for all lanes at once. The
 * weighted sum of values keeps head dimensions in lanes, per query. Every query's arithmetic is the same, in the same
 * order, whichever block and lane it lands in, so a prompt's rows get the same bits as the same rows decoded one at a
 * time (positions past a row's own end are masked to −∞ in the scores, and exp(−∞) adds an exact 0).
 *
 * <p>Caches hold F32 or BF16. BF16 keys and values are widened exactly, a tile at a time, into F32 tiles (the keys'
 * tile exists anyway; the values get one only for BF16: F32 values are read in place), so the arithmetic is the F32
 * path's on the rounded values, bit for bit. Widening a whole tile in a small loop of its own, rather than each
 * vector where it is used, is what keeps it fast: inside the big loops C2 leaves the short-to-int conversion to its
 * Java fallback (docs/benchmarks.md, "BF16 caches").
 */
final class Attention {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /**
     * Positions per tile of keys and values: even, so that the weighted sum's pairs of positions (even, odd) are the
     * same whether a row goes in one pass or tile by tile.
     */
    private static final int TILE = 64;
    /** Most rows per block; fewer when the block's scores (queries × positions floats) would pass ~2 MiB. */
    private static final int BLOCK_MAX_ROWS = 16;
    private static final int BLOCK_SCORES = 1 << 19;

    private Attention() {}

    static void run(WorkerPool pool, MemorySegment q, MemorySegment k, MemorySegment v, boolean bf16, MemorySegment out,
                    int[][] tables, int blockSize, int[] rowCache, int[] rowPos, int heads, int kvHeads, int headDim) {
        for (int[] t : tables) // runs of consecutive rows start at even positions only if blocks do (see weightedSum)
            if (t.length > 1 && blockSize % 2 != 0) throw new IllegalArgumentException("attention: odd KV block size " + blockSize);
        int group = heads / kvHeads;
        Items items = items(rowCache, rowPos, group, kvHeads, pool.threads());
        float scale = (float) (1.0 / Math.sqrt(headDim));
        pool.run(items.size, (worker, i0, i1) -> {
            for (int item = i0; item < i1; item++) {
                int t = items.row[item];
                block(q, k, v, tables[rowCache[t]], blockSize, bf16, out, t, items.rows[item], rowPos, items.kvHead[item], group,
                        items.headFrom[item], items.headTo[item], heads * headDim, kvHeads * headDim, headDim, scale);
            }
        });
    }

    /**
     * The op's work items: {@code row} is a block's first row, {@code rows} its row count, {@code kvHead} its KV head,
     * and [{@code headFrom}, {@code headTo}) the query heads of that KV head it takes (all of them, unless the op has
     * fewer blocks × KV heads than threads: one sequence's decode step on a many-core machine). Blocks that attend
     * over more positions go first, so that the last pieces the threads take are short.
     */
    private record Items(int size, int[] row, int[] rows, int[] kvHead, int[] headFrom, int[] headTo) {}

    private static Items items(int[] rowCache, int[] rowPos, int group, int kvHeads, int threads) {
        int T = rowPos.length;
        List<int[]> blocks = new ArrayList<>();
        for (int t = 0; t < T; ) {
            int e = t; // rows t..e: one sequence, consecutive positions
            while (e + 1 < T && rowCache[e + 1] == rowCache[t] && rowPos[e + 1] == rowPos[e] + 1) e++;
            int per = Math.clamp(BLOCK_SCORES / ((long) group * (rowPos[e] + 1)), 1, BLOCK_MAX_ROWS);
            for (int b = t; b <= e; b += per) blocks.add(new int[] {b, Math.min(per, e - b + 1), rowPos[Math.min(e, b + per - 1)]});
            t = e + 1;
        }
        blocks.sort((a, b) -> Integer.compare(b[2], a[2]));
        // Each query's arithmetic does not depend on which others share its item, so splitting changes no bits.
        int split = blocks.isEmpty() ? 1 : Math.min(group, Math.ceilDiv(threads, blocks.size() * kvHeads));
        int size = blocks.size() * kvHeads * split;
        int[] row = new int[size], rows = new int[size], kvHead = new int[size], headFrom = new int[size], headTo = new int[size];
        int i = 0;
        for (int[] b : blocks)
            for (int kvh = 0; kvh < kvHeads; kvh++)
                for (int part = 0; part < split; part++, i++) {
                    row[i] = b[0];
                    rows[i] = b[1];
                    kvHead[i] = kvh;
                    headFrom[i] = group * part / split;
                    headTo[i] = group * (part + 1) / split;
                }
        return new Items(size, row, rows, kvHead, headFrom, headTo);
    }

    /**
     * Rows [t0, t0 + R) of one sequence against KV head kvh, for that KV head's query heads h0..h1−1 (gh of them).
     * Query i (row i / gh, head kvh·group + h0 + i % gh) sits in lane i % L of lane group i / L. Scratch layouts:
     * {@code qt[(g·hd + d)·L + lane]}, scores
     * {@code s[(g·maxLen + j)·L + lane]}, keys of a tile {@code kt[p·hd + d]}, and per query two sets of weighted-sum
     * accumulators {@code acc[i·2·hd + d]} (even positions) and {@code acc[i·2·hd + hd + d]} (odd positions).
     */
    private static void block(MemorySegment qs, MemorySegment kc, MemorySegment vc, int[] table, int bs, boolean bf16, MemorySegment out, int t0,
                              int R, int[] rowPos, int kvh, int group, int h0, int h1, int qWidth, int kvWidth, int hd, float scale) {
        int gh = h1 - h0, Q = R * gh, ng = (Q + L - 1) / L, maxLen = rowPos[t0 + R - 1] + 1;
        int es = bf16 ? 2 : 4; // bytes per cached element
        long kvOff = (long) kvh * hd * es, rowBytes = (long) kvWidth * es;
        float[] qt = Scratch.get(Scratch.ATT_Q, ng * hd * L);
        float[] s = Scratch.get(Scratch.ATT_S, ng * maxLen * L);
        float[] kt = Scratch.get(Scratch.ATT_K, TILE * hd);
        float[] acc = Scratch.get(Scratch.ATT_ACC, Q * 2 * hd);

        Arrays.fill(qt, 0, ng * hd * L, 0f); // lanes past Q stay zero: their scores are computed and never used
        float[] qrow = Scratch.get(Scratch.ATT_QROW, gh * hd);
        for (int r = 0; r < R; r++) { // a row's query heads of this KV head are adjacent: one copy, then transposed
            MemorySegment.copy(qs, FLOAT, ((long) (t0 + r) * qWidth + (long) (kvh * group + h0) * hd) * 4, qrow, 0, gh * hd);
            for (int h = 0; h < gh; h++) {
                int i = r * gh + h, at = (i / L) * hd * L + i % L;
                for (int d = 0; d < hd; d++) qt[at + d * L] = qrow[h * hd + d];
            }
        }
        for (int j0 = 0; j0 < maxLen; j0 += TILE) {
            int n = Math.min(TILE, maxLen - j0);
            if (bf16) widenTile(kc, kvOff, rowBytes, table, bs, j0, n, hd, kt);
            else for (int p = 0; p < n; p++) { // vector loads: a bulk copy per 256-byte row costs more than the row
                long row = kvOff + poolRow(table, bs, j0 + p) * rowBytes;
                int d = 0;
                for (; d <= hd - L; d += L) FloatVector.fromMemorySegment(F, kc, row + 4L * d, LE).intoArray(kt, p * hd + d);
                for (; d < hd; d++) kt[p * hd + d] = kc.get(FLOAT, row + 4L * d);
            }
            for (int g = 0; g < ng; g++) scores(qt, g * hd * L, kt, n, hd, scale, s, (g * maxLen + j0) * L);
        }
        for (int i = 0; i < Q; i++) { // causal: a row of the block does not see the positions of the rows after it
            int len = rowPos[t0 + i / gh] + 1, at = (i / L) * maxLen * L + i % L;
            for (int j = len; j < maxLen; j++) s[at + j * L] = Float.NEGATIVE_INFINITY;
        }
        float[] sums = new float[ng * L];
        for (int g = 0; g < ng; g++) softmaxNumerators(s, g * maxLen * L, maxLen).intoArray(sums, g * L);

        Arrays.fill(acc, 0, Q * 2 * hd, 0f);
        MemorySegment vt = bf16 ? valueTile(TILE * hd) : null;
        int[] runs = new int[2 * (TILE / Math.min(bs, TILE) + 2)];
        for (int j0 = 0; j0 < maxLen; j0 += TILE) {
            int tileEnd = Math.min(j0 + TILE, maxLen);
            if (bf16) { // the tile's values widened to F32 rows of hd: one run, addressed as if they sat at positions j0..
                widenTile(vc, kvOff, rowBytes, table, bs, j0, tileEnd - j0, hd, vt);
                for (int i = 0; i < Q; i++) {
                    int len = rowPos[t0 + i / gh] + 1;
                    if (j0 < len)
                        weightedSum(s, (i / L) * maxLen * L + i % L, L, j0, Math.min(tileEnd, len), vt, -j0 * 4L * hd, 4L * hd, hd, acc, i * 2 * hd);
                }
                continue;
            }
            // F32 values are read in place, in runs of positions whose pool rows are consecutive (whole tiles for a
            // contiguous cache); each run starts at an even position, so the (even, odd) pairs are the same.
            int nRuns = 0;
            for (int j = j0; j < tileEnd; ) {
                int e = Math.min(tileEnd, (j / bs + 1) * bs);
                while (e < tileEnd && table[e / bs] == table[e / bs - 1] + 1) e = Math.min(tileEnd, e + bs);
                runs[nRuns++] = j;
                runs[nRuns++] = e;
                j = e;
            }
            for (int i = 0; i < Q; i++) {
                int len = rowPos[t0 + i / gh] + 1;
                for (int r = 0; r < nRuns && runs[r] < len; r += 2) {
                    int a = runs[r];
                    weightedSum(s, (i / L) * maxLen * L + i % L, L, a, Math.min(runs[r + 1], len), vc,
                            kvOff + (poolRow(table, bs, a) - a) * rowBytes, rowBytes, hd, acc, i * 2 * hd);
                }
            }
        }
        for (int i = 0; i < Q; i++) {
            float inv = 1f / sums[i];
            long o = ((long) (t0 + i / gh) * qWidth + (long) (kvh * group + h0 + i % gh) * hd) * 4;
            int even = i * 2 * hd, odd = even + hd, d = 0;
            for (; d <= hd - L; d += L)
                FloatVector.fromArray(F, acc, even + d).add(FloatVector.fromArray(F, acc, odd + d)).mul(inv).intoMemorySegment(out, o + 4L * d, LE);
            for (; d < hd; d++) out.set(FLOAT, o + 4L * d, (acc[even + d] + acc[odd + d]) * inv);
        }
    }

    /**
     * Scores of the lanes' queries ({@code qt} from {@code qo}) against the n keys of a tile: for position p,
     * {@code s[so + p·L + lane] = scale · Σ_d q[d]·k_p[d]}, one FMA per d in order. Eight positions at a time, so
     * that eight independent chains hide the FMA latency; the rest one by one, with the same per-lane arithmetic.
     */
    private static void scores(float[] qt, int qo, float[] kt, int n, int hd, float scale, float[] s, int so) {
        int p = 0;
        for (; p + 7 < n; p += 8) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            int k0 = p * hd;
            for (int d = 0; d < hd; d++) {
                FloatVector qv = FloatVector.fromArray(F, qt, qo + d * L);
                int kd = k0 + d;
                a0 = qv.fma(FloatVector.broadcast(F, kt[kd]), a0);
                a1 = qv.fma(FloatVector.broadcast(F, kt[kd + hd]), a1);
                a2 = qv.fma(FloatVector.broadcast(F, kt[kd + 2 * hd]), a2);
                a3 = qv.fma(FloatVector.broadcast(F, kt[kd + 3 * hd]), a3);
                a4 = qv.fma(FloatVector.broadcast(F, kt[kd + 4 * hd]), a4);
                a5 = qv.fma(FloatVector.broadcast(F, kt[kd + 5 * hd]), a5);
                a6 = qv.fma(FloatVector.broadcast(F, kt[kd + 6 * hd]), a6);
                a7 = qv.fma(FloatVector.broadcast(F, kt[kd + 7 * hd]), a7);
            }
            int at = so + p * L;
            a0.mul(scale).intoArray(s, at);
            a1.mul(scale).intoArray(s, at + L);
            a2.mul(scale).intoArray(s, at + 2 * L);
            a3.mul(scale).intoArray(s, at + 3 * L);
            a4.mul(scale).intoArray(s, at + 4 * L);
            a5.mul(scale).intoArray(s, at + 5 * L);
            a6.mul(scale).intoArray(s, at + 6 * L);
            a7.mul(scale).intoArray(s, at + 7 * L);
        }
        for (; p < n; p++) {
            FloatVector a = FloatVector.zero(F);
            for (int d = 0; d < hd; d++) a = FloatVector.fromArray(F, qt, qo + d * L).fma(FloatVector.broadcast(F, kt[p * hd + d]), a);
            a.mul(scale).intoArray(s, so + p * L);
        }
    }

    /** Replaces each lane's scores {@code s[so + j·L]}, j < n, by exp(score − the lane's max); returns the lanes' sums. */
    private static FloatVector softmaxNumerators(float[] s, int so, int n) {
        FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < n; j++) m = m.max(FloatVector.fromArray(F, s, so + j * L));
        FloatVector sum = FloatVector.zero(F);
        for (int j = 0; j < n; j++) {
            FloatVector e = dev.rast.engine.math.VectorExp.exp(FloatVector.fromArray(F, s, so + j * L).sub(m));
            e.intoArray(s, so + j * L);
            sum = sum.add(e);
        }
        return sum;
    }

    /**
     * One query's weighted sum of values over positions [j0, j1) (j0 even), weights {@code p[po + j·ps]}, added to its
     * accumulators in {@code acc} (even positions at {@code ao + d}, odd ones at {@code ao + hd + d}) so that a row
     * goes tile by tile with the same sums as in one pass. Head dims in lanes, four vectors at a time in two sets
     * (even and odd positions) so that consecutive FMAs do not wait on each other; leftover dims one vector, then
     * one float, at a time (even set only).
     */
    private static void weightedSum(float[] p, int po, int ps, int j0, int j1, MemorySegment v, long kvOff, long rowBytes,
                                    int hd, float[] acc, int ao) {
        int d = 0;
        for (; d <= hd - 4 * L; d += 4 * L) {
            int ea = ao + d, oa = ao + hd + d;
            FloatVector a0 = FloatVector.fromArray(F, acc, ea), a1 = FloatVector.fromArray(F, acc, ea + L);
            FloatVector a2 = FloatVector.fromArray(F, acc, ea + 2 * L), a3 = FloatVector.fromArray(F, acc, ea + 3 * L);
            FloatVector b0 = FloatVector.fromArray(F, acc, oa), b1 = FloatVector.fromArray(F, acc, oa + L);
            FloatVector b2 = FloatVector.fromArray(F, acc, oa + 2 * L), b3 = FloatVector.fromArray(F, acc, oa + 3 * L);
            long base = kvOff + 4L * d + j0 * rowBytes;
            int j = j0;
            for (; j + 1 < j1; j += 2, base += 2 * rowBytes) {
                FloatVector w = FloatVector.broadcast(F, p[po + j * ps]), u = FloatVector.broadcast(F, p[po + (j + 1) * ps]);
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
            if (j < j1) { // an odd end: only at the row's last position
                FloatVector w = FloatVector.broadcast(F, p[po + j * ps]);
                a0 = FloatVector.fromMemorySegment(F, v, base, LE).fma(w, a0);
                a1 = FloatVector.fromMemorySegment(F, v, base + 4L * L, LE).fma(w, a1);
                a2 = FloatVector.fromMemorySegment(F, v, base + 8L * L, LE).fma(w, a2);
                a3 = FloatVector.fromMemorySegment(F, v, base + 12L * L, LE).fma(w, a3);
            }
            a0.intoArray(acc, ea); a1.intoArray(acc, ea + L); a2.intoArray(acc, ea + 2 * L); a3.intoArray(acc, ea + 3 * L);
            b0.intoArray(acc, oa); b1.intoArray(acc, oa + L); b2.intoArray(acc, oa + 2 * L); b3.intoArray(acc, oa + 3 * L);
        }
        for (; d <= hd - L; d += L) {
            FloatVector a = FloatVector.fromArray(F, acc, ao + d);
            long base = kvOff + 4L * d + j0 * rowBytes;
            for (int j = j0; j < j1; j++, base += rowBytes) a = FloatVector.fromMemorySegment(F, v, base, LE).fma(FloatVector.broadcast(F, p[po + j * ps]), a);
            a.intoArray(acc, ao + d);
        }
        for (; d < hd; d++) {
            float a = acc[ao + d];
            long base = kvOff + 4L * d + j0 * rowBytes;
            for (int j = j0; j < j1; j++, base += rowBytes) a += p[po + j * ps] * v.get(FLOAT, base);
            acc[ao + d] = a;
        }
    }

    /** The pool row of position {@code pos}: through the block table. */
    private static long poolRow(int[] table, int bs, int pos) { return (long) table[pos / bs] * bs + pos % bs; }

    /**
     * The BF16 rows of positions j0..j0+n−1 (hd elements from byte {@code off} of their pool rows) widened into
     * {@code dst[p·hd + d]}.
     */
    private static void widenTile(MemorySegment c, long off, long rowBytes, int[] table, int bs, int j0, int n, int hd, float[] dst) {
        for (int p = 0; p < n; p++) {
            long row = off + poolRow(table, bs, j0 + p) * rowBytes;
            int d = 0;
            for (; d <= hd - L; d += L) VectorOps.bf16Vector(c, row + 2L * d).intoArray(dst, p * hd + d);
            for (; d < hd; d++) dst[p * hd + d] = bf16(c, row + 2L * d);
        }
    }

    /** The same into F32 rows of hd elements in a native segment (which the weighted sum reads as it reads a cache). */
    private static void widenTile(MemorySegment c, long off, long rowBytes, int[] table, int bs, int j0, int n, int hd, MemorySegment dst) {
        for (int p = 0; p < n; p++) {
            long row = off + poolRow(table, bs, j0 + p) * rowBytes, to = 4L * p * hd;
            int d = 0;
            for (; d <= hd - L; d += L) VectorOps.bf16Vector(c, row + 2L * d).intoMemorySegment(dst, to + 4L * d, LE);
            for (; d < hd; d++) dst.set(FLOAT, to + 4L * d, bf16(c, row + 2L * d));
        }
    }

    private static float bf16(MemorySegment m, long off) {
        return Float.intBitsToFloat((m.get(ValueLayout.JAVA_SHORT_UNALIGNED, off) & 0xFFFF) << 16);
    }

    /** This thread's native scratch for one tile of widened values, at least {@code floats} long. */
    private static MemorySegment valueTile(int floats) {
        MemorySegment t = VALUE_TILE.get();
        if (t.byteSize() < 4L * floats) VALUE_TILE.set(t = Arena.ofAuto().allocate(4L * floats, 64));
        return t;
    }

    private static final ThreadLocal<MemorySegment> VALUE_TILE = ThreadLocal.withInitial(() -> MemorySegment.NULL);
}
