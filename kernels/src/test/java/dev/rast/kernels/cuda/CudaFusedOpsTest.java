package dev.rast.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import dev.rast.kernels.ReferenceCheck;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CUDA backend's fused ops (one kernel where Backend's defaults run two to five) and the logits row gather, on a
 * real GPU and on the emulator: each against the CPU backend's plain ops (what Backend's defaults run), and on the
 * emulator the launches each makes.
 */
class CudaFusedOpsTest {
    @RegisterExtension static final TestBackends backends = new TestBackends();
    final SplittableRandom rnd = new SplittableRandom(5);

    static Stream<String> targets() { return GpuTargets.targets().stream(); }

    float[] random(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rnd.nextDouble() * 2 - 1);
        return v;
    }

    static Tensor tensor(Backend b, DType dt, float[] values, int... shape) {
        return ReferenceCheck.tensor(b, dt, ReferenceCheck.bytes(dt, values), shape);
    }

    static float[] read(Backend b, Tensor t) { return ReferenceCheck.read(b, t); }

    static int launches(CudaBackend g) { return g.device() instanceof EmulatedDevice emu ? emu.launches() : -1; }

    static void close(float[] want, float[] got, double abs, double rel, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++)
            assertTrue(Math.abs(want[i] - got[i]) <= abs + rel * Math.abs(want[i]),
                    what + " [" + i + "]: want " + want[i] + ", got " + got[i]);
    }

    /**
     * x += y then RMSNorm: x itself must equal the CPU's bit for bit (one F32 add per element on both); the normed
     * rows within 1e-5 relative + 1e-6: the only difference is the order of the F32 sum of squares (a block's tree
     * against the CPU's vector lanes), ≤ D·2⁻²⁴ ≈ 1e-4 relative on the sum at worst for D = 1536, half that on its
     * inverse square root, and far less for random signs; the weight's BF16 is widened exactly on both. Once with
     * out = y, as the forward pass calls it.
     */
    @ParameterizedTest
    @MethodSource("targets")
    void addRmsNormEqualsAddThenNormOnTheCpu(String target) {
        CudaBackend g = backends.gpu(target);
        Backend cpu = backends.cpu;
        for (int D : new int[] {64, 1536})
            for (DType wt : new DType[] {DType.F32, DType.BF16})
                for (boolean outIsY : new boolean[] {false, true}) {
                    int T = 5;
                    float[] x = random(T * D), y = random(T * D), w = random(D);
                    float eps = 1e-6f;
                    Tensor gx = tensor(g, DType.F32, x, T, D), gy = tensor(g, DType.F32, y, T, D), gw = tensor(g, wt, w.clone(), D);
                    Tensor cx = tensor(cpu, DType.F32, x, T, D), cy = tensor(cpu, DType.F32, y, T, D), cw = tensor(cpu, wt, w.clone(), D);
                    Tensor gout = outIsY ? gy : g.allocate(DType.F32, T, D), cout = outIsY ? cy : cpu.allocate(DType.F32, T, D);
                    int before = launches(g);
                    g.addRmsNorm(gx, gy, gw, eps, gout);
                    if (before >= 0) assertEquals(1, launches(g) - before, "one add_rms_norm launch");
                    cpu.add(cx, cy);
                    cpu.rmsNorm(cx, cw, eps, cout);
                    String what = target + " D=" + D + " " + wt + (outIsY ? " out=y" : "");
                    assertArrayEquals(read(cpu, cx), read(g, gx), what + ": x += y");
                    close(read(cpu, cout), read(g, gout), 1e-6, 1e-5, what + ": normed");
                }
    }

    /**
     * Biases then RoPE over a batch of a prompt chunk and decode rows at scattered positions, with BF16 biases and
     * without any: within 1e-6 absolute of the CPU's addBias ×3 and rope (values below 2 in size: the same F32
     * operations on both, where nvcc may contract a·cos − b·sin into one fused multiply-add, one rounding fewer:
     * ≤ 2⁻²³·2 ≈ 2.4e-7). v gets its bias only.
     */
    @ParameterizedTest
    @MethodSource("targets")
    void biasRopeEqualsBiasesThenRopeOnTheCpu(String target) {
        CudaBackend g = backends.gpu(target);
        Backend cpu = backends.cpu;
        int headDim = 16, heads = 4, kvHeads = 2, qW = heads * headDim, kvW = kvHeads * headDim, maxPos = 40;
        int[] chunkRows = {3, 1, 1, 2}, startPos = {0, 17, 5, 30};
        int T = 7;
        float[] cos = new float[maxPos * headDim / 2], sin = new float[cos.length];
        for (int p = 0; p < maxPos; p++)
            for (int i = 0; i < headDim / 2; i++) {
                double a = p * Math.pow(10000, -2.0 * i / headDim);
                cos[p * headDim / 2 + i] = (float) Math.cos(a);
                sin[p * headDim / 2 + i] = (float) Math.sin(a);
            }
        for (boolean biases : new boolean[] {true, false}) {
            float[] q = random(T * qW), k = random(T * kvW), v = random(T * kvW), bq = random(qW), bk = random(kvW), bv = random(kvW);
            Tensor[] gt = {tensor(g, DType.F32, q, T, qW), tensor(g, DType.F32, k, T, kvW), tensor(g, DType.F32, v, T, kvW)};
            Tensor[] ct = {tensor(cpu, DType.F32, q, T, qW), tensor(cpu, DType.F32, k, T, kvW), tensor(cpu, DType.F32, v, T, kvW)};
            Tensor gbq = null, gbk = null, gbv = null, cbq = null, cbk = null, cbv = null;
            if (biases) {
                gbq = tensor(g, DType.BF16, bq.clone(), qW);
                gbk = tensor(g, DType.BF16, bk.clone(), kvW);
                gbv = tensor(g, DType.BF16, bv.clone(), kvW);
                cbq = tensor(cpu, DType.BF16, bq.clone(), qW);
                cbk = tensor(cpu, DType.BF16, bk.clone(), kvW);
                cbv = tensor(cpu, DType.BF16, bv.clone(), kvW);
            }
            Tensor gcos = tensor(g, DType.F32, cos, maxPos, headDim / 2), gsin = tensor(g, DType.F32, sin, maxPos, headDim / 2);
            Tensor ccos = tensor(cpu, DType.F32, cos, maxPos, headDim / 2), csin = tensor(cpu, DType.F32, sin, maxPos, headDim / 2);
            int before = launches(g);
            g.biasRope(gt[0], gt[1], gt[2], gbq, gbk, gbv, headDim, gcos, gsin, chunkRows, startPos);
            if (before >= 0) assertEquals(1, launches(g) - before, "one bias_rope launch");
            // The CPU backend runs Backend's default: the plain ops.
            cpu.biasRope(ct[0], ct[1], ct[2], cbq, cbk, cbv, headDim, ccos, csin, chunkRows, startPos);
            String[] names = {"q", "k", "v"};
            for (int i = 0; i < 3; i++)
                close(read(cpu, ct[i]), read(g, gt[i]), 1e-6, 0, target + (biases ? " biases" : " no biases") + ": " + names[i]);
        }
        Tensor q = g.allocate(DType.F32, T, qW), kk = g.allocate(DType.F32, T, kvW), cos1 = g.allocate(DType.F32, maxPos, headDim / 2);
        assertThrows(IllegalArgumentException.class, () -> g.biasRope(q, kk, kk, null, null, null, headDim, cos1, cos1,
                new int[] {7}, new int[] {maxPos - 3}), "positions past the table are refused");
    }

    /**
     * Gate and up against BF16 matrices through the stacked split-bf16 GEMMs (12 rows: past the matvec kernel's 8),
     * silu·up read from the GEMMs' halves: the same as the plain matmul and siluMul on the same device within
     * 1e-5 relative + 1e-6 (the same F32 operations; nvcc may contract differently in the two kernels), and against
     * the CPU (exact F32 products of the BF16 weights) within the split's own bound: x keeps 16 mantissa bits, so
     * each projection is off by at most 2⁻¹⁶·Σₖ|xₖ·wₖ| (doubled for the F32 sums), which the test computes per element and
     * carries through silu(g)·u (|silu'| ≤ 1.1). On the emulator: one split, two GEMMs, one silu_mul_halves.
     */
    @ParameterizedTest
    @MethodSource("targets")
    void gateUpSiluMulReadsTheStackedGemmHalves(String target) {
        CudaBackend g = backends.gpu(target);
        Backend cpu = backends.cpu;
        int T = 12, K = 96, N = 80;
        float[] x = random(T * K), wg = random(N * K), wu = random(N * K);
        Tensor gx = tensor(g, DType.F32, x, T, K), cx = tensor(cpu, DType.F32, x, T, K);
        Tensor gwg = g.weight(new Tensor(DType.BF16, new int[] {N, K}, ReferenceCheck.bytes(DType.BF16, wg))); // rounds wg
        Tensor gwu = g.weight(new Tensor(DType.BF16, new int[] {N, K}, ReferenceCheck.bytes(DType.BF16, wu)));
        Tensor cwg = cpu.weight(new Tensor(DType.BF16, new int[] {N, K}, ReferenceCheck.bytes(DType.BF16, wg)));
        Tensor cwu = cpu.weight(new Tensor(DType.BF16, new int[] {N, K}, ReferenceCheck.bytes(DType.BF16, wu)));
        Tensor gate = g.allocate(DType.F32, T, N), up = g.allocate(DType.F32, T, N);
        EmulatedDevice emu = g.device() instanceof EmulatedDevice e ? e : null;
        int launches = launches(g), halves = emu == null ? 0 : emu.launches(Kernel.SILU_MUL_HALVES), gemms = emu == null ? 0 : emu.gemms();
        g.gateUpSiluMul(gx, gwg, gwu, gate, up);
        if (emu != null) {
            assertEquals(2, emu.launches() - launches, "split_bf16 and silu_mul_halves");
            assertEquals(1, emu.launches(Kernel.SILU_MUL_HALVES) - halves);
            assertEquals(2, emu.gemms() - gemms, "a stacked GEMM each for gate and up");
        }
        float[] fused = read(g, gate);
        Tensor pg = g.allocate(DType.F32, T, N), pu = g.allocate(DType.F32, T, N);
        g.matmul(gx, List.of(gwg, gwu), List.of(pg, pu));
        g.siluMul(pg, pu, pg);
        close(read(g, pg), fused, 1e-6, 1e-5, target + ": fused against the plain ops on the device");
        Tensor cg = cpu.allocate(DType.F32, T, N), cu = cpu.allocate(DType.F32, T, N);
        cpu.gateUpSiluMul(cx, cwg, cwu, cg, cu);
        float[] want = read(cpu, cg);
        for (int t = 0; t < T; t++)
            for (int n = 0; n < N; n++) {
                double sg = 0, su = 0, gv = 0, uv = 0;
                for (int k = 0; k < K; k++) {
                    sg += Math.abs(x[t * K + k] * wg[n * K + k]);
                    su += Math.abs(x[t * K + k] * wu[n * K + k]);
                    gv += x[t * K + k] * wg[n * K + k];
                    uv += x[t * K + k] * wu[n * K + k];
                }
                double eg = 2 * Math.scalb(sg, -16), eu = 2 * Math.scalb(su, -16);
                double tol = 1.1 * eg * (Math.abs(uv) + eu) + (Math.abs(gv) + eg) * eu + 1e-6;
                int i = t * N + n;
                assertTrue(Math.abs(want[i] - fused[i]) <= tol, target + " [" + t + "," + n + "]: CPU " + want[i] + ", fused " + fused[i] + ", bound " + tol);
            }
    }

    /**
     * Rows gathered from three tables of different widths (one past a block's 2048 columns) in one launch, and
     * scattered back: pure copies, so bit for bit what host copies of the same rows give.
     */
    @ParameterizedTest
    @MethodSource("targets")
    void gatherRowsCopiesEveryTablesRowsInOneLaunch(String target) {
        CudaBackend g = backends.gpu(target);
        int[] widths = {1000, 1024, 5000};
        int slots = 6;
        int[] from = {4, 0, 3, 5};
        float[][] host = new float[widths.length][];
        List<Tensor> src = new java.util.ArrayList<>(), dst = new java.util.ArrayList<>();
        for (int t = 0; t < widths.length; t++) {
            host[t] = random(slots * widths[t]);
            src.add(tensor(g, DType.F32, host[t], slots, widths[t]));
            dst.add(g.allocate(DType.F32, from.length + 2, widths[t]).rows(0, from.length));
        }
        int before = launches(g);
        g.gatherRows(src, from, dst, null);
        if (before >= 0) assertEquals(1, launches(g) - before, "one gather_rows launch for all tables");
        for (int t = 0; t < widths.length; t++) {
            float[] got = read(g, dst.get(t));
            for (int i = 0; i < from.length; i++)
                assertArrayEquals(java.util.Arrays.copyOfRange(host[t], from[i] * widths[t], (from[i] + 1) * widths[t]),
                        java.util.Arrays.copyOfRange(got, i * widths[t], (i + 1) * widths[t]), target + " table " + t + " row " + i);
        }
        // Scatter: gathered row i back into slot to[i] of a zeroed table; the other slots stay 0.
        int[] to = {2, 5, 1, 0};
        Tensor back = g.allocate(DType.F32, slots, widths[2]);
        g.gatherRows(List.of(dst.get(2)), null, List.of(back), to);
        float[] b = read(g, back);
        for (int s = 0; s < slots; s++) {
            int i = java.util.Arrays.stream(to).boxed().toList().indexOf(s);
            float[] want = i < 0 ? new float[widths[2]] : java.util.Arrays.copyOfRange(host[2], from[i] * widths[2], (from[i] + 1) * widths[2]);
            assertArrayEquals(want, java.util.Arrays.copyOfRange(b, s * widths[2], (s + 1) * widths[2]), target + " scattered slot " + s);
        }
        assertThrows(IllegalArgumentException.class, () -> g.gatherRows(List.of(src.get(0)), new int[] {slots}, List.of(dst.get(0).rows(0, 1)), null),
                "a row past the table is refused");
        assertThrows(IllegalArgumentException.class, () -> g.gatherRows(List.of(dst.get(2)), null, List.of(back), new int[] {1, 1, 2, 3}),
                "a destination row written twice is refused");
    }
}
