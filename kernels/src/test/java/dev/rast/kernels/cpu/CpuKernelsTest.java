package dev.rast.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every CPU kernel against a plain scalar reference computed in double, on random data, with sizes that are not
 * multiples of the vector length (16 floats here) so that every tail path runs.
 *
 * <p>Tolerance: the kernels sum in F32 in a different order than the reference; reassociation error is bounded by
 * about n·ε·Σ|terms| (ε = 6e-8). We allow 1e-6·Σ|terms| + 1e-6, which is far above that for n ≤ 300 and far below
 * any real bug (a dropped tail element or a wrong pairing moves results by a whole term).
 */
class CpuKernelsTest {
    static CpuBackend cpu;
    final SplittableRandom rnd = new SplittableRandom(7);

    /** Free memory taken as unlimited, whatever the environment says (RAST_CPU_PACK, MemAvailable): the tests decide what is packed. */
    @BeforeAll static void open() { cpu = new CpuBackend(2, () -> Long.MAX_VALUE); }

    @AfterAll static void close() { cpu.close(); }

    float[] random(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rnd.nextDouble() * 2 - 1);
        return v;
    }

    /** Stores values in the given dtype (rounding them) and returns the tensor plus the rounded values. */
    Tensor tensor(DType dt, float[] values, int... shape) {
        Tensor t = cpu.allocate(dt, shape);
        for (int i = 0; i < values.length; i++) {
            switch (dt) {
                case F32 -> t.data().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, values[i]);
                case BF16 -> {
                    short b = DType.floatToBf16(values[i]);
                    t.data().setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, b);
                    values[i] = DType.bf16ToFloat(b);
                }
                case F16 -> {
                    short h = Float.floatToFloat16(values[i]);
                    t.data().setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, h);
                    values[i] = Float.float16ToFloat(h);
                }
            }
        }
        return t;
    }

    static float[] read(Tensor t) {
        float[] out = new float[(int) t.numel()];
        cpu.download(t, MemorySegment.ofArray(out));
        return out;
    }

    static void close(double want, double got, double scale, String what) {
        assertTrue(Math.abs(want - got) <= 1e-6 * scale + 1e-6, what + ": want " + want + ", got " + got);
    }

    /** Both layouts: the checkpoint's rows in place ({@link MatMul}) and rows repacked by {@code weight()} ({@link PackedMatMul}). */
    static Stream<Arguments> dtypesAndLayouts() {
        return Stream.of(DType.values()).flatMap(dt -> Stream.of(Arguments.of(dt, false), Arguments.of(dt, true)));
    }

    @ParameterizedTest(name = "{0} packed={1}")
    @MethodSource("dtypesAndLayouts")
    void matmulMatchesScalarReference(DType dt, boolean packed) {
        // In place, T < 18 takes the matrix-vector path, T >= 18 the blocked GEMM (with token and row tails, one and
        // two K chunks, several row groups). Packed, T = 1 is the matrix-vector path and more tokens go in groups of
        // 12 (partial groups, partial row blocks, an odd number of blocks). K odd and even.
        for (int T : new int[] {1, 2, 5, 8, 19, 33, 40, 300}) // 300: two slices of MatMul.GEMM_SLICE tokens
            for (int N : new int[] {1, 7, 9, 70, 150, 1001})
                for (int K : new int[] {1, 2, 15, 33, 64, 97, 300, 515}) {
                    if (T == 300 && (N > 70 || K > 97)) continue; // the slicing needs no more; keeps the test quick
                    checkMatmul(dt, packed, T, N, K);
                }
        // Packed: K = 5000 makes a slice of x 4 groups (48 tokens), so 300 tokens take 7 slices; and 600 tokens are
        // three calls of PackedMatMul.SLICE_TOKENS (252).
        checkMatmul(dt, packed, 300, 70, 5000);
        checkMatmul(dt, packed, 600, 40, 33);
        // One token over 313 blocks: each work piece (1/16 of them) holds ~20 blocks, read as four streams of 5.
        checkMatmul(dt, packed, 1, 5003, 64);
    }

    void checkMatmul(DType dt, boolean packed, int T, int N, int K) {
        float[] xv = random(T * K), wv = random(N * K);
        Tensor x = tensor(DType.F32, xv, T, K), stored = tensor(dt, wv, N, K), out = cpu.allocate(DType.F32, T, N);
        Tensor w = packed ? cpu.weight(stored) : stored;
        assertEquals(packed && dt != DType.F16, w.prepared() != null, "packed layout used");
        cpu.matmul(x, w, out);
        assertMatmul(xv, wv, read(out), T, N, K, dt + (packed ? " packed" : ""));
        cpu.free(x);
        cpu.free(stored);
        cpu.free(out);
    }

    /** {@code got} against a double-precision scalar matmul, to 1e-6 of the sum of |products|. */
    static void assertMatmul(float[] xv, float[] wv, float[] got, int T, int N, int K, String what) {
        for (int t = 0; t < T; t++)
            for (int n = 0; n < N; n++) {
                double s = 0, a = 0;
                for (int k = 0; k < K; k++) {
                    s += (double) xv[t * K + k] * wv[n * K + k];
                    a += Math.abs((double) xv[t * K + k] * wv[n * K + k]);
                }
                close(s, got[t * N + n], a, what + " T=" + T + " N=" + N + " K=" + K + " [" + t + "," + n + "]");
            }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void matmulOfSharedInputEqualsOneMatmulPerWeight(DType dt) {
        // q, k, v (or gate, up) of the same x as one op: row counts that are whole blocks, partial blocks, an odd
        // number of blocks and one row. Same kernels, same order of sums:
        // the outputs must be the same bits as one matmul per weight (checked against the scalar reference above).
        int[] rows = {900, 16, 33, 1}; // 62 blocks (33 pairs) in 16 pieces: pieces straddle the parts
        for (int T : new int[] {1, 2, 7, 40, 300})
            for (int K : new int[] {33, 96}) {
                float[] xv = random(T * K);
                Tensor x = tensor(DType.F32, xv, T, K);
                List<float[]> wvs = new ArrayList<>();
                List<Tensor> stored = new ArrayList<>(), ws = new ArrayList<>(), one = new ArrayList<>(), together = new ArrayList<>();
                for (int N : rows) {
                    wvs.add(random(N * K));
                    stored.add(tensor(dt, wvs.getLast(), N, K));
                    ws.add(cpu.weight(stored.getLast()));
                    one.add(cpu.allocate(DType.F32, T, N));
                    together.add(cpu.allocate(DType.F32, T, N));
                }
                for (int i = 0; i < rows.length; i++) cpu.matmul(x, ws.get(i), one.get(i));
                cpu.matmul(x, ws, together);
                for (int i = 0; i < rows.length; i++) {
                    assertMatmul(xv, wvs.get(i), read(together.get(i)), T, rows[i], K, dt + " part " + i);
                    assertArrayEquals(read(one.get(i)), read(together.get(i)), dt + " T=" + T + " K=" + K + " part " + i);
                }
                // One weight left in place (as when memory is short): each goes its own path, as it would alone.
                List<Tensor> mixed = new ArrayList<>(ws);
                mixed.set(1, stored.get(1));
                cpu.matmul(x, stored.get(1), one.get(1));
                cpu.matmul(x, mixed, together);
                for (int i = 0; i < rows.length; i++)
                    assertArrayEquals(read(one.get(i)), read(together.get(i)), dt + " mixed T=" + T + " K=" + K + " part " + i);
                for (List<Tensor> l : List.of(stored, one, together)) l.forEach(cpu::free);
                cpu.free(x);
            }
        Tensor x = cpu.allocate(DType.F32, 2, 8), w = cpu.allocate(DType.F32, 4, 8), out = cpu.allocate(DType.F32, 2, 4);
        assertThrows(IllegalArgumentException.class, () -> cpu.matmul(x, List.of(w, w), List.of(out)));
        Tensor wrongK = cpu.weight(cpu.allocate(DType.F32, 4, 9));
        assertThrows(IllegalArgumentException.class, () -> cpu.matmul(x, List.of(cpu.weight(w), wrongK), List.of(out, out)));
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void rmsNormMatchesScalarReference(DType dt) {
        for (int D : new int[] {1, 15, 17, 100, 896}) {
            int T = 3;
            float[] xv = random(T * D), wv = random(D);
            Tensor x = tensor(DType.F32, xv, T, D), w = tensor(dt, wv, D), out = cpu.allocate(DType.F32, T, D);
            cpu.rmsNorm(x, w, 1e-6f, out);
            float[] got = read(out);
            for (int t = 0; t < T; t++) {
                double ss = 0;
                for (int i = 0; i < D; i++) ss += (double) xv[t * D + i] * xv[t * D + i];
                double inv = 1 / Math.sqrt(ss / D + 1e-6);
                for (int i = 0; i < D; i++) close(xv[t * D + i] * inv * wv[i], got[t * D + i], Math.abs(xv[t * D + i] * inv * wv[i]) * 10, "D=" + D);
            }
        }
    }

    @Test
    void ropeRotatesHalfSplitPairs() {
        int T = 5, heads = 3, hd = 22, half = hd / 2, maxPos = 40, start = 7;
        float[] xv = random(T * heads * hd), cv = random(maxPos * half), sv = random(maxPos * half);
        Tensor x = tensor(DType.F32, xv.clone(), T, heads * hd), cos = tensor(DType.F32, cv, maxPos, half), sin = tensor(DType.F32, sv, maxPos, half);
        cpu.rope(x, hd, cos, sin, start);
        float[] got = read(x);
        for (int t = 0; t < T; t++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < half; i++) {
                    int a = t * heads * hd + h * hd + i, b = a + half, p = (start + t) * half + i;
                    close(xv[a] * cv[p] - xv[b] * sv[p], got[a], 2, "rope a");
                    close(xv[b] * cv[p] + xv[a] * sv[p], got[b], 2, "rope b");
                }
    }

    /**
     * Row t of an attention output ({@code got}, [rows, heads·hd]) against the formula in double precision: query row t
     * of {@code qv} over positions 0..len-1 of the caches {@code kv}, {@code vv} ([positions, kvHeads·hd]).
     */
    static void assertAttentionRow(float[] qv, float[] kv, float[] vv, float[] got, int t, int len, int heads, int kvHeads,
                                   int hd, String what) {
        int W = heads * hd, KW = kvHeads * hd;
        for (int h = 0; h < heads; h++) {
            int g = h / (heads / kvHeads);
            double[] p = new double[len];
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < len; j++) {
                double s = 0;
                for (int i = 0; i < hd; i++) s += (double) qv[t * W + h * hd + i] * kv[j * KW + g * hd + i];
                p[j] = s / Math.sqrt(hd);
                max = Math.max(max, p[j]);
            }
            for (int j = 0; j < len; j++) sum += p[j] = Math.exp(p[j] - max);
            for (int i = 0; i < hd; i++) {
                double o = 0;
                for (int j = 0; j < len; j++) o += p[j] / sum * vv[j * KW + g * hd + i];
                close(o, got[t * W + h * hd + i], 10, what + " t=" + t + " h=" + h);
            }
        }
    }

    /**
     * Head sizes 64 and 128 fill the weighted sum's four-vector chunks, 32 and 20 leave one-vector and one-float
     * leftovers; 9 + 4 positions leave a tail after the scores' blocks of eight.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {20, 32, 64, 128})
    void attentionIsCausalGroupedQuerySoftmax(int hd) {
        int heads = 6, kvHeads = 2, start = 9, T = 4, maxSeq = 16;
        float[] qv = random(T * heads * hd), kv = random(maxSeq * kvHeads * hd), vv = random(maxSeq * kvHeads * hd);
        // Poison the cache rows past the last valid position: a causal kernel must never read them.
        for (int i = (start + T) * kvHeads * hd; i < kv.length; i++) kv[i] = vv[i] = Float.NaN;
        Tensor q = tensor(DType.F32, qv, T, heads * hd), k = tensor(DType.F32, kv, maxSeq, kvHeads * hd);
        Tensor v = tensor(DType.F32, vv, maxSeq, kvHeads * hd), out = cpu.allocate(DType.F32, T, heads * hd);
        cpu.attention(q, k, v, heads, kvHeads, hd, start, out);
        float[] got = read(out);
        for (int t = 0; t < T; t++) assertAttentionRow(qv, kv, vv, got, t, start + t + 1, heads, kvHeads, hd, "attention");
    }

    /**
     * A prompt's rows go through attention in blocks that pass over tiles of the cache together; one row of a decode
     * step goes alone. Both must give the same bits: prompts of 5, 67 and 200 rows (several blocks, a last partial
     * one, tiles of 64 positions crossed, odd lengths) against the same rows sent as one-row sequences over the same
     * cache, and the longest row against the double-precision formula.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"64, 8, 2", "128, 8, 2", "20, 14, 2", "80, 7, 1"})
    void promptAttentionInBlocksEqualsRowByRow(int hd, int heads, int kvHeads) {
        // Head dims with leftovers (20, 80), a group of 7 (two rows' queries straddle lane groups), one KV head.
        for (int[] c : new int[][] {{5, 0}, {67, 3}, {200, 61}}) {
            int T = c[0], start = c[1], maxSeq = start + T + 3;
            float[] qv = random(T * heads * hd), kv = random(maxSeq * kvHeads * hd), vv = random(maxSeq * kvHeads * hd);
            for (int i = (start + T) * kvHeads * hd; i < kv.length; i++) kv[i] = vv[i] = Float.NaN;
            Tensor q = tensor(DType.F32, qv, T, heads * hd), k = tensor(DType.F32, kv, maxSeq, kvHeads * hd);
            Tensor v = tensor(DType.F32, vv, maxSeq, kvHeads * hd);
            Tensor blocked = cpu.allocate(DType.F32, T, heads * hd), alone = cpu.allocate(DType.F32, T, heads * hd);
            cpu.attention(q, k, v, heads, kvHeads, hd, start, blocked);
            Tensor[] ks = new Tensor[T], vs = new Tensor[T];
            int[] rows = new int[T], starts = new int[T];
            for (int t = 0; t < T; t++) { ks[t] = k; vs[t] = v; rows[t] = 1; starts[t] = start + t; }
            cpu.attention(q, ks, vs, rows, starts, heads, kvHeads, hd, alone);
            float[] got = read(blocked);
            assertArrayEquals(read(alone), got, "hd=" + hd + " T=" + T + " start=" + start);
            // The last row as the only row of the op: with one KV head, fewer items than threads, so its query heads
            // are split among the threads. Same bits again.
            Tensor lastQ = tensor(DType.F32, Arrays.copyOfRange(qv, (T - 1) * heads * hd, T * heads * hd), 1, heads * hd);
            Tensor lastOut = cpu.allocate(DType.F32, 1, heads * hd);
            cpu.attention(lastQ, k, v, heads, kvHeads, hd, start + T - 1, lastOut);
            assertArrayEquals(Arrays.copyOfRange(got, (T - 1) * heads * hd, T * heads * hd), read(lastOut), "hd=" + hd + " last row alone");
            cpu.free(lastQ);
            cpu.free(lastOut);
            assertAttentionRow(qv, kv, vv, got, T - 1, start + T, heads, kvHeads, hd, "attention hd=" + hd + " T=" + T);
            for (Tensor x : new Tensor[] {q, k, v, blocked, alone}) cpu.free(x);
        }
    }

    /**
     * A BF16 KV cache (a BF16 model's): keys and values are widened exactly as attention reads them, so the output
     * must be the F32 path's on the same rounded values, bit for bit, for prompt blocks and decode rows alike; head
     * sizes with leftovers (20, 80) take the widening's scalar tails.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {20, 64, 80, 128})
    void bf16CachesGiveTheF32PathsBitsOnTheRoundedValues(int hd) {
        int heads = 8, kvHeads = 2;
        for (int[] c : new int[][] {{1, 130}, {67, 3}}) {
            int T = c[0], start = c[1], maxSeq = start + T + 3;
            float[] qv = random(T * heads * hd), kv = random(maxSeq * kvHeads * hd), vv = random(maxSeq * kvHeads * hd);
            for (int i = (start + T) * kvHeads * hd; i < kv.length; i++) kv[i] = vv[i] = Float.NaN;
            Tensor q = tensor(DType.F32, qv, T, heads * hd);
            Tensor kb = tensor(DType.BF16, kv, maxSeq, kvHeads * hd), vb = tensor(DType.BF16, vv, maxSeq, kvHeads * hd);
            // tensor() rounded kv and vv in place to what BF16 holds: the F32 caches get exactly those values.
            Tensor kf = tensor(DType.F32, kv, maxSeq, kvHeads * hd), vf = tensor(DType.F32, vv, maxSeq, kvHeads * hd);
            Tensor fromBf16 = cpu.allocate(DType.F32, T, heads * hd), fromF32 = cpu.allocate(DType.F32, T, heads * hd);
            cpu.attention(q, kb, vb, heads, kvHeads, hd, start, fromBf16);
            cpu.attention(q, kf, vf, heads, kvHeads, hd, start, fromF32);
            assertArrayEquals(read(fromF32), read(fromBf16), "hd=" + hd + " T=" + T);
            for (Tensor x : new Tensor[] {q, kb, vb, kf, vf, fromBf16, fromF32}) cpu.free(x);
        }
        Tensor q = cpu.allocate(DType.F32, 1, heads * hd), k = cpu.allocate(DType.BF16, 4, kvHeads * hd);
        Tensor mixed = cpu.allocate(DType.F32, 4, kvHeads * hd), out = cpu.allocate(DType.F32, 1, heads * hd);
        assertThrows(IllegalArgumentException.class, () -> cpu.attention(q, k, mixed, heads, kvHeads, hd, 0, out));
    }

    /** F32 rows stored into a BF16 cache round to nearest even (ties included), NaN stays NaN, as DType.floatToBf16. */
    @Test
    void copyRowsIntoBf16RoundsToNearestEven() {
        int W = 37; // not a multiple of any vector length: the scalar tail runs too
        float[] special = {0f, -0f, 1f, Float.intBitsToFloat(0x3F808000), Float.intBitsToFloat(0x3F818000),
                Float.intBitsToFloat(0x3F80FFFF), Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.intBitsToFloat(0x7F800001), -3.14159f};
        // Hand-derived: 0x3F808000 is a tie between 0x3F80 and 0x3F81 → even 0x3F80; 0x3F818000 → even 0x3F82;
        // 0x3F80FFFF rounds up to 0x3F81; MAX_VALUE (0x7F7FFFFF) rounds up to infinity; a signalling NaN goes quiet.
        short[] want = {0, (short) 0x8000, 0x3F80, 0x3F80, 0x3F82, 0x3F81, 0x7F80, (short) 0xFF80, 0, 0x7F80,
                (short) 0xFF80, 0x7FC0, 0x7FC0, (short) 0xC049};
        float[] v = random(3 * W);
        System.arraycopy(special, 0, v, W, special.length);
        Tensor src = tensor(DType.F32, v, 3, W), dst = cpu.allocate(DType.BF16, 5, W);
        cpu.copyRows(src, dst, 1);
        short[] got = new short[5 * W];
        MemorySegment.copy(dst.data(), ValueLayout.JAVA_SHORT_UNALIGNED, 0, got, 0, got.length);
        for (int i = 0; i < special.length; i++) assertEquals(want[i], got[2 * W + i], "special value " + special[i]);
        for (int i = 0; i < got.length; i++) {
            int r = i - W;
            assertEquals(r >= 0 && r < v.length ? DType.floatToBf16(v[r]) : 0, got[i], "element " + i);
        }
        assertThrows(IllegalArgumentException.class, () -> cpu.copyRows(dst.rows(0, 1), src, 0)); // BF16 into F32
        cpu.free(src);
        cpu.free(dst);
    }

    /**
     * Batched rope and attention: three sequences of 2, 1 and 4 rows at their own start positions, each over its own
     * cache, in one call; the reference computes every row alone with the formulas above.
     */
    @Test
    void batchedRopeAndAttentionTreatEachChunkAsItsOwnSequence() {
        int heads = 6, kvHeads = 2, hd = 20, half = hd / 2, maxSeq = 16, maxPos = 40;
        int[] chunkRows = {2, 1, 4}, startPos = {9, 0, 5};
        int T = 7, W = heads * hd, KW = kvHeads * hd;
        // rope: row t of chunk i is at position startPos[i] + (t - first row of i)
        float[] xv = random(T * W), cv = random(maxPos * half), sv = random(maxPos * half);
        Tensor x = tensor(DType.F32, xv.clone(), T, W), cos = tensor(DType.F32, cv, maxPos, half), sin = tensor(DType.F32, sv, maxPos, half);
        cpu.rope(x, hd, cos, sin, chunkRows, startPos);
        float[] got = read(x);
        int[] rowPos = {9, 10, 0, 5, 6, 7, 8}, rowChunk = {0, 0, 1, 2, 2, 2, 2};
        for (int t = 0; t < T; t++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < half; i++) {
                    int a = t * W + h * hd + i, b = a + half, p = rowPos[t] * half + i;
                    close(xv[a] * cv[p] - xv[b] * sv[p], got[a], 2, "rope a t=" + t);
                    close(xv[b] * cv[p] + xv[a] * sv[p], got[b], 2, "rope b t=" + t);
                }
        // attention: each chunk's cache has rows 0..startPos+rows-1 valid and NaN after
        float[] qv = random(T * W);
        float[][] kvs = new float[3][], vvs = new float[3][];
        Tensor[] kc = new Tensor[3], vc = new Tensor[3];
        for (int i = 0; i < 3; i++) {
            kvs[i] = random(maxSeq * KW);
            vvs[i] = random(maxSeq * KW);
            for (int j = (startPos[i] + chunkRows[i]) * KW; j < maxSeq * KW; j++) kvs[i][j] = vvs[i][j] = Float.NaN;
            kc[i] = tensor(DType.F32, kvs[i], maxSeq, KW);
            vc[i] = tensor(DType.F32, vvs[i], maxSeq, KW);
        }
        Tensor q = tensor(DType.F32, qv, T, W), out = cpu.allocate(DType.F32, T, W);
        cpu.attention(q, kc, vc, chunkRows, startPos, heads, kvHeads, hd, out);
        got = read(out);
        for (int t = 0; t < T; t++)
            assertAttentionRow(qv, kvs[rowChunk[t]], vvs[rowChunk[t]], got, t, rowPos[t] + 1, heads, kvHeads, hd, "batched attention");
    }

    @Test
    void elementwiseOpsMatchScalarReference() {
        for (int n : new int[] {1, 17, 4099, 40_000}) { // 40k crosses the threshold where work is split over threads
            float[] g = random(n), u = random(n), y = random(n);
            Tensor gt = tensor(DType.F32, g.clone(), 1, n), ut = tensor(DType.F32, u, 1, n), yt = tensor(DType.F32, y, 1, n);
            Tensor out = cpu.allocate(DType.F32, 1, n);
            cpu.siluMul(gt, ut, out);
            float[] got = read(out);
            for (int i = 0; i < n; i++) close(g[i] / (1 + Math.exp(-g[i])) * u[i], got[i], 2, "silu*mul " + i);
            cpu.add(gt, yt);
            got = read(gt);
            for (int i = 0; i < n; i++) assertEquals(g[i] + y[i], got[i], 0f, "add " + i);
        }
        int T = 3, N = 37;
        float[] x = random(T * N), b = random(N);
        Tensor xt = tensor(DType.F32, x, T, N);
        cpu.addBias(xt, tensor(DType.BF16, b, N));
        float[] got = read(xt);
        for (int t = 0; t < T; t++) for (int i = 0; i < N; i++) assertEquals(x[t * N + i] + b[i], got[t * N + i], 0f, "bias");
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void embedWidensTheRequestedRows(DType dt) {
        int V = 11, D = 19;
        float[] table = random(V * D);
        Tensor tt = tensor(dt, table, V, D), out = cpu.allocate(DType.F32, 3, D);
        int[] ids = {10, 0, 4};
        cpu.embed(tt, ids, out);
        float[] got = read(out);
        for (int t = 0; t < 3; t++) for (int i = 0; i < D; i++) assertEquals(table[ids[t] * D + i], got[t * D + i], 0f);
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void embedReadsRowsOfAPackedTable(DType dt) { // a tied embedding is also the LM head, so it gets packed
        int V = 37, D = 19;
        float[] table = random(V * D);
        Tensor tt = cpu.weight(tensor(dt, table, V, D)), out = cpu.allocate(DType.F32, 2, D);
        cpu.embed(tt, new int[] {36, 17}, out);
        float[] got = read(out);
        for (int i = 0; i < D; i++) {
            assertEquals(table[36 * D + i], got[i], 0f);
            assertEquals(table[17 * D + i], got[D + i], 0f);
        }
    }

    @Test
    void weightsStayInPlaceWhenMemoryIsShortOrTheyAreOnlyLookedUp() {
        Tensor w = tensor(DType.BF16, random(64 * 8), 64, 8);
        assertTrue(cpu.weight(w).prepared() != null, "packed when memory is free");
        assertTrue(cpu.lookupTable(w).prepared() == null, "a lookup-only table is not packed");
        try (CpuBackend tight = new CpuBackend(1, () -> MemoryInfo.RESERVE_BYTES + 1000);
             CpuBackend off = new CpuBackend(1, null); CpuBackend unknown = new CpuBackend(1, () -> -1L)) {
            // 64 rows × 4 pairs × 4 bytes = 1024 bytes of packed weights: 24 more than is free past the reserve
            assertTrue(tight.weight(w).prepared() == null, "too little free memory: in place");
            assertTrue(off.weight(w).prepared() == null, "packing off: in place");
            assertTrue(unknown.weight(w).prepared() == null, "free memory unknown: in place");
            float[] x = random(8);
            Tensor xt = tensor(DType.F32, x, 1, 8), a = cpu.allocate(DType.F32, 1, 64), b = cpu.allocate(DType.F32, 1, 64);
            cpu.matmul(xt, cpu.weight(w), a);
            tight.matmul(xt, tight.weight(w), b);
            float[] ra = read(a), rb = read(b);
            for (int n = 0; n < 64; n++) close(ra[n], rb[n], 1, "row " + n);
        }
    }

    @Test
    void packingSwitchFromTheEnvironment() {
        assertTrue(CpuBackend.packingFromEnvironment(null));
        assertTrue(CpuBackend.packingFromEnvironment(""));
        assertTrue(CpuBackend.packingFromEnvironment("ON"));
        assertTrue(!CpuBackend.packingFromEnvironment("off"));
        var e = org.junit.jupiter.api.Assertions.assertThrows(dev.rast.engine.BadInputException.class,
                () -> CpuBackend.packingFromEnvironment("bogus"));
        assertEquals("RAST_CPU_PACK=bogus: expected off or on (default: on)", e.getMessage());
    }

    @Test
    void cgroupMemoryStatFields(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws java.io.IOException {
        java.nio.file.Path stat = java.nio.file.Files.writeString(dir.resolve("memory.stat"),
                "anon 1000\nfile 5000\nactive_file 3000\ninactive_file 2000\ninactive_anon 7\n");
        assertEquals(2000, MemoryInfo.statField(stat, "inactive_file"));
        assertEquals(1000, MemoryInfo.statField(stat, "anon"));
        assertEquals(-1, MemoryInfo.statField(stat, "inactive"));  // a prefix of a field is not the field
        assertEquals(-1, MemoryInfo.statField(dir.resolve("missing"), "anon"));
    }

    /** A tensor the machine has not the memory for is refused with one line, before anything is allocated. */
    @Test
    void allocateRefusesWhatDoesNotFitInFreeMemory() {
        long mb = 1L << 20, free = CpuBackend.ALLOCATE_RESERVE_BYTES + 10 * mb; // 10 MiB past the reserve
        // One reading of the free memory serves the whole test (no re-reading after 100 ms on a slow machine).
        try (CpuBackend small = new CpuBackend(1, () -> free, Long.MAX_VALUE); CpuBackend unknown = new CpuBackend(1, () -> -1L)) {
            // 4 MiB twice fit (8 of the 10), counted against that reading; a third does not
            Tensor a = small.allocate(DType.F32, 1024, 1024), b = small.allocate(DType.F32, 1024, 1024);
            var e = org.junit.jupiter.api.Assertions.assertThrows(dev.rast.engine.BadInputException.class,
                    () -> small.allocate(DType.F32, 1024, 1024));
            assertTrue(e.getMessage().startsWith("out of memory: a F32[1024, 1024] tensor (KV cache, activations or tables)"), e.getMessage());
            // 4 MiB = 4,194,304 bytes; free: the reading (266 MiB) less 8 MiB allocated = 270,532,608; reserve 268,435,456
            assertTrue(e.getMessage().contains("needs 4 MB, 271 MB free with 268 MB kept in reserve"), e.getMessage());
            small.free(a); // what is freed counts as free again: 4 MiB fit after it
            small.free(small.allocate(DType.F32, 1024, 1024));
            small.free(b);
            // free memory unknown: nothing is checked
            unknown.free(unknown.allocate(DType.F32, 1024, 1024));
        }
    }

    @Test
    void workerPoolCoversEveryItemOnceAndPropagatesFailures() {
        try (WorkerPool pool = new WorkerPool(2)) {
            for (int n : new int[] {1, 2, 3, 1000}) {
                int[] hits = new int[n];
                pool.run(n, (w, a, b) -> { for (int i = a; i < b; i++) hits[i]++; });
                for (int h : hits) assertEquals(1, h);
            }
            var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> pool.run(10, (w, a, b) -> { if (b == 10) throw new IllegalStateException("boom"); }));
            assertEquals("boom", e.getMessage());
        }
    }
}
