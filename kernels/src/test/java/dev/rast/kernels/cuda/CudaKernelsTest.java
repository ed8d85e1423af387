package dev.rast.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import dev.rast.kernels.ReferenceCheck;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What is particular to the CUDA backend, on a real GPU ("cuda") and on the CPU emulation of the kernels
 * ("emulator"), each target skipped, with the reason, where it cannot run: which kernels a matmul takes and how often
 * x is split into bf16 halves (launch counts on the emulator), the grouped decode-attention kernels, RAST fusion bit
 * for bit, sampling id for id against ReferenceSampler, failed launches and running out of device memory. The values
 * of every op against the reference backend are BackendOpsTest's; the checks here that compare values go through the
 * same {@link ReferenceCheck}.
 */
class CudaKernelsTest {
    @RegisterExtension static final TestBackends backends = new TestBackends();
    final SplittableRandom rnd = new SplittableRandom(11);

    static Stream<String> targets() { return GpuTargets.targets().stream(); }

    static CudaBackend gpu(String target) { return backends.gpu(target); }

    @AfterAll static void report() { System.out.print(ReferenceCheck.report()); }

    float[] random(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rnd.nextDouble() * 2 - 1);
        return v;
    }

    static float[] read(Backend b, Tensor t) { return ReferenceCheck.read(b, t); }

    /** An F32 tensor of b's holding {@code values}. */
    static Tensor f32(Backend b, float[] values, int... shape) {
        return ReferenceCheck.tensor(b, DType.F32, ReferenceCheck.bytes(DType.F32, values), shape);
    }

    /**
     * Decode matmuls (T ≤ 8) against a BF16 matrix of at least DECODE_GEMM_MIN_WEIGHTS elements take the stacked
     * split-bf16 GEMM, smaller ones the matvec kernel; both against the reference backend. On the emulator the route
     * is checked too: one matvec launch, or one sum_halves launch and one GEMM.
     */
    @ParameterizedTest
    @MethodSource("targets")
    void decodeMatmulsOfLargeBf16MatricesGoThroughTheStackedGemm(String target) {
        CudaBackend g = gpu(target);
        ReferenceCheck check = new ReferenceCheck(g, target, backends.reference, 3);
        int K = 4096;
        for (int N : new int[] {(int) (CudaBackend.DECODE_GEMM_MIN_WEIGHTS / K) + 3, 96})
            for (int T : new int[] {1, 3, 8}) {
                boolean large = (long) N * K >= CudaBackend.DECODE_GEMM_MIN_WEIGHTS;
                int matvecs = 0, sums = 0, gemms = 0;
                if (g.device() instanceof EmulatedDevice emu) {
                    matvecs = emu.launches(Kernel.MATVEC);
                    sums = emu.launches(Kernel.SUM_HALVES);
                    gemms = emu.gemms();
                }
                check.matmul(DType.BF16, true, T, N, K);
                if (g.device() instanceof EmulatedDevice emu) {
                    String what = "T=" + T + " N=" + N + ": ";
                    assertEquals(large ? 0 : 1, emu.launches(Kernel.MATVEC) - matvecs, what + "matvec launches");
                    assertEquals(large ? 1 : 0, emu.launches(Kernel.SUM_HALVES) - sums, what + "sum_halves launches");
                    assertEquals(large ? 1 : 0, emu.gemms() - gemms, what + "GEMMs");
                }
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
            Tensor x = f32(g, random(T * K), T, K);
            List<Tensor> ws = new java.util.ArrayList<>(), one = new java.util.ArrayList<>(), all = new java.util.ArrayList<>();
            for (int N : ns) {
                ws.add(g.weight(new Tensor(DType.BF16, new int[] {N, K}, ReferenceCheck.bytes(DType.BF16, random(N * K)))));
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

    /**
     * The grouped decode attention (-Drast.cuda.decode-attention=grouped: a block per KV head for its whole query
     * group) against the reference backend: every decode case of ReferenceCheck.ATTENTION_CASES whose group and head
     * size it takes, with F32 and BF16 caches, and decode steps of 5 and 70 sequences; with the default splits (a
     * warp takes one step of 32 keys in these cases) and with one split per query
     * (-Drast.cuda.decode-target-blocks=1: warps take up to 34 steps, carrying each head's max and sum). On the
     * emulator the grouped kernels must be the ones that ran.
     */
    @ParameterizedTest
    @MethodSource("groupedCases")
    void groupedDecodeAttentionMatchesTheReference(String target, String targetBlocks) {
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
            ReferenceCheck check = new ReferenceCheck(g, target + " grouped", backends.reference, 5);
            int cases = 0;
            for (DType cache : new DType[] {DType.F32, DType.BF16}) {
                for (int[] c : ReferenceCheck.ATTENTION_CASES) {
                    if (c[4] >= CudaBackend.ATTENTION_PREFILL_MIN_T || c[0] / c[1] > CudaBackend.GQ_MAX_GROUP || c[2] > CudaBackend.GQ_MAX_HEAD_DIM)
                        continue;
                    check.attention(cache, c[0], c[1], c[2], c[3], c[4]);
                    cases++;
                }
                for (int B : new int[] {5, 70}) check.decodeAttention(cache, B, 4, 2, 32);
            }
            assertTrue(cases >= 12, cases + " cases");
            if (g.device() instanceof EmulatedDevice emu) {
                // One-row cases (a single sequence's decode) take the batched kernel too.
                assertTrue(emu.launches(Kernel.ATTN_DECODE_GROUPED) + emu.launches(Kernel.ATTN_DECODE_GROUPED_ROWS) >= cases + 4);
                assertEquals(0, emu.launches(Kernel.ATTN_DECODE_PARTIAL) + emu.launches(Kernel.ATTN_DECODE_ROWS));
            }
        }
    }

    static Stream<Arguments> groupedCases() {
        return GpuTargets.targets().stream().flatMap(t -> Stream.of("1024", "1").map(b -> Arguments.of(t, b)));
    }

    @ParameterizedTest
    @MethodSource("targets")
    void rastFusionEqualsTheJavaExpressionBitForBit(String target) {
        CudaBackend g = gpu(target);
        int rows = 3, vocabM = 1003, vocabE = 1000, shared = 998;
        float[] m = random(rows * vocabM), e1 = random(rows * vocabE), b1 = random(rows * vocabE), e2 = random(rows * vocabE), b2 = random(rows * vocabE);
        float l1 = 0.75f, l2 = -1.3f;
        Tensor mg = f32(g, m, rows, vocabM), out = g.allocate(DType.F32, rows, vocabM);
        Tensor e1g = f32(g, e1, rows, vocabE), b1g = f32(g, b1, rows, vocabE);
        Tensor e2g = f32(g, e2, rows, vocabE), b2g = f32(g, b2, rows, vocabE);
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
        Tensor l = f32(g, logits, rows, ld);
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
