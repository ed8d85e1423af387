package dev.rast.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.backend.PagedKv;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import dev.rast.kernels.ReferenceCheck;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What is particular to the CPU backend: paths that must give the same bits as each other (matrices sharing their
 * input in one op or one each, a prompt's attention blocks or its rows one at a time, BF16 caches or F32 caches of
 * the same values), BF16 rounding on hand-derived bit patterns, when weights are packed, the memory checks and the
 * worker pool. The values of every op against the reference backend are BackendOpsTest's.
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

    /** Stores values in the given dtype, rounding them in place to what it holds. */
    Tensor tensor(DType dt, float[] values, int... shape) {
        return ReferenceCheck.tensor(cpu, dt, ReferenceCheck.bytes(dt, values, shape), shape);
    }

    static float[] read(Tensor t) {
        float[] out = new float[(int) t.numel()];
        cpu.download(t, MemorySegment.ofArray(out));
        return out;
    }

    static void close(double want, double got, double scale, String what) {
        assertTrue(Math.abs(want - got) <= 1e-6 * scale + 1e-6, what + ": want " + want + ", got " + got);
    }

    /**
     * The fused ops are the plain ops row by row: the same bits as add then rmsNorm (out = y too, as the forward
     * calls it), and as addBias ×3 then rope of q and k over chunks at scattered positions, with biases and without;
     * 5 rows on one thread and 40 shared out among the threads.
     */
    @Test
    void fusedOpsGiveThePlainOpsBits() {
        int headDim = 64, qW = 14 * headDim, kvW = 2 * headDim, maxPos = 200;
        float[] cos = new float[maxPos * headDim / 2], sin = new float[cos.length];
        for (int i = 0; i < cos.length; i++) {
            double a = (i / (headDim / 2)) * Math.pow(10000, -2.0 * (i % (headDim / 2)) / headDim);
            cos[i] = (float) Math.cos(a);
            sin[i] = (float) Math.sin(a);
        }
        Tensor tc = tensor(DType.F32, cos, maxPos, headDim / 2), ts = tensor(DType.F32, sin, maxPos, headDim / 2);
        for (int T : new int[] {5, 40}) {
            for (boolean outIsY : new boolean[] {false, true}) {
                float[] x = random(T * qW), y = random(T * qW);
                Tensor w = tensor(DType.BF16, random(qW), qW);
                Tensor fx = tensor(DType.F32, x, T, qW), fy = tensor(DType.F32, y, T, qW), px = tensor(DType.F32, x, T, qW), py = tensor(DType.F32, y, T, qW);
                Tensor fout = outIsY ? fy : cpu.allocate(DType.F32, T, qW), pout = outIsY ? py : cpu.allocate(DType.F32, T, qW);
                cpu.addRmsNorm(fx, fy, w, 1e-6f, fout);
                cpu.add(px, py);
                cpu.rmsNorm(px, w, 1e-6f, pout);
                assertArrayEquals(read(px), read(fx), "addRmsNorm x, T=" + T);
                assertArrayEquals(read(pout), read(fout), "addRmsNorm out, T=" + T + (outIsY ? " out=y" : ""));
            }
            int[] chunkRows = {T - 3, 1, 2}, startPos = {0, 150, 37};
            for (boolean biases : new boolean[] {true, false}) {
                float[] q = random(T * qW), k = random(T * kvW), v = random(T * kvW);
                Tensor[] f = {tensor(DType.F32, q, T, qW), tensor(DType.F32, k, T, kvW), tensor(DType.F32, v, T, kvW)};
                Tensor[] p = {tensor(DType.F32, q, T, qW), tensor(DType.F32, k, T, kvW), tensor(DType.F32, v, T, kvW)};
                Tensor bq = biases ? tensor(DType.BF16, random(qW), qW) : null, bk = biases ? tensor(DType.BF16, random(kvW), kvW) : null;
                Tensor bv = biases ? tensor(DType.BF16, random(kvW), kvW) : null;
                cpu.biasRope(f[0], f[1], f[2], bq, bk, bv, headDim, tc, ts, chunkRows, startPos);
                if (biases) {
                    cpu.addBias(p[0], bq);
                    cpu.addBias(p[1], bk);
                    cpu.addBias(p[2], bv);
                }
                cpu.rope(p[0], headDim, tc, ts, chunkRows, startPos);
                cpu.rope(p[1], headDim, tc, ts, chunkRows, startPos);
                for (int i = 0; i < 3; i++) assertArrayEquals(read(p[i]), read(f[i]), "biasRope " + "qkv".charAt(i) + ", T=" + T + (biases ? "" : ", no biases"));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16"})
    void aPackedTokenGetsTheSameBitsAloneInABatchAndInAPrefill(DType dt) {
        // One token (matvec), two (the two-token matvec) and prompts of full and partial 12-token groups, over odd
        // and even K and a last partial row block: every row of out must be the bits of that row alone.
        int N = 70;
        for (int K : new int[] {33, 96})
            for (int T : new int[] {2, 3, 8, 13, 40}) {
                float[] xv = random(T * K);
                Tensor w = cpu.weight(tensor(dt, random(N * K), N, K));
                Tensor x = tensor(DType.F32, xv, T, K), all = cpu.allocate(DType.F32, T, N);
                cpu.matmul(x, w, all);
                float[] got = read(all);
                for (int t = 0; t < T; t++) {
                    Tensor xt = tensor(DType.F32, Arrays.copyOfRange(xv, t * K, (t + 1) * K), 1, K), one = cpu.allocate(DType.F32, 1, N);
                    cpu.matmul(xt, w, one);
                    assertArrayEquals(read(one), Arrays.copyOfRange(got, t * N, (t + 1) * N), dt + " K=" + K + " T=" + T + " token " + t);
                    cpu.free(xt);
                    cpu.free(one);
                }
                cpu.free(x);
                cpu.free(all);
            }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void matmulOfSharedInputEqualsOneMatmulPerWeight(DType dt) {
        // q, k, v (or gate, up) of the same x as one op: row counts that are whole blocks, partial blocks, an odd
        // number of blocks and one row. Same kernels, same order of sums: the outputs must be the same bits as one
        // matmul per weight.
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
                for (int i = 0; i < rows.length; i++)
                    assertArrayEquals(read(one.get(i)), read(together.get(i)), dt + " T=" + T + " K=" + K + " part " + i);
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

    /**
     * A prompt's rows go through attention in blocks that pass over tiles of the cache together; one row of a decode
     * step goes alone. Both must give the same bits: prompts of 5, 67 and 200 rows (several blocks, a last partial
     * one, tiles of 64 positions crossed, odd lengths) against the same rows sent as one-row sequences over the same
     * cache.
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
            int[][] tables = new int[T][];
            int[] rows = new int[T], starts = new int[T];
            for (int t = 0; t < T; t++) { tables[t] = new int[] {0}; rows[t] = 1; starts[t] = start + t; }
            cpu.attention(q, new PagedKv(k, v, maxSeq, tables), rows, starts, heads, kvHeads, hd, alone);
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
            for (Tensor x : new Tensor[] {q, k, v, blocked, alone}) cpu.free(x);
        }
    }

    /**
     * Paged attention reads the same values in the same order wherever the blocks sit: sequences whose positions
     * are spread over a pool through shuffled block tables (blocks of 2, 3 and 16 positions; a prompt of 67 rows from
     * position 61, crossing the 64-position tiles, and single decode rows) give the bits of the same rows attended
     * over contiguous caches one sequence at a time, F32 and BF16 alike. The contiguous path is the one
     * promptAttentionInBlocksEqualsRowByRow and BackendOpsTest check.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"F32, 2", "F32, 3", "F32, 16", "BF16, 2", "BF16, 3", "BF16, 16"})
    void pagedAttentionEqualsContiguousBitForBit(DType cache, int bs) {
        int heads = 8, kvHeads = 2, hd = 64, kvWidth = kvHeads * hd, width = heads * hd;
        int[] chunkRows = {67, 1, 1, 1}, startPos = {61, 0, 200, 33};
        int n = chunkRows.length, blocks = 0, T = 0;
        for (int i = 0; i < n; i++) { blocks += Math.ceilDiv(startPos[i] + chunkRows[i], bs); T += chunkRows[i]; }
        List<Integer> order = new java.util.ArrayList<>();
        for (int b = 0; b < blocks; b++) order.add(b);
        java.util.Collections.shuffle(order, new java.util.Random(5));
        float[] kPool = random(blocks * bs * kvWidth), vPool = random(blocks * bs * kvWidth), qv = random(T * width);
        Tensor kp = tensor(cache, kPool, blocks * bs, kvWidth), vp = tensor(cache, vPool, blocks * bs, kvWidth);
        Tensor q = tensor(DType.F32, qv, T, width), paged = cpu.allocate(DType.F32, T, width);
        int[][] tables = new int[n][];
        for (int i = 0, next = 0; i < n; i++) {
            tables[i] = new int[Math.ceilDiv(startPos[i] + chunkRows[i], bs)];
            for (int b = 0; b < tables[i].length; b++) tables[i][b] = order.get(next++);
        }
        cpu.attention(q, new PagedKv(kp, vp, bs, tables), chunkRows, startPos, heads, kvHeads, hd, paged);
        float[] got = read(paged);
        for (int i = 0, row = 0; i < n; row += chunkRows[i], i++) {
            int len = startPos[i] + chunkRows[i];
            float[] kc = new float[len * kvWidth], vc = new float[len * kvWidth];
            for (int p = 0; p < len; p++) {
                int at = (tables[i][p / bs] * bs + p % bs) * kvWidth;
                System.arraycopy(kPool, at, kc, p * kvWidth, kvWidth);
                System.arraycopy(vPool, at, vc, p * kvWidth, kvWidth);
            }
            Tensor k = tensor(cache, kc, len, kvWidth), v = tensor(cache, vc, len, kvWidth);
            Tensor qi = tensor(DType.F32, Arrays.copyOfRange(qv, row * width, (row + chunkRows[i]) * width), chunkRows[i], width);
            Tensor alone = cpu.allocate(DType.F32, chunkRows[i], width);
            cpu.attention(qi, k, v, heads, kvHeads, hd, startPos[i], alone);
            assertArrayEquals(read(alone), Arrays.copyOfRange(got, row * width, (row + chunkRows[i]) * width),
                    cache + " blocks of " + bs + ", chunk " + i);
            for (Tensor x : new Tensor[] {k, v, qi, alone}) cpu.free(x);
        }
        for (Tensor x : new Tensor[] {kp, vp, q, paged}) cpu.free(x);
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

    /** A wake keeps an idle pool's worker spinning only for a while: it parks again, and the next op runs whole. */
    @Test
    void aWokenWorkerParksAgainWhenNoOpComes() throws InterruptedException {
        try (WorkerPool pool = new WorkerPool(2)) {
            pool.run(4, (w, a, b) -> {});
            for (int i = 0; i < 3; i++) {
                pool.wake();
                long woken = System.nanoTime() + 100_000_000L, until = System.nanoTime() + 2_000_000_000L;
                while (pool.parked() && System.nanoTime() < woken) Thread.onSpinWait(); // until it runs, or ran already
                while (!pool.parked() && System.nanoTime() < until) Thread.sleep(1);
                assertTrue(pool.parked(), "the worker still spins 2 s after a wake");
            }
            int[] hits = new int[100];
            pool.run(hits.length, (w, a, b) -> { for (int i = a; i < b; i++) hits[i]++; });
            for (int h : hits) assertEquals(1, h);
        }
    }

    /**
     * The bare read covers each segment's whole cache lines (hand-counted below: a pass's GB/s divides by them), a
     * segment of a few lines as well as one of many 1 MiB pieces, and its median lies between its worst and best
     * passes.
     */
    @Test
    void readLimitCountsEveryWholeCacheLineAndSummarizesItsPasses() {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            List<MemorySegment> segments = List.of(arena.allocate(100, 64), arena.allocate(64, 64), arena.allocate((3L << 20) + 5, 64));
            CpuLimits.ReadLimit limit = new CpuLimits.ReadLimit(segments, cpu);
            assertEquals(64 + 64 + (3L << 20), limit.bytes());
            assertEquals(0, limit.count());
            for (int i = 0; i < 4; i++) assertTrue(limit.sample() > 0);
            assertEquals(4, limit.count());
            assertTrue(limit.worst() <= limit.median() && limit.median() <= limit.best(), limit.describe("in the test"));
            assertEquals(2, limit.threads());
        }
    }
}
