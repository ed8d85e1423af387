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
 * weighted sum of values keeps head dimensions in lanes and takes four queries at a time, which share each value
 * vector loaded; a query's sums still gain one position after another, one FMA each, in position order. Masked
 * positions have weight exactly 0, so a block's shorter rows may run over them. Every query's arithmetic is the same, in the same
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

    /** Positions per tile of keys and values. */
    private static final int TILE = 64;
    /** Most rows per block; fewer when the block's scores (queries × positions floats) would pass ~2 MiB. */
    private static final int BLOCK_MAX_ROWS = 16;
    private static final int BLOCK_SCORES = 1 << 19;

    private Attention() {}

    static void run(WorkerPool pool, MemorySegment q, MemorySegment k, MemorySegment v, boolean bf16, MemorySegment out,
                    int[][] tables, int blockSize, int[] rowCache, int[] rowPos, int heads, int kvHeads, int headDim) {
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
     * {@code s[(g·maxLen + j)·L + lane]}, keys of a tile {@code kt[p·hd + d]}, and per query the weighted-sum
     * accumulators {@code acc[i·hd + d]}, plus one spare query's for the missing members of a last group of four.
     */
    private static void block(MemorySegment qs, MemorySegment kc, MemorySegment vc, int[] table, int bs, boolean bf16, MemorySegment out, int t0,
                              int R, int[] rowPos, int kvh, int group, int h0, int h1, int qWidth, int kvWidth, int hd, float scale) {
        int gh = h1 - h0, Q = R * gh, ng = (Q + L - 1) / L, maxLen = rowPos[t0 + R - 1] + 1;
        int es = bf16 ? 2 : 4; // bytes per cached element
        long kvOff = (long) kvh * hd * es, rowBytes = (long) kvWidth * es;
        float[] qt = Scratch.get(Scratch.ATT_Q, ng * hd * L);
        float[] s = Scratch.get(Scratch.ATT_S, ng * maxLen * L);
        float[] kt = Scratch.get(Scratch.ATT_K, TILE * hd);
        float[] acc = Scratch.get(Scratch.ATT_ACC, (Q + 1) * hd);

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
        float[] sums = Scratch.get(Scratch.ATT_SUMS, ng * L);
        for (int g = 0; g < ng; g++) softmaxNumerators(s, g * maxLen * L, maxLen).intoArray(sums, g * L);

        Arrays.fill(acc, 0, (Q + 1) * hd, 0f);
        MemorySegment vt = bf16 ? valueTile(TILE * hd) : null;
        int[] runs = new int[2 * (TILE / Math.min(bs, TILE) + 2)];
        for (int j0 = 0; j0 < maxLen; j0 += TILE) {
            int tileEnd = Math.min(j0 + TILE, maxLen), nRuns = 0;
            if (bf16) { // the tile's values widened to F32 rows of hd: one run, addressed as if they sat at positions j0..
                widenTile(vc, kvOff, rowBytes, table, bs, j0, tileEnd - j0, hd, vt);
                runs[nRuns++] = j0;
                runs[nRuns++] = tileEnd;
            } else { // F32 values are read in place, in runs of positions whose pool rows are consecutive
                for (int j = j0; j < tileEnd; ) {
                    int e = Math.min(tileEnd, (j / bs + 1) * bs);
                    while (e < tileEnd && table[e / bs] == table[e / bs - 1] + 1) e = Math.min(tileEnd, e + bs);
                    runs[nRuns++] = j;
                    runs[nRuns++] = e;
                    j = e;
                }
            }
            for (int i = 0; i < Q; i += 4) { // four queries at a time; missing ones repeat query i into a spare accumulator
                int last = Math.min(i + 3, Q - 1), len = rowPos[t0 + last / gh] + 1; // the four's longest row: the last
                int p0 = sAt(i, maxLen), a0 = i * hd, spare = Q * hd;
                int p1 = i + 1 < Q ? sAt(i + 1, maxLen) : p0, a1 = i + 1 < Q ? a0 + hd : spare;
                int p2 = i + 2 < Q ? sAt(i + 2, maxLen) : p0, a2 = i + 2 < Q ? a0 + 2 * hd : spare;
                int p3 = i + 3 < Q ? sAt(i + 3, maxLen) : p0, a3 = i + 3 < Q ? a0 + 3 * hd : spare;
                for (int r = 0; r < nRuns && runs[r] < len; r += 2) {
                    int a = runs[r];
                    // where position 0's row would sit in the run's addressing: the kernel adds j·stride
                    long base = bf16 ? -j0 * 4L * hd : kvOff + (poolRow(table, bs, a) - a) * rowBytes;
                    weightedSum(s, p0, p1, p2, p3, a, Math.min(runs[r + 1], len), bf16 ? vt : vc, base, bf16 ? 4L * hd : rowBytes,
                            hd, acc, a0, a1, a2, a3);
                }
            }
        }
        for (int i = 0; i < Q; i++) {
            float inv = 1f / sums[i];
            long o = ((long) (t0 + i / gh) * qWidth + (long) (kvh * group + h0 + i % gh) * hd) * 4;
            int at = i * hd, d = 0;
            for (; d <= hd - L; d += L) FloatVector.fromArray(F, acc, at + d).mul(inv).intoMemorySegment(out, o + 4L * d, LE);
            for (; d < hd; d++) out.set(FLOAT, o + 4L * d, acc[at + d] * inv);
        }
    }

    /** Where query i's weight for position j sits in the scores: {@code s[sAt(i, maxLen) + j·L]}. */
    private static int sAt(int i, int maxLen) { return (i / L) * maxLen * L + i % L; }

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
     * Four queries' weighted sums of values over positions [j0, j1): query k's weight for position j is
     * {@code p[pk + j·L]}, position j's values start at byte {@code base + j·stride} of v, and its sums
     * {@code acc[ak + d]} gain weight·value, position after position, one FMA each. The four share each value vector
     * they load. Head dims in lanes, four vectors at a time (16 accumulators in registers), then one vector, then one
     * float at a time.
     */
    private static void weightedSum(float[] p, int p0, int p1, int p2, int p3, int j0, int j1, MemorySegment v, long base, long stride,
                                    int hd, float[] acc, int a0, int a1, int a2, int a3) {
        int d = 0;
        for (; d <= hd - 4 * L; d += 4 * L) {
            FloatVector x0 = FloatVector.fromArray(F, acc, a0 + d), x1 = FloatVector.fromArray(F, acc, a0 + d + L);
            FloatVector x2 = FloatVector.fromArray(F, acc, a0 + d + 2 * L), x3 = FloatVector.fromArray(F, acc, a0 + d + 3 * L);
            FloatVector y0 = FloatVector.fromArray(F, acc, a1 + d), y1 = FloatVector.fromArray(F, acc, a1 + d + L);
            FloatVector y2 = FloatVector.fromArray(F, acc, a1 + d + 2 * L), y3 = FloatVector.fromArray(F, acc, a1 + d + 3 * L);
            FloatVector z0 = FloatVector.fromArray(F, acc, a2 + d), z1 = FloatVector.fromArray(F, acc, a2 + d + L);
            FloatVector z2 = FloatVector.fromArray(F, acc, a2 + d + 2 * L), z3 = FloatVector.fromArray(F, acc, a2 + d + 3 * L);
            FloatVector u0 = FloatVector.fromArray(F, acc, a3 + d), u1 = FloatVector.fromArray(F, acc, a3 + d + L);
            FloatVector u2 = FloatVector.fromArray(F, acc, a3 + d + 2 * L), u3 = FloatVector.fromArray(F, acc, a3 + d + 3 * L);
            long at = base + j0 * stride + 4L * d;
            for (int j = j0; j < j1; j++, at += stride) {
                FloatVector v0 = FloatVector.fromMemorySegment(F, v, at, LE), v1 = FloatVector.fromMemorySegment(F, v, at + 4L * L, LE);
                FloatVector v2 = FloatVector.fromMemorySegment(F, v, at + 8L * L, LE), v3 = FloatVector.fromMemorySegment(F, v, at + 12L * L, LE);
                FloatVector w = FloatVector.broadcast(F, p[p0 + j * L]);
                x0 = v0.fma(w, x0); x1 = v1.fma(w, x1); x2 = v2.fma(w, x2); x3 = v3.fma(w, x3);
                w = FloatVector.broadcast(F, p[p1 + j * L]);
                y0 = v0.fma(w, y0); y1 = v1.fma(w, y1); y2 = v2.fma(w, y2); y3 = v3.fma(w, y3);
                w = FloatVector.broadcast(F, p[p2 + j * L]);
                z0 = v0.fma(w, z0); z1 = v1.fma(w, z1); z2 = v2.fma(w, z2); z3 = v3.fma(w, z3);
                w = FloatVector.broadcast(F, p[p3 + j * L]);
                u0 = v0.fma(w, u0); u1 = v1.fma(w, u1); u2 = v2.fma(w, u2); u3 = v3.fma(w, u3);
            }
            x0.intoArray(acc, a0 + d); x1.intoArray(acc, a0 + d + L); x2.intoArray(acc, a0 + d + 2 * L); x3.intoArray(acc, a0 + d + 3 * L);
            y0.intoArray(acc, a1 + d); y1.intoArray(acc, a1 + d + L); y2.intoArray(acc, a1 + d + 2 * L); y3.intoArray(acc, a1 + d + 3 * L);
            z0.intoArray(acc, a2 + d); z1.intoArray(acc, a2 + d + L); z2.intoArray(acc, a2 + d + 2 * L); z3.intoArray(acc, a2 + d + 3 * L);
            u0.intoArray(acc, a3 + d); u1.intoArray(acc, a3 + d + L); u2.intoArray(acc, a3 + d + 2 * L); u3.intoArray(acc, a3 + d + 3 * L);
        }
        for (; d <= hd - L; d += L) {
            FloatVector x = FloatVector.fromArray(F, acc, a0 + d), y = FloatVector.fromArray(F, acc, a1 + d);
            FloatVector z = FloatVector.fromArray(F, acc, a2 + d), u = FloatVector.fromArray(F, acc, a3 + d);
            long at = base + j0 * stride + 4L * d;
            for (int j = j0; j < j1; j++, at += stride) {
                FloatVector vv = FloatVector.fromMemorySegment(F, v, at, LE);
                x = vv.fma(FloatVector.broadcast(F, p[p0 + j * L]), x);
                y = vv.fma(FloatVector.broadcast(F, p[p1 + j * L]), y);
                z = vv.fma(FloatVector.broadcast(F, p[p2 + j * L]), z);
                u = vv.fma(FloatVector.broadcast(F, p[p3 + j * L]), u);
            }
            x.intoArray(acc, a0 + d); y.intoArray(acc, a1 + d); z.intoArray(acc, a2 + d); u.intoArray(acc, a3 + d);
        }
        for (; d < hd; d++) {
            float x = acc[a0 + d], y = acc[a1 + d], z = acc[a2 + d], u = acc[a3 + d];
            long at = base + j0 * stride + 4L * d;
            for (int j = j0; j < j1; j++, at += stride) {
                float vv = v.get(FLOAT, at);
                x = Math.fma(vv, p[p0 + j * L], x);
                y = Math.fma(vv, p[p1 + j * L], y);
                z = Math.fma(vv, p[p2 + j * L], z);
                u = Math.fma(vv, p[p3 + j * L], u);
            }
            acc[a0 + d] = x; acc[a1 + d] = y; acc[a2 + d] = z; acc[a3 + d] = u;
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
