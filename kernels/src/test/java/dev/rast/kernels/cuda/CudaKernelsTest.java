package dev.rast.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import dev.rast.kernels.cpu.CpuBackend;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every CudaBackend op against the CPU backend on random data, on a real GPU ("cuda") and on the CPU emulation of
 * the kernels ("emulator"); each target is skipped, with the reason, where it cannot run.
 *
 * <p>Tolerances (|gpu − cpu| ≤ tol·scale + floor, scale = Σ|terms| of a dot product or |value| elsewhere): both
 * sides compute in F32 in different orders, so reassociation error is about n·ε·scale (ε = 6e-8): 1e-5 covers
 * n ≤ 150 terms per lane with room, yet a dropped element or wrong pairing moves a result by a whole term. The
 * bf16 GEMM path splits x into hi + lo bf16 halves, so x carries a relative error up to 2⁻¹⁸ (4e-6) on top:
 * 3e-5. RAST fusion is compared bit for bit (rounded operations on both sides); sampling id for id.
 */
class CudaKernelsTest {
    @RegisterExtension static final TestBackends backends = new TestBackends();
    static final CpuBackend cpu = backends.cpu;
    final SplittableRandom rnd = new SplittableRandom(11);

    static Stream<String> targets() { return GpuTargets.targets().stream(); }

    static Stream<Arguments> targetsAndDtypes() {
        return GpuTargets.targets().stream().flatMap(t -> Stream.of(DType.values()).map(d -> Arguments.of(t, d)));
    }

    static CudaBackend gpu(String target) { return backends.gpu(target); }

    float[] random(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rnd.nextDouble() * 2 - 1);
        return v;
    }

    /** Host bytes of {@code values} in dtype dt; values are rounded in place to what dt can hold. */
    static MemorySegment bytes(DType dt, float[] values) {
        MemorySegment s = Arena.ofAuto().allocate((long) values.length * dt.bytes(), 16);
        for (int i = 0; i < values.length; i++) {
            switch (dt) {
                case F32 -> s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, values[i]);
                case BF16 -> {
                    short b = DType.floatToBf16(values[i]);
                    s.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, b);
                    values[i] = DType.bf16ToFloat(b);
                }
                case F16 -> {
                    short h = Float.floatToFloat16(values[i]);
                    s.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, h);
                    values[i] = Float.float16ToFloat(h);
                }
            }
        }
        return s;
    }

    static Tensor tensor(Backend b, DType dt, MemorySegment data, int... shape) {
        Tensor t = b.allocate(dt, shape);
        b.upload(data, t);
        return t;
    }

    static float[] read(Backend b, Tensor t) {
        float[] out = new float[(int) t.numel()];
        b.download(t, MemorySegment.ofArray(out));
        return out;
    }

    static void close(double want, double got, double tol, double scale, String what) {
        assertTrue(Math.abs(want - got) <= tol * scale + 1e-6, what + ": cpu " + want + ", gpu " + got);
    }

    /** out = x·wᵀ ([T, K] by [N, K]) from both backends: each element within tol of its Σ_k |x·w| (the error scale). */
    static void closeMatmul(float[] want, float[] got, float[] xv, float[] wv, int T, int N, int K, double tol, String what) {
        for (int t = 0; t < T; t++)
            for (int n = 0; n < N; n++) {
                double a = 0;
                for (int k = 0; k < K; k++) a += Math.abs((double) xv[t * K + k] * wv[n * K + k]);
                close(want[t * N + n], got[t * N + n], tol, a, what + " [" + t + "," + n + "]");
            }
    }

    @ParameterizedTest
    @MethodSource("targetsAndDtypes")
    void matmulMatchesCpu(String target, DType dt) {
        CudaBackend g = gpu(target);
        // T ≤ 8: the matvec kernel (vector path when K % 8 == 0); T > 8: cuBLAS (F32 / split bf16, stacked up to
        // STACKED_MAX_T rows, two GEMMs beyond / widened f16).
        for (int T : new int[] {1, 2, 5, 8, 9, 20, 33, 257})
            for (int N : new int[] {1, 7, 70})
                for (int K : new int[] {1, 15, 64, 97, 256, 300}) {
                    float[] xv = random(T * K), wv = random(N * K);
                    MemorySegment xs = bytes(DType.F32, xv), ws = bytes(dt, wv);
                    Tensor xc = tensor(cpu, DType.F32, xs, T, K), wc = tensor(cpu, dt, ws, N, K), oc = cpu.allocate(DType.F32, T, N);
                    Tensor xg = tensor(g, DType.F32, xs, T, K), wg = g.weight(new Tensor(dt, new int[] {N, K}, ws)), og = g.allocate(DType.F32, T, N);
                    cpu.matmul(xc, wc, oc);
                    g.matmul(xg, wg, og);
                    float[] want = read(cpu, oc), got = read(g, og);
                    double tol = T > CudaBackend.MATVEC_MAX_T && dt == DType.BF16 ? 3e-5 : 1e-5;
                    closeMatmul(want, got, xv, wv, T, N, K, tol, target + " " + dt + " T=" + T + " N=" + N + " K=" + K);
                    for (Tensor x : List.of(xc, wc, oc)) cpu.free(x);
                    for (Tensor x : List.of(xg, wg, og)) g.free(x);
                }
    }

    /**
     * Decode matmuls (T ≤ 8) against a BF16 matrix of at least DECODE_GEMM_MIN_WEIGHTS elements take the stacked
     * split-bf16 GEMM, smaller ones the matvec kernel; both match the CPU backend (3e-5 of Σ|x·w| for the split,
     * whose x keeps ~16 mantissa bits; 1e-5 for the matvec kernel's F32 x). On the emulator the route is checked too.
     */
    @ParameterizedTest
    @MethodSource("targets")
    void decodeMatmulsOfLargeBf16MatricesGoThroughTheStackedGemm(String target) {
        CudaBackend g = gpu(target);
        int K = 4096;
        for (int N : new int[] {(int) (CudaBackend.DECODE_GEMM_MIN_WEIGHTS / K) + 3, 96})
            for (int T : new int[] {1, 3, 8}) {
                boolean large = (long) N * K >= CudaBackend.DECODE_GEMM_MIN_WEIGHTS;
                float[] xv = random(T * K), wv = random(N * K);
                MemorySegment xs = bytes(DType.F32, xv), ws = bytes(DType.BF16, wv);
                Tensor xc = tensor(cpu, DType.F32, xs, T, K), wc = tensor(cpu, DType.BF16, ws, N, K), oc = cpu.allocate(DType.F32, T, N);
                Tensor xg = tensor(g, DType.F32, xs, T, K), wg = g.weight(new Tensor(DType.BF16, new int[] {N, K}, ws)), og = g.allocate(DType.F32, T, N);
                cpu.matmul(xc, wc, oc);
                int matvecs = 0, sums = 0, gemms = 0;
                if (g.device() instanceof EmulatedDevice emu) {
                    matvecs = emu.launches(Kernel.MATVEC);
                    sums = emu.launches(Kernel.SUM_HALVES);
                    gemms = emu.gemms();
                }
                g.matmul(xg, wg, og);
                if (g.device() instanceof EmulatedDevice emu) {
                    String what = "T=" + T + " N=" + N + ": ";
                    assertEquals(large ? 0 : 1, emu.launches(Kernel.MATVEC) - matvecs, what + "matvec launches");
                    assertEquals(large ? 1 : 0, emu.launches(Kernel.SUM_HALVES) - sums, what + "sum_halves launches");
                    assertEquals(large ? 1 : 0, emu.gemms() - gemms, what + "GEMMs");
                }
                float[] want = read(cpu, oc), got = read(g, og);
                closeMatmul(want, got, xv, wv, T, N, K, large ? 3e-5 : 1e-5, target + " T=" + T + " N=" + N);
                for (Tensor x : List.of(xc, wc, oc)) cpu.free(x);
                for (Tensor x : List.of(xg, wg, og)) g.free(x);
            }
    }

    /**
     * q, k, v (or gate, up) in one call: the same bits as three calls, with x split into bf16 halves once (on the
     * emulator: one split_bf16 launch where three calls make three), for prefill rows and for a decode row whose
     * large matrix takes the GEMM while the small ones take the matvec kernel.
     */
    @ParameterizedTest
    @MethodSource("targets")
    void weightsSharingAnInputSplitItOnce(String target) {
        CudaBackend g = gpu(target);
        int K = 4096, big = (int) (CudaBackend.DECODE_GEMM_MIN_WEIGHTS / K) + 1;
        for (int T : new int[] {12, 1}) {
            int[] ns = {big, 40, 72};
            Tensor x = tensor(g, DType.F32, bytes(DType.F32, random(T * K)), T, K);
            List<Tensor> ws = new java.util.ArrayList<>(), one = new java.util.ArrayList<>(), all = new java.util.ArrayList<>();
            for (int N : ns) {
                ws.add(g.weight(new Tensor(DType.BF16, new int[] {N, K}, bytes(DType.BF16, random(N * K)))));
                one.add(g.allocate(DType.F32, T, N));
                all.add(g.allocate(DType.F32, T, N));
            }
            int splits = g.device() instanceof EmulatedDevice emu ? emu.launches(Kernel.SPLIT_BF16) : 0;
            for (int i = 0; i < ns.length; i++) g.matmul(x, ws.get(i), one.get(i));
            int splitsOne = g.device() instanceof EmulatedDevice emu ? emu.launches(Kernel.SPLIT_BF16) - splits : 0;
            g.matmul(x, ws, all);
            if (g.device() instanceof EmulatedDevice emu) {
                assertEquals(T == 1 ? 1 : 3, splitsOne, "T=" + T + ": one call per weight");
                assertEquals(1, emu.launches(Kernel.SPLIT_BF16) - splits - splitsOne, "T=" + T + ": one call for all");
            }
            for (int i = 0; i < ns.length; i++)
                assertArrayEquals(read(g, one.get(i)), read(g, all.get(i)), target + " T=" + T + " weight " + i);
            for (Tensor t : ws) g.free(t);
            for (Tensor t : one) g.free(t);
            for (Tensor t : all) g.free(t);
            g.free(x);
        }
    }

    @ParameterizedTest
    @MethodSource("targetsAndDtypes")
    void rmsNormAddBiasAndEmbedMatchCpu(String target, DType dt) {
        CudaBackend g = gpu(target);
        for (int D : new int[] {1, 15, 17, 100, 896}) {
            int T = 3;
            float[] xv = random(T * D), wv = random(D);
            MemorySegment xs = bytes(DType.F32, xv), ws = bytes(dt, wv);
            Tensor xc = tensor(cpu, DType.F32, xs, T, D), wc = tensor(cpu, dt, ws, D), oc = cpu.allocate(DType.F32, T, D);
            Tensor xg = tensor(g, DType.F32, xs, T, D), wg = tensor(g, dt, ws, D), og = g.allocate(DType.F32, T, D);
            cpu.rmsNorm(xc, wc, 1e-6f, oc);
            g.rmsNorm(xg, wg, 1e-6f, og);
            float[] want = read(cpu, oc), got = read(g, og);
            for (int i = 0; i < want.length; i++) close(want[i], got[i], 1e-5, Math.abs(want[i]), target + " rmsNorm D=" + D + " [" + i + "]");
            cpu.addBias(xc, wc);
            g.addBias(xg, wg);
            want = read(cpu, xc);
            got = read(g, xg);
            for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-6, target + " addBias D=" + D);
        }
        int V = 37, D = 21;
        float[] table = random(V * D);
        MemorySegment ts = bytes(dt, table);
        int[] ids = {0, 36, 5, 5, 17};
        Tensor tc = tensor(cpu, dt, ts, V, D), oc = cpu.allocate(DType.F32, ids.length, D);
        Tensor tg = tensor(g, dt, ts, V, D), og = g.allocate(DType.F32, ids.length, D);
        cpu.embed(tc, ids, oc);
        g.embed(tg, ids, og);
        assertArrayEquals(read(cpu, oc), read(g, og), 0f, target + " embed " + dt); // widening is exact
        assertThrows(IllegalArgumentException.class, () -> g.embed(tg, new int[] {V}, g.allocate(DType.F32, 1, D)));
    }

    @ParameterizedTest
    @MethodSource("targets")
    void elementwiseOpsRopeAndCopyRowsMatchCpu(String target) {
        CudaBackend g = gpu(target);
        int n = 70_001; // not a multiple of any block size; more than one grid-stride pass in the emulator's 8192 blocks
        float[] a = random(n), b = random(n);
        for (int i = 0; i < n; i++) a[i] *= 12; // silu over a wide range
        MemorySegment as = bytes(DType.F32, a), bs = bytes(DType.F32, b);
        Tensor ac = tensor(cpu, DType.F32, as, 1, n);
        Tensor bc = tensor(cpu, DType.F32, bs, 1, n), oc = cpu.allocate(DType.F32, 1, n);
        Tensor ag = tensor(g, DType.F32, as, 1, n), bg = tensor(g, DType.F32, bs, 1, n), og = g.allocate(DType.F32, 1, n);
        cpu.siluMul(ac, bc, oc);
        g.siluMul(ag, bg, og);
        float[] want = read(cpu, oc), got = read(g, og);
        for (int i = 0; i < n; i++) close(want[i], got[i], 1e-5, Math.abs(want[i]), target + " siluMul [" + i + "]");
        cpu.add(ac, bc);
        g.add(ag, bg);
        assertArrayEquals(read(cpu, ac), read(g, ag), 0f, target + " add"); // one rounding, same on both

        int T = 5, heads = 3, hd = 22, half = hd / 2, maxPos = 40, start = 7;
        float[] xv = random(T * heads * hd), cv = random(maxPos * half), sv = random(maxPos * half);
        MemorySegment xs = bytes(DType.F32, xv), cs = bytes(DType.F32, cv), ss = bytes(DType.F32, sv);
        Tensor xc = tensor(cpu, DType.F32, xs, T, heads * hd), cc = tensor(cpu, DType.F32, cs, maxPos, half), sc = tensor(cpu, DType.F32, ss, maxPos, half);
        Tensor xg = tensor(g, DType.F32, xs, T, heads * hd), cg = tensor(g, DType.F32, cs, maxPos, half), sg = tensor(g, DType.F32, ss, maxPos, half);
        cpu.rope(xc, hd, cc, sc, start);
        g.rope(xg, hd, cg, sg, start);
        want = read(cpu, xc);
        got = read(g, xg);
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-6, target + " rope [" + i + "]");

        Tensor cacheC = cpu.allocate(DType.F32, 9, heads * hd), cacheG = g.allocate(DType.F32, 9, heads * hd);
        cpu.copyRows(xc, cacheC, 3);
        g.copyRows(xg, cacheG, 3);
        assertArrayEquals(read(cpu, cacheC), read(g, cacheG), 1e-6f, target + " copyRows");

        // Into a BF16 cache (a KV cache of a BF16 model): each value rounded to nearest even, as DType.floatToBf16.
        Tensor bcC = cpu.allocate(DType.BF16, 9, heads * hd), bcG = g.allocate(DType.BF16, 9, heads * hd);
        cpu.copyRows(xc, bcC, 3);
        g.copyRows(xg, bcG, 3);
        short[] sc16 = readShorts(cpu, bcC), sg16 = readShorts(g, bcG);
        float[] rows = read(cpu, xc);
        for (int i = 0; i < sc16.length; i++) {
            int r = i - 3 * heads * hd;
            assertEquals(r >= 0 && r < rows.length ? DType.floatToBf16(rows[r]) : 0, sc16[i], "cpu copyRows to bf16 [" + i + "]");
        }
        assertArrayEquals(sc16, sg16, target + " copyRows to bf16");
    }

    static short[] readShorts(Backend b, Tensor t) {
        short[] out = new short[(int) t.numel()];
        b.download(t, MemorySegment.ofArray(out));
        return out;
    }

    static Stream<Arguments> attentionCases() {
        // heads, kvHeads, headDim, startPos, T: decode (T < 16) with one and with several key splits; prefill
        // (T ≥ 16) from position 0 and from a filled cache; head_dim 256 needs more than 48 KiB of shared memory.
        // Decode splits whose warps take several steps of 4 keys (the running max and sum carried between steps):
        // 64 heads × 2 queries ask for 8 splits of 38 keys; 4,301 keys on 2 heads need 253 splits of 17.
        int[][] cases = {{6, 2, 20, 9, 4}, {4, 1, 128, 300, 1}, {4, 4, 32, 0, 1}, {6, 2, 20, 0, 40}, {4, 2, 64, 50, 17},
                {2, 2, 256, 3, 20}, {8, 2, 128, 130, 15}, {64, 8, 32, 299, 2}, {2, 1, 32, 4300, 1}};
        return GpuTargets.targets().stream().flatMap(t -> Stream.of(DType.F32, DType.BF16)
                .flatMap(cache -> Stream.of(cases).map(c -> Arguments.of(t, cache, c))));
    }

    /** Caches of F32 or BF16 (a BF16 model's KV cache): both sides widen the same stored values exactly. */
    @ParameterizedTest
    @MethodSource("attentionCases")
    void attentionMatchesCpu(String target, DType cache, int[] c) { checkAttention(gpu(target), target, cache, c); }

    private void checkAttention(CudaBackend g, String target, DType cache, int[] c) {
        int heads = c[0], kvHeads = c[1], hd = c[2], start = c[3], T = c[4], maxSeq = start + T + 5;
        float[] qv = random(T * heads * hd), kv = random(maxSeq * kvHeads * hd), vv = random(maxSeq * kvHeads * hd);
        // Rows past the last position are poison: a causal kernel never reads them.
        for (int i = (start + T) * kvHeads * hd; i < kv.length; i++) kv[i] = vv[i] = Float.NaN;
        MemorySegment qs = bytes(DType.F32, qv), ks = bytes(cache, kv), vs = bytes(cache, vv);
        Tensor qc = tensor(cpu, DType.F32, qs, T, heads * hd), kc = tensor(cpu, cache, ks, maxSeq, kvHeads * hd);
        Tensor vc = tensor(cpu, cache, vs, maxSeq, kvHeads * hd), oc = cpu.allocate(DType.F32, T, heads * hd);
        Tensor qg = tensor(g, DType.F32, qs, T, heads * hd), kg = tensor(g, cache, ks, maxSeq, kvHeads * hd);
        Tensor vg = tensor(g, cache, vs, maxSeq, kvHeads * hd), og = g.allocate(DType.F32, T, heads * hd);
        cpu.attention(qc, kc, vc, heads, kvHeads, hd, start, oc);
        g.attention(qg, kg, vg, heads, kvHeads, hd, start, og);
        float[] want = read(cpu, oc), got = read(g, og);
        for (int i = 0; i < want.length; i++)
            assertEquals(want[i], got[i], 1e-5, target + " " + cache + " attention " + java.util.Arrays.toString(c) + " [" + i + "]");
        for (Tensor t : List.of(qc, kc, vc, oc)) cpu.free(t);
        for (Tensor t : List.of(qg, kg, vg, og)) g.free(t);
    }

    /**
     * The grouped decode attention (-Drast.cuda.decode-attention=grouped: a block per KV head for its whole query
     * group) against the CPU backend, 1e-5 as above: every decode case of attentionCases whose group and head size
     * it takes, with F32 and BF16 caches, and decode steps of 5 and 70 sequences; with the default splits (a warp
     * takes one step of 32 keys in these cases) and with one split per query (-Drast.cuda.decode-target-blocks=1:
     * warps take up to 34 steps, carrying each head's max and sum). On the emulator the grouped kernels must be the
     * ones that ran.
     */
    @ParameterizedTest
    @MethodSource("groupedCases")
    void groupedDecodeAttentionMatchesCpu(String target, String targetBlocks) {
        GpuTargets.assumeAvailable(target);
        CudaBackend g;
        System.setProperty("rast.cuda.decode-attention", "grouped");
        System.setProperty("rast.cuda.decode-target-blocks", targetBlocks);
        try {
            g = GpuTargets.backend(target);
        } finally {
            System.clearProperty("rast.cuda.decode-attention");
            System.clearProperty("rast.cuda.decode-target-blocks");
        }
        try (g) {
            int cases = 0;
            for (Arguments a : attentionCases().filter(a -> a.get()[0].equals(target)).toList()) {
                int[] c = (int[]) a.get()[2];
                if (c[4] >= CudaBackend.ATTENTION_PREFILL_MIN_T || c[0] / c[1] > CudaBackend.GQ_MAX_GROUP || c[2] > CudaBackend.GQ_MAX_HEAD_DIM)
                    continue;
                checkAttention(g, target, (DType) a.get()[1], c);
                cases++;
            }
            assertTrue(cases >= 12, cases + " cases");
            for (DType cache : new DType[] {DType.F32, DType.BF16})
                for (int B : new int[] {5, 70}) checkDecodeStep(g, target, cache, B);
            if (g.device() instanceof EmulatedDevice emu) {
                assertTrue(emu.launches(Kernel.ATTN_DECODE_GROUPED) >= cases && emu.launches(Kernel.ATTN_DECODE_GROUPED_ROWS) >= 4);
                assertEquals(0, emu.launches(Kernel.ATTN_DECODE_PARTIAL) + emu.launches(Kernel.ATTN_DECODE_ROWS));
            }
        }
    }

    static Stream<Arguments> groupedCases() {
        return GpuTargets.targets().stream().flatMap(t -> Stream.of("1024", "1").map(b -> Arguments.of(t, b)));
    }

    static Stream<Arguments> decodeStepCases() {
        return GpuTargets.targets().stream().flatMap(t -> Stream.of(DType.F32, DType.BF16)
                .flatMap(cache -> Stream.of(5, 70).map(b -> Arguments.of(t, cache, b))));
    }

    /**
     * A decode step of B sequences, each one token at its own position over its own caches: rope, the KV store and
     * attention in launches of up to 64 rows (70 takes two), against the CPU backend. Rope 1e-6 as above; stored
     * keys and values likewise, plus one BF16 step (2⁻⁸ relative) where the two ropes' last-bit difference rounds
     * the other way; attention (given the same caches and queries on both sides) 1e-5 as above.
     */
    @ParameterizedTest
    @MethodSource("decodeStepCases")
    void aDecodeStepOfManySequencesMatchesCpu(String target, DType cache, int B) { checkDecodeStep(gpu(target), target, cache, B); }

    private void checkDecodeStep(CudaBackend g, String target, DType cache, int B) {
        int heads = 4, kvHeads = 2, hd = 32, W = heads * hd, KW = kvHeads * hd, half = hd / 2, maxPos = 200;
        int[] rows = new int[B], pos = new int[B];
        for (int i = 0; i < B; i++) { rows[i] = 1; pos[i] = (i * 37) % 150; } // 0 included: a first token
        MemorySegment cs = bytes(DType.F32, random(maxPos * half)), ss = bytes(DType.F32, random(maxPos * half));
        Tensor cosC = tensor(cpu, DType.F32, cs, maxPos, half), sinC = tensor(cpu, DType.F32, ss, maxPos, half);
        Tensor cosG = tensor(g, DType.F32, cs, maxPos, half), sinG = tensor(g, DType.F32, ss, maxPos, half);
        MemorySegment qs = bytes(DType.F32, random(B * W)), ks = bytes(DType.F32, random(B * KW)), vs = bytes(DType.F32, random(B * KW));
        Tensor qC = tensor(cpu, DType.F32, qs, B, W), kC = tensor(cpu, DType.F32, ks, B, KW), vC = tensor(cpu, DType.F32, vs, B, KW);
        Tensor qG = tensor(g, DType.F32, qs, B, W), kG = tensor(g, DType.F32, ks, B, KW), vG = tensor(g, DType.F32, vs, B, KW);
        Tensor[] kcC = new Tensor[B], vcC = new Tensor[B], kcG = new Tensor[B], vcG = new Tensor[B];
        for (int i = 0; i < B; i++) { // earlier positions filled; the rest poison that a causal kernel never reads
            int cap = pos[i] + 3;
            float[] kv = random(cap * KW), vv = random(cap * KW);
            for (int e = pos[i] * KW; e < kv.length; e++) kv[e] = vv[e] = Float.NaN;
            MemorySegment kb = bytes(cache, kv), vb = bytes(cache, vv);
            kcC[i] = tensor(cpu, cache, kb, cap, KW); vcC[i] = tensor(cpu, cache, vb, cap, KW);
            kcG[i] = tensor(g, cache, kb, cap, KW); vcG[i] = tensor(g, cache, vb, cap, KW);
        }
        cpu.rope(qC, hd, cosC, sinC, rows, pos);
        cpu.rope(kC, hd, cosC, sinC, rows, pos);
        g.rope(qG, hd, cosG, sinG, rows, pos);
        g.rope(kG, hd, cosG, sinG, rows, pos);
        assertArrayEquals(read(cpu, qC), read(g, qG), 1e-6f, target + " rope of queries");
        assertArrayEquals(read(cpu, kC), read(g, kG), 1e-6f, target + " rope of keys");

        float[] kGot = read(g, kG), vGot = read(g, vG); // what the GPU stores, exactly (rounded for BF16)
        cpu.storeKeysValues(kC, vC, kcC, vcC, rows, pos);
        g.storeKeysValues(kG, vG, kcG, vcG, rows, pos);
        for (int i = 0; i < B; i++) {
            float[][] stored = {widened(g, kcG[i]), widened(g, vcG[i])}, given = {kGot, vGot};
            for (int w = 0; w < 2; w++)
                for (int e = 0; e < KW; e++) {
                    float x = given[w][i * KW + e];
                    float want = cache == DType.BF16 ? DType.bf16ToFloat(DType.floatToBf16(x)) : x;
                    assertEquals(want, stored[w][pos[i] * KW + e], 0f, target + " " + cache + " row of sequence " + i + " stored as is / rounded to nearest even");
                }
            float[][] want = {widened(cpu, kcC[i]), widened(cpu, vcC[i])}, got = {widened(g, kcG[i]), widened(g, vcG[i])};
            for (int w = 0; w < 2; w++)
                for (int e = 0; e < want[w].length; e++) {
                    float a = want[w][e], b = got[w][e];
                    boolean same = Float.isNaN(a) ? Float.isNaN(b) : Math.abs(a - b) <= 1e-6 + (cache == DType.BF16 ? 8e-3 * Math.abs(a) : 0);
                    assertTrue(same, target + " " + cache + " stored " + (w == 0 ? "key" : "value") + " of sequence " + i + " [" + e + "]: cpu " + a + ", gpu " + b);
                }
            // From here both sides attend over the CPU's caches and queries: attention alone is compared.
            g.upload(bytesOf(cpu, kcC[i]), kcG[i]);
            g.upload(bytesOf(cpu, vcC[i]), vcG[i]);
        }
        g.upload(bytesOf(cpu, qC), qG);
        Tensor oC = cpu.allocate(DType.F32, B, W), oG = g.allocate(DType.F32, B, W);
        cpu.attention(qC, kcC, vcC, rows, pos, heads, kvHeads, hd, oC);
        g.attention(qG, kcG, vcG, rows, pos, heads, kvHeads, hd, oG);
        float[] want = read(cpu, oC), got = read(g, oG);
        for (int i = 0; i < want.length; i++)
            assertEquals(want[i], got[i], 1e-5, target + " " + cache + " B=" + B + " attention [" + i + "]");
        for (Tensor t : List.of(cosC, sinC, qC, kC, vC, oC)) cpu.free(t);
        for (Tensor t : List.of(cosG, sinG, qG, kG, vG, oG)) g.free(t);
        for (int i = 0; i < B; i++) { cpu.free(kcC[i]); cpu.free(vcC[i]); g.free(kcG[i]); g.free(vcG[i]); }
    }

    /** A tensor's elements as floats (BF16 widened exactly). */
    static float[] widened(Backend b, Tensor t) {
        if (t.dtype() == DType.F32) return read(b, t);
        short[] s = readShorts(b, t);
        float[] out = new float[s.length];
        for (int i = 0; i < s.length; i++) out[i] = DType.bf16ToFloat(s[i]);
        return out;
    }

    static MemorySegment bytesOf(Backend b, Tensor t) {
        MemorySegment s = Arena.ofAuto().allocate(t.numel() * t.dtype().bytes(), 16);
        b.download(t, s);
        return s;
    }

    @ParameterizedTest
    @MethodSource("targets")
    void rastFusionEqualsTheJavaExpressionBitForBit(String target) {
        CudaBackend g = gpu(target);
        int rows = 3, vocabM = 1003, vocabE = 1000, shared = 998;
        float[] m = random(rows * vocabM), e1 = random(rows * vocabE), b1 = random(rows * vocabE), e2 = random(rows * vocabE), b2 = random(rows * vocabE);
        float l1 = 0.75f, l2 = -1.3f;
        Tensor mg = tensor(g, DType.F32, bytes(DType.F32, m), rows, vocabM), out = g.allocate(DType.F32, rows, vocabM);
        Tensor e1g = tensor(g, DType.F32, bytes(DType.F32, e1), rows, vocabE), b1g = tensor(g, DType.F32, bytes(DType.F32, b1), rows, vocabE);
        Tensor e2g = tensor(g, DType.F32, bytes(DType.F32, e2), rows, vocabE), b2g = tensor(g, DType.F32, bytes(DType.F32, b2), rows, vocabE);
        g.rastFuse(out, mg, List.of(e1g, e2g), List.of(b1g, b2g), new float[] {l1, l2}, shared);
        float[] got = read(g, out);
        for (int r = 0; r < rows; r++)
            for (int v = 0; v < vocabM; v++) {
                float want = v < shared
                        ? m[r * vocabM + v] + l1 * (e1[r * vocabE + v] - b1[r * vocabE + v]) + l2 * (e2[r * vocabE + v] - b2[r * vocabE + v])
                        : Float.NEGATIVE_INFINITY;
                assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got[r * vocabM + v]), target + " fused logit [" + r + "," + v + "]");
            }
    }

    @ParameterizedTest
    @MethodSource("targets")
    void samplingMatchesTheReferenceSampler(String target) {
        CudaBackend g = gpu(target);
        int rows = 4, vocab = 3001, ld = 3005;
        float[] logits = new float[rows * ld];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) (rnd.nextGaussian() * 3);
        logits[2 * ld + 17] = Float.NaN;               // never drawn
        logits[3 * ld + 5] = Float.NEGATIVE_INFINITY;  // never drawn
        Tensor l = tensor(g, DType.F32, bytes(DType.F32, logits), rows, ld);
        long[] seeds = {1, 2, 3, 0xDEADBEEFCAFEL};
        List<DeviceSampling> settings = List.of(DeviceSampling.GREEDY, new DeviceSampling(1f, 0, 1f, 0f),
                new DeviceSampling(0.7f, 40, 1f, 0f), new DeviceSampling(1.2f, 0, 0.9f, 0f),
                new DeviceSampling(0.8f, 50, 0.95f, 0.02f), new DeviceSampling(1f, 1, 1f, 0f));
        for (DeviceSampling s : settings)
            for (long step : new long[] {0, 77}) {
                int[] got = g.sample(l, vocab, s, seeds, step);
                for (int r = 0; r < rows; r++) {
                    float[] row = java.util.Arrays.copyOfRange(logits, r * ld, r * ld + vocab);
                    assertEquals(ReferenceSampler.sample(row, vocab, s, seeds[r], step), got[r], target + " " + s + " step " + step + " row " + r);
                }
                assertArrayEquals(got, g.sample(l, vocab, s, seeds, step), "same seeds and step, same ids");
            }
        // Different steps give different draws (40 draws from a broad distribution cannot all coincide).
        DeviceSampling broad = new DeviceSampling(1f, 0, 1f, 0f);
        int[] first = g.sample(l, vocab, broad, seeds, 0);
        boolean differs = false;
        for (long step = 1; step <= 10 && !differs; step++) differs = !java.util.Arrays.equals(first, g.sample(l, vocab, broad, seeds, step));
        assertTrue(differs, "draws do not depend on the step");
    }

    @ParameterizedTest
    @MethodSource("targets")
    void aFailedLaunchNamesTheKernel(String target) {
        CudaBackend g = gpu(target);
        Tensor x = g.allocate(DType.F32, 1, 4);
        // More shared memory than any GPU has (and than the emulator allows): the launch is refused.
        CudaException e = assertThrows(CudaException.class, () -> {
            try (KernelArgs args = Kernel.ADD.args().ptr(x).ptr(x).i64(4)) {
                g.device().launch(args, 1, 1, 1, 32, 1 << 20);
            }
        });
        assertTrue(e.getMessage().contains("add_inplace"), e.getMessage());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> {
            try (KernelArgs args = Kernel.ADD.args().ptr(x).ptr(x).i64(4)) {
                g.device().launch(args, 1, 70_000, 1, 32, 0);
            }
        });
        assertTrue(shape.getMessage().contains("add_inplace") && shape.getMessage().contains("outside CUDA's limits"), shape.getMessage());
        assertThrows(IllegalStateException.class, () -> {
            try (KernelArgs args = Kernel.ADD.args().ptr(x).ptr(x).i32(4)) { // int where the kernel takes a long
                g.device().launch(args, 1, 1, 1, 32, 0);
            }
        });
        float[] still = read(g, x);
        assertArrayEquals(new float[4], still, "the device still works after refused launches");
    }

    @ParameterizedTest
    @MethodSource("targets")
    void outOfDeviceMemorySaysHowMuchWasNeededAndFree(String target) {
        CudaBackend g = gpu(target);
        long[] mem = g.device().memoryInfo();
        int cols = 1 << 20;
        int rows = (int) Math.min(Integer.MAX_VALUE, mem[1] / (4L * cols) + 1); // more than the whole device
        DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class, () -> g.allocate(DType.F32, rows, cols));
        assertTrue(e.getMessage().startsWith("out of GPU memory: cuMemAlloc(" + 4L * rows * cols + " bytes) for F32[" + rows + ", " + cols + "]"), e.getMessage());
        assertTrue(e.getMessage().contains("CUDA_ERROR_OUT_OF_MEMORY") && e.getMessage().contains("GiB free of"), e.getMessage());
        assertNotEquals(0, g.allocate(DType.F32, 1, 1).data().address(), "the backend still works afterwards");
    }
}
