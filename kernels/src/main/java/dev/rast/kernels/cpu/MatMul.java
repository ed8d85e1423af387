package dev.rast.kernels.cpu;

import dev.rast.engine.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code out[t, n] = Σ_k x[t, k] · w[n, k]} with F32 x and out, and w in F32, BF16 or F16. All accumulation is
 * F32; narrow weights are widened in registers.
 *
 * <p>Two shapes of work, because they are bound by different things:
 * <ul>
 *   <li><b>Decode</b> (few tokens): matrix-vector, bound by reading the weights once. Each thread streams its
 *       share of weight rows; four rows share each load of x.</li>
 *   <li><b>Prefill</b> (many tokens): a blocked GEMM, bound by FMAs. A block of {@code 2·lanes} weight rows is
 *       widened once into a small k-major F32 panel (L2-resident), then reused for every token: per k, two panel
 *       vectors meet eight broadcast x values in sixteen register accumulators.</li>
 * </ul>
 */
final class MatMul {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final int L = F.length();
    /** Rows per GEMM panel: two vectors. */
    static final int NB = 2 * L;
    /** Tokens per GEMM micro-tile. */
    static final int TB = 8;
    /** From this many tokens on, the GEMM path wins over repeated matrix-vector. */
    static final int GEMM_MIN_TOKENS = 8;

    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private MatMul() {}

    static void run(WorkerPool pool, MemorySegment x, MemorySegment w, DType wt, MemorySegment out, int T, int N, int K) {
        if (T >= GEMM_MIN_TOKENS) gemm(pool, x, w, wt, out, T, N, K);
        else matvec(pool, x, w, wt, out, T, N, K);
    }

    // ---------------------------------------------------------------- decode: matrix-vector

    private static void matvec(WorkerPool pool, MemorySegment x, MemorySegment w, DType wt, MemorySegment out, int T, int N, int K) {
        float[][] xs = new float[T][];
        for (int t = 0; t < T; t++) xs[t] = x.asSlice((long) t * K * 4, (long) K * 4).toArray(ValueLayout.JAVA_FLOAT);
        // BF16 rows are read as int pairs: the low half is element 2j, the high half 2j+1 (little-endian). Split x
        // into even and odd elements once, so that each half-word lines up with its x without any lane shuffles.
        float[][] xe = null, xo = null;
        if (wt == DType.BF16) {
            xe = new float[T][K / 2];
            xo = new float[T][K / 2];
            for (int t = 0; t < T; t++)
                for (int j = 0; j < K / 2; j++) { xe[t][j] = xs[t][2 * j]; xo[t][j] = xs[t][2 * j + 1]; }
        }
        float[][] fxe = xe, fxo = xo;
        // Split work in groups of 4 rows so every thread runs the 4-row kernel.
        int groups = (N + 3) / 4;
        pool.run(groups, (worker, g0, g1) -> {
            float[] row = wt == DType.F16 ? new float[K] : null;
            for (int t = 0; t < T; t++) {
                long outRow = (long) t * N;
                for (int g = g0; g < g1; g++) {
                    int n0 = g * 4, rows = Math.min(4, N - n0);
                    switch (wt) {
                        case F32 -> dotF32(w, n0, rows, K, xs[t], out, outRow);
                        case BF16 -> dotBf16(w, n0, rows, K, fxe[t], fxo[t], xs[t], out, outRow);
                        case F16 -> {
                            for (int r = 0; r < rows; r++) {
                                widenRow(w, DType.F16, n0 + r, K, row, 0);
                                out.setAtIndex(FLOAT, outRow + n0 + r, dot(row, xs[t], K));
                            }
                        }
                    }
                }
            }
        });
    }

    private static float dot(float[] a, float[] b, int K) {
        FloatVector acc = FloatVector.zero(F);
        int k = 0;
        for (; k <= K - L; k += L) acc = FloatVector.fromArray(F, a, k).fma(FloatVector.fromArray(F, b, k), acc);
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; k < K; k++) s += a[k] * b[k];
        return s;
    }

    private static void dotF32(MemorySegment w, int n0, int rows, int K, float[] x, MemorySegment out, long outRow) {
        if (rows < 4) {
            for (int r = 0; r < rows; r++) {
                long base = (long) (n0 + r) * K * 4;
                FloatVector acc = FloatVector.zero(F);
                int k = 0;
                for (; k <= K - L; k += L)
                    acc = FloatVector.fromMemorySegment(F, w, base + 4L * k, LE).fma(FloatVector.fromArray(F, x, k), acc);
                float s = acc.reduceLanes(VectorOperators.ADD);
                for (; k < K; k++) s += w.get(FLOAT, base + 4L * k) * x[k];
                out.setAtIndex(FLOAT, outRow + n0 + r, s);
            }
            return;
        }
        long b0 = (long) n0 * K * 4, b1 = b0 + K * 4L, b2 = b1 + K * 4L, b3 = b2 + K * 4L;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int k = 0;
        for (; k <= K - L; k += L) {
            FloatVector xv = FloatVector.fromArray(F, x, k);
            long o = 4L * k;
            a0 = FloatVector.fromMemorySegment(F, w, b0 + o, LE).fma(xv, a0);
            a1 = FloatVector.fromMemorySegment(F, w, b1 + o, LE).fma(xv, a1);
            a2 = FloatVector.fromMemorySegment(F, w, b2 + o, LE).fma(xv, a2);
            a3 = FloatVector.fromMemorySegment(F, w, b3 + o, LE).fma(xv, a3);
        }
        float s0 = a0.reduceLanes(VectorOperators.ADD), s1 = a1.reduceLanes(VectorOperators.ADD);
        float s2 = a2.reduceLanes(VectorOperators.ADD), s3 = a3.reduceLanes(VectorOperators.ADD);
        for (; k < K; k++) {
            long o = 4L * k;
            s0 += w.get(FLOAT, b0 + o) * x[k];
            s1 += w.get(FLOAT, b1 + o) * x[k];
            s2 += w.get(FLOAT, b2 + o) * x[k];
            s3 += w.get(FLOAT, b3 + o) * x[k];
        }
        out.setAtIndex(FLOAT, outRow + n0, s0);
        out.setAtIndex(FLOAT, outRow + n0 + 1, s1);
        out.setAtIndex(FLOAT, outRow + n0 + 2, s2);
        out.setAtIndex(FLOAT, outRow + n0 + 3, s3);
    }

    private static void dotBf16(MemorySegment w, int n0, int rows, int K, float[] xe, float[] xo, float[] x,
                                MemorySegment out, long outRow) {
        int pairs = K / 2;
        for (int r0 = 0; r0 < rows; r0 += 2) {
            boolean two = r0 + 1 < rows;
            long b0 = (long) (n0 + r0) * K * 2, b1 = two ? b0 + K * 2L : b0;
            FloatVector e0 = FloatVector.zero(F), o0 = e0, e1 = e0, o1 = e0;
            int j = 0;
            for (; j <= pairs - L; j += L) {
                FloatVector xev = FloatVector.fromArray(F, xe, j), xov = FloatVector.fromArray(F, xo, j);
                long o = 4L * j;
                IntVector p0 = IntVector.fromMemorySegment(I, w, b0 + o, LE);
                IntVector p1 = IntVector.fromMemorySegment(I, w, b1 + o, LE);
                e0 = p0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xev, e0);
                o0 = p0.and(0xFFFF0000).reinterpretAsFloats().fma(xov, o0);
                e1 = p1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xev, e1);
                o1 = p1.and(0xFFFF0000).reinterpretAsFloats().fma(xov, o1);
            }
            float s0 = e0.add(o0).reduceLanes(VectorOperators.ADD), s1 = e1.add(o1).reduceLanes(VectorOperators.ADD);
            for (int k = 2 * j; k < K; k++) {
                s0 += bf16(w, b0 + 2L * k) * x[k];
                s1 += bf16(w, b1 + 2L * k) * x[k];
            }
            out.setAtIndex(FLOAT, outRow + n0 + r0, s0);
            if (two) out.setAtIndex(FLOAT, outRow + n0 + r0 + 1, s1);
        }
    }

    private static float bf16(MemorySegment w, long byteOffset) {
        return Float.intBitsToFloat((w.get(SHORT, byteOffset) & 0xFFFF) << 16);
    }

    /** Widens row {@code n} of w (K elements) into {@code dst[off..off+K)}. */
    static void widenRow(MemorySegment w, DType wt, int n, int K, float[] dst, int off) {
        long base = (long) n * K * wt.bytes();
        switch (wt) {
            case F32 -> MemorySegment.copy(w, FLOAT, base, dst, off, K);
            case BF16 -> { for (int k = 0; k < K; k++) dst[off + k] = bf16(w, base + 2L * k); }
            case F16 -> { for (int k = 0; k < K; k++) dst[off + k] = Float.float16ToFloat(w.get(SHORT, base + 2L * k)); }
        }
    }

    // ---------------------------------------------------------------- prefill: blocked GEMM

    private static void gemm(WorkerPool pool, MemorySegment x, MemorySegment w, DType wt, MemorySegment out, int T, int N, int K) {
        float[] xa = x.asSlice(0, (long) T * K * 4).toArray(ValueLayout.JAVA_FLOAT);
        int blocks = (N + NB - 1) / NB;
        pool.run(blocks, (worker, blk0, blk1) -> {
            float[] panel = new float[K * NB];
            float[] row = new float[K];
            float[] tile = new float[TB * NB];
            for (int blk = blk0; blk < blk1; blk++) {
                int n0 = blk * NB, rows = Math.min(NB, N - n0);
                pack(w, wt, n0, rows, K, panel, row);
                int t = 0;
                for (; t + TB <= T; t += TB) {
                    kernel8(xa, t, K, panel, tile);
                    for (int i = 0; i < TB; i++) store(tile, i * NB, out, (long) (t + i) * N + n0, rows);
                }
                for (; t < T; t++) {
                    kernel1(xa, t, K, panel, tile);
                    store(tile, 0, out, (long) t * N + n0, rows);
                }
            }
        });
    }

    /** Panel layout: {@code panel[k·NB + r] = w[n0 + r, k]}, zero for rows past N. */
    private static void pack(MemorySegment w, DType wt, int n0, int rows, int K, float[] panel, float[] row) {
        if (rows < NB) java.util.Arrays.fill(panel, 0f);
        for (int r = 0; r < rows; r++) {
            widenRow(w, wt, n0 + r, K, row, 0);
            for (int k = 0; k < K; k++) panel[k * NB + r] = row[k];
        }
    }

    private static void store(float[] tile, int off, MemorySegment out, long outIndex, int rows) {
        MemorySegment.copy(tile, off, out, FLOAT, outIndex * 4, rows);
    }

    /** Eight tokens × NB rows: 16 accumulators, two panel loads and eight broadcasts per k. */
    private static void kernel8(float[] x, int t0, int K, float[] panel, float[] tile) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        FloatVector c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
        int x0 = t0 * K, x1 = x0 + K, x2 = x1 + K, x3 = x2 + K, x4 = x3 + K, x5 = x4 + K, x6 = x5 + K, x7 = x6 + K;
        for (int k = 0; k < K; k++) {
            FloatVector w0 = FloatVector.fromArray(F, panel, k * NB), w1 = FloatVector.fromArray(F, panel, k * NB + L);
            FloatVector b;
            b = FloatVector.broadcast(F, x[x0 + k]); c00 = w0.fma(b, c00); c01 = w1.fma(b, c01);
            b = FloatVector.broadcast(F, x[x1 + k]); c10 = w0.fma(b, c10); c11 = w1.fma(b, c11);
            b = FloatVector.broadcast(F, x[x2 + k]); c20 = w0.fma(b, c20); c21 = w1.fma(b, c21);
            b = FloatVector.broadcast(F, x[x3 + k]); c30 = w0.fma(b, c30); c31 = w1.fma(b, c31);
            b = FloatVector.broadcast(F, x[x4 + k]); c40 = w0.fma(b, c40); c41 = w1.fma(b, c41);
            b = FloatVector.broadcast(F, x[x5 + k]); c50 = w0.fma(b, c50); c51 = w1.fma(b, c51);
            b = FloatVector.broadcast(F, x[x6 + k]); c60 = w0.fma(b, c60); c61 = w1.fma(b, c61);
            b = FloatVector.broadcast(F, x[x7 + k]); c70 = w0.fma(b, c70); c71 = w1.fma(b, c71);
        }
        c00.intoArray(tile, 0); c01.intoArray(tile, L);
        c10.intoArray(tile, NB); c11.intoArray(tile, NB + L);
        c20.intoArray(tile, 2 * NB); c21.intoArray(tile, 2 * NB + L);
        c30.intoArray(tile, 3 * NB); c31.intoArray(tile, 3 * NB + L);
        c40.intoArray(tile, 4 * NB); c41.intoArray(tile, 4 * NB + L);
        c50.intoArray(tile, 5 * NB); c51.intoArray(tile, 5 * NB + L);
        c60.intoArray(tile, 6 * NB); c61.intoArray(tile, 6 * NB + L);
        c70.intoArray(tile, 7 * NB); c71.intoArray(tile, 7 * NB + L);
    }

    private static void kernel1(float[] x, int t, int K, float[] panel, float[] tile) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0;
        int xo = t * K;
        for (int k = 0; k < K; k++) {
            FloatVector b = FloatVector.broadcast(F, x[xo + k]);
            c0 = FloatVector.fromArray(F, panel, k * NB).fma(b, c0);
            c1 = FloatVector.fromArray(F, panel, k * NB + L).fma(b, c1);
        }
        c0.intoArray(tile, 0);
        c1.intoArray(tile, L);
    }
}
