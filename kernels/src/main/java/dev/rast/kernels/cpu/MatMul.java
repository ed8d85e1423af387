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
 *   <li><b>Decode</b> (one token, or a batch of up to {@value #GEMM_MIN_TOKENS} - 1 sequences): matrix-vector,
 *       bound by reading the weights once. Each thread streams its share of weight rows; a group of rows stays in
 *       L1 while every token of the batch passes over it.</li>
 *   <li><b>Prefill and larger decode batches</b>: a blocked GEMM, bound by FMAs. Vectorized over tokens (padded to
 *       a multiple of 2·L, 32 on AVX-512): x is transposed once,
 *       and a block of eight weight rows is widened once and reused for every token: per k, two vectors of tokens
 *       meet eight broadcast weights in sixteen register accumulators.</li>
 * </ul>
 */
final class MatMul {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final int L = F.length();
    /** Weight rows per GEMM micro-tile. */
    static final int RB = 8;
    /** Weight rows per thread work item (partial sums for all tokens stay in a per-thread buffer). */
    static final int RG = 64;
    /** K pairs per chunk: 512 elements of xt for every token stay in L2 while a row group streams past. */
    static final int KC = 256;
    /** Tokens per GEMM micro-tile: two vectors. */
    static final int TB = 2 * L;
    /**
     * From this many tokens on, the GEMM path wins. Measured on Qwen2.5-0.5B's matrices (2 AVX-512 cores): at 16
     * tokens matrix-vector takes 176 ms per model step and the GEMM (padded to 32 tokens) ~200; at 20 tokens 216
     * against ~185.
     */
    static final int GEMM_MIN_TOKENS = 18;

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
        // Split work in groups of 4 rows so every thread runs the 4-row kernel. Tokens are the inner loop: a group's
        // rows come from memory once and stay in L1 for the other tokens, so a few tokens cost about what one does.
        int groups = (N + 3) / 4;
        pool.run(groups, (worker, g0, g1) -> {
            float[] row = wt == DType.F16 ? new float[K] : null;
            for (int g = g0; g < g1; g++) {
                int n0 = g * 4, rows = Math.min(4, N - n0);
                int t = 0;
                if (wt == DType.BF16) // two tokens per pass: each widened weight vector feeds both
                    for (; t + 1 < T; t += 2)
                        dotBf16Pair(w, n0, rows, K, fxe[t], fxo[t], xs[t], fxe[t + 1], fxo[t + 1], xs[t + 1], out, (long) t * N, (long) (t + 1) * N);
                for (; t < T; t++) {
                    long outRow = (long) t * N;
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
        float s = dev.rast.engine.math.Lanes.sum(acc);
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
                float s = dev.rast.engine.math.Lanes.sum(acc);
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
        float s0 = dev.rast.engine.math.Lanes.sum(a0), s1 = dev.rast.engine.math.Lanes.sum(a1);
        float s2 = dev.rast.engine.math.Lanes.sum(a2), s3 = dev.rast.engine.math.Lanes.sum(a3);
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

    /**
     * Two rows at a time (two sequential streams), unrolled four vectors deep so that enough loads are in flight.
     * Measured on the 2-core dev machine for a 151936×896 BF16 matrix: 28 GB/s, the same as a bare read loop; one
     * row per pass without unrolling reached 15 GB/s.
     */
    private static void dotBf16(MemorySegment w, int n0, int rows, int K, float[] xe, float[] xo, float[] x,
                                MemorySegment out, long outRow) {
        int pairs = K / 2;
        long rowBytes = (long) K * 2;
        for (int r = 0; r < rows; r += 2) {
            boolean two = r + 1 < rows;
            // Offsets into w itself: a slice per row pair costs an allocation, and the loop measured 7-9% slower.
            long ra = (long) (n0 + r) * rowBytes, rb = two ? ra + rowBytes : ra;
            FloatVector ae = FloatVector.zero(F), ao = ae, be = ae, bo = ae;
            int j = 0;
            for (; j <= pairs - 4 * L; j += 4 * L) {
                for (int u = 0; u < 4; u++) { // constant trip count: C2 unrolls it fully
                    int jj = j + u * L;
                    FloatVector xev = FloatVector.fromArray(F, xe, jj), xov = FloatVector.fromArray(F, xo, jj);
                    IntVector p = IntVector.fromMemorySegment(I, w, ra + 4L * jj, LE);
                    IntVector q = IntVector.fromMemorySegment(I, w, rb + 4L * jj, LE);
                    ae = p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xev, ae);
                    ao = p.and(0xFFFF0000).reinterpretAsFloats().fma(xov, ao);
                    be = q.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xev, be);
                    bo = q.and(0xFFFF0000).reinterpretAsFloats().fma(xov, bo);
                }
            }
            for (; j <= pairs - L; j += L) {
                FloatVector xev = FloatVector.fromArray(F, xe, j), xov = FloatVector.fromArray(F, xo, j);
                IntVector p = IntVector.fromMemorySegment(I, w, ra + 4L * j, LE);
                IntVector q = IntVector.fromMemorySegment(I, w, rb + 4L * j, LE);
                ae = p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xev, ae);
                ao = p.and(0xFFFF0000).reinterpretAsFloats().fma(xov, ao);
                be = q.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xev, be);
                bo = q.and(0xFFFF0000).reinterpretAsFloats().fma(xov, bo);
            }
            float sa = dev.rast.engine.math.Lanes.sum(ae.add(ao)), sb = dev.rast.engine.math.Lanes.sum(be.add(bo));
            for (int k = 2 * j; k < K; k++) {
                sa += bf16(w, ra + 2L * k) * x[k];
                sb += bf16(w, rb + 2L * k) * x[k];
            }
            out.setAtIndex(FLOAT, outRow + n0 + r, sa);
            if (two) out.setAtIndex(FLOAT, outRow + n0 + r + 1, sb);
        }
    }

    /** {@link #dotBf16} for two tokens at once (A and B): the weights are loaded and widened once for both. */
    private static void dotBf16Pair(MemorySegment w, int n0, int rows, int K, float[] xeA, float[] xoA, float[] xA,
                                    float[] xeB, float[] xoB, float[] xB, MemorySegment out, long outRowA, long outRowB) {
        int pairs = K / 2;
        long rowBytes = (long) K * 2;
        for (int r = 0; r < rows; r += 2) {
            boolean two = r + 1 < rows;
            long ra = (long) (n0 + r) * rowBytes, rb = two ? ra + rowBytes : ra;
            // [row a|b][token A|B]: one accumulator each, even and odd elements summed into the same one
            FloatVector aA = FloatVector.zero(F), aB = aA, bA = aA, bB = aA, aA2 = aA, aB2 = aA, bA2 = aA, bB2 = aA;
            int j = 0;
            for (; j <= pairs - 2 * L; j += 2 * L) {
                for (int u = 0; u < 2; u++) { // two independent sets of accumulators hide the FMA latency
                    int jj = j + u * L;
                    IntVector p = IntVector.fromMemorySegment(I, w, ra + 4L * jj, LE), q = IntVector.fromMemorySegment(I, w, rb + 4L * jj, LE);
                    FloatVector pe = p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), po = p.and(0xFFFF0000).reinterpretAsFloats();
                    FloatVector qe = q.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), qo = q.and(0xFFFF0000).reinterpretAsFloats();
                    FloatVector eA = FloatVector.fromArray(F, xeA, jj), oA = FloatVector.fromArray(F, xoA, jj);
                    FloatVector eB = FloatVector.fromArray(F, xeB, jj), oB = FloatVector.fromArray(F, xoB, jj);
                    if (u == 0) {
                        aA = po.fma(oA, pe.fma(eA, aA)); aB = po.fma(oB, pe.fma(eB, aB));
                        bA = qo.fma(oA, qe.fma(eA, bA)); bB = qo.fma(oB, qe.fma(eB, bB));
                    } else {
                        aA2 = po.fma(oA, pe.fma(eA, aA2)); aB2 = po.fma(oB, pe.fma(eB, aB2));
                        bA2 = qo.fma(oA, qe.fma(eA, bA2)); bB2 = qo.fma(oB, qe.fma(eB, bB2));
                    }
                }
            }
            for (; j <= pairs - L; j += L) {
                IntVector p = IntVector.fromMemorySegment(I, w, ra + 4L * j, LE), q = IntVector.fromMemorySegment(I, w, rb + 4L * j, LE);
                FloatVector pe = p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), po = p.and(0xFFFF0000).reinterpretAsFloats();
                FloatVector qe = q.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), qo = q.and(0xFFFF0000).reinterpretAsFloats();
                FloatVector eA = FloatVector.fromArray(F, xeA, j), oA = FloatVector.fromArray(F, xoA, j);
                FloatVector eB = FloatVector.fromArray(F, xeB, j), oB = FloatVector.fromArray(F, xoB, j);
                aA = po.fma(oA, pe.fma(eA, aA)); aB = po.fma(oB, pe.fma(eB, aB));
                bA = qo.fma(oA, qe.fma(eA, bA)); bB = qo.fma(oB, qe.fma(eB, bB));
            }
            float saA = dev.rast.engine.math.Lanes.sum(aA.add(aA2)), saB = dev.rast.engine.math.Lanes.sum(aB.add(aB2));
            float sbA = dev.rast.engine.math.Lanes.sum(bA.add(bA2)), sbB = dev.rast.engine.math.Lanes.sum(bB.add(bB2));
            for (int k = 2 * j; k < K; k++) {
                float wa = bf16(w, ra + 2L * k), wb = bf16(w, rb + 2L * k);
                saA += wa * xA[k]; saB += wa * xB[k];
                sbA += wb * xA[k]; sbB += wb * xB[k];
            }
            out.setAtIndex(FLOAT, outRowA + n0 + r, saA);
            out.setAtIndex(FLOAT, outRowB + n0 + r, saB);
            if (two) {
                out.setAtIndex(FLOAT, outRowA + n0 + r + 1, sbA);
                out.setAtIndex(FLOAT, outRowB + n0 + r + 1, sbB);
            }
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

    /**
     * Vectorized over tokens. x is transposed once into {@code xt[k·tPad + t]} (T·K moves, small next to T·N·K
     * FMAs). Each thread takes groups of {@link #RG} weight rows and keeps their partial sums for all tokens in
     * {@code acc}; K is walked in chunks of {@link #KC} pairs so the chunk of xt (all tokens) stays in L2 while the
     * group's rows stream past it. Rows are widened per chunk into even/odd-element arrays (a shift or a mask for
     * BF16, no transposition); per k, two vectors of tokens meet eight broadcast weights in sixteen accumulators.
     */
    private static void gemm(WorkerPool pool, MemorySegment x, MemorySegment w, DType wt, MemorySegment out, int T, int N, int K) {
        int tPad = (T + TB - 1) / TB * TB;
        int kh = (K + 1) / 2;
        // Transpose with gathers: one vector of L tokens per k, stored contiguously (strided scalar stores cost
        // ~15% of a decode-batch GEMM). Lanes of padding tokens hold stale values: each lane is its own token, and
        // those are never written out.
        float[] xt = Scratch.get(Scratch.GEMM_XT, 2 * kh * tPad);
        float[] xa = Scratch.get(Scratch.GEMM_X, T * K);
        MemorySegment.copy(x, FLOAT, 0, xa, 0, T * K);
        // One extra zero row when K is odd, so the kernel can always step in (even, odd) pairs.
        if (K % 2 == 1) java.util.Arrays.fill(xt, K * tPad, (K + 1) * tPad, 0f);
        int[] tokenStride = new int[L];
        for (int i = 0; i < L; i++) tokenStride[i] = i * K;
        pool.run((K + 63) / 64, (worker, c0, c1) -> {
            int k0 = c0 * 64, k1 = Math.min(K, c1 * 64);
            for (int t0 = 0; t0 < T; t0 += L) {
                if (t0 + L <= T) {
                    for (int k = k0; k < k1; k++) FloatVector.fromArray(F, xa, t0 * K + k, tokenStride, 0).intoArray(xt, k * tPad + t0);
                } else {
                    for (int k = k0; k < k1; k++)
                        for (int t = t0; t < T; t++) xt[k * tPad + t] = xa[t * K + k];
                }
            }
        });
        int[] rowStride = new int[RG];
        for (int r = 0; r < RG; r++) rowStride[r] = r * tPad;
        int groups = (N + RG - 1) / RG;
        pool.run(groups, (worker, g0, g1) -> {
            float[] ev = Scratch.get(Scratch.GEMM_EVEN, RB * KC), od = Scratch.get(Scratch.GEMM_ODD, RB * KC);
            float[] acc = Scratch.get(Scratch.GEMM_ACC, RG * tPad);
            for (int g = g0; g < g1; g++) {
                int n0 = g * RG, rows = Math.min(RG, N - n0);
                java.util.Arrays.fill(acc, 0, RG * tPad, 0f);
                for (int j0 = 0; j0 < kh; j0 += KC) {
                    int jn = Math.min(KC, kh - j0);
                    for (int rb = 0; rb < rows; rb += RB) {
                        splitRows(w, wt, n0 + rb, Math.min(RB, rows - rb), K, j0, jn, ev, od);
                        for (int t0 = 0; t0 < tPad; t0 += TB) kernel(xt, tPad, t0, j0, jn, ev, od, acc, rb * tPad + t0);
                    }
                }
                for (int t = 0; t < T; t++) { // acc is [row][token]; out is [token][row]: gather L rows of one token
                    int r = 0;
                    for (; r <= rows - L; r += L)
                        FloatVector.fromArray(F, acc, t, rowStride, r).intoMemorySegment(out, ((long) t * N + n0 + r) * 4, LE);
                    for (; r < rows; r++) out.setAtIndex(FLOAT, (long) t * N + n0 + r, acc[r * tPad + t]);
                }
            }
        });
    }

    /** For pairs j0..j0+jn: ev[r·jn + j] = w[n0+r, 2(j0+j)], od[...] = w[n0+r, 2(j0+j)+1]; missing rows/columns are 0. */
    private static void splitRows(MemorySegment w, DType wt, int n0, int rows, int K, int j0, int jn, float[] ev, float[] od) {
        for (int r = 0; r < RB; r++) {
            int base = r * jn;
            if (r >= rows) {
                java.util.Arrays.fill(ev, base, base + jn, 0f);
                java.util.Arrays.fill(od, base, base + jn, 0f);
                continue;
            }
            long row = (long) (n0 + r) * K;
            int j = 0;
            if (wt == DType.BF16) {
                // A little-endian int holds elements 2j (low half) and 2j+1 (high half): widening is a shift or a mask.
                int full = Math.min(jn, K / 2 - j0); // pairs with both elements present
                for (; j <= full - L; j += L) {
                    IntVector p = IntVector.fromMemorySegment(I, w, 2 * row + 4L * (j0 + j), LE);
                    p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(ev, base + j);
                    p.and(0xFFFF0000).reinterpretAsFloats().intoArray(od, base + j);
                }
            }
            for (; j < jn; j++) {
                int k = 2 * (j0 + j);
                ev[base + j] = element(w, wt, row + k);
                od[base + j] = k + 1 < K ? element(w, wt, row + k + 1) : 0f;
            }
        }
    }

    private static float element(MemorySegment w, DType wt, long index) {
        return switch (wt) {
            case F32 -> w.getAtIndex(FLOAT, index);
            case BF16 -> bf16(w, 2 * index);
            case F16 -> Float.float16ToFloat(w.getAtIndex(SHORT, index));
        };
    }

    /**
     * Adds RB rows × TB tokens over pairs j0..j0+jn into acc[accOff + r·tPad + t]. Element k = 2j takes ev,
     * k = 2j+1 takes od.
     */
    private static void kernel(float[] xt, int tPad, int t0, int j0, int jn, float[] ev, float[] od, float[] acc, int accOff) {
        int a0 = accOff, a1 = a0 + tPad, a2 = a1 + tPad, a3 = a2 + tPad, a4 = a3 + tPad, a5 = a4 + tPad, a6 = a5 + tPad, a7 = a6 + tPad;
        FloatVector c00 = FloatVector.fromArray(F, acc, a0), c01 = FloatVector.fromArray(F, acc, a0 + L);
        FloatVector c10 = FloatVector.fromArray(F, acc, a1), c11 = FloatVector.fromArray(F, acc, a1 + L);
        FloatVector c20 = FloatVector.fromArray(F, acc, a2), c21 = FloatVector.fromArray(F, acc, a2 + L);
        FloatVector c30 = FloatVector.fromArray(F, acc, a3), c31 = FloatVector.fromArray(F, acc, a3 + L);
        FloatVector c40 = FloatVector.fromArray(F, acc, a4), c41 = FloatVector.fromArray(F, acc, a4 + L);
        FloatVector c50 = FloatVector.fromArray(F, acc, a5), c51 = FloatVector.fromArray(F, acc, a5 + L);
        FloatVector c60 = FloatVector.fromArray(F, acc, a6), c61 = FloatVector.fromArray(F, acc, a6 + L);
        FloatVector c70 = FloatVector.fromArray(F, acc, a7), c71 = FloatVector.fromArray(F, acc, a7 + L);
        int w0 = -j0, w1 = w0 + jn, w2 = w1 + jn, w3 = w2 + jn, w4 = w3 + jn, w5 = w4 + jn, w6 = w5 + jn, w7 = w6 + jn;
        for (int j = j0; j < j0 + jn; j++) {
            int xo;
            FloatVector x0, x1, b;
            // k = 2j: even elements
            xo = (2 * j + 0) * tPad + t0;
            x0 = FloatVector.fromArray(F, xt, xo);
            x1 = FloatVector.fromArray(F, xt, xo + L);
            b = FloatVector.broadcast(F, ev[w0 + j]); c00 = x0.fma(b, c00); c01 = x1.fma(b, c01);
            b = FloatVector.broadcast(F, ev[w1 + j]); c10 = x0.fma(b, c10); c11 = x1.fma(b, c11);
            b = FloatVector.broadcast(F, ev[w2 + j]); c20 = x0.fma(b, c20); c21 = x1.fma(b, c21);
            b = FloatVector.broadcast(F, ev[w3 + j]); c30 = x0.fma(b, c30); c31 = x1.fma(b, c31);
            b = FloatVector.broadcast(F, ev[w4 + j]); c40 = x0.fma(b, c40); c41 = x1.fma(b, c41);
            b = FloatVector.broadcast(F, ev[w5 + j]); c50 = x0.fma(b, c50); c51 = x1.fma(b, c51);
            b = FloatVector.broadcast(F, ev[w6 + j]); c60 = x0.fma(b, c60); c61 = x1.fma(b, c61);
            b = FloatVector.broadcast(F, ev[w7 + j]); c70 = x0.fma(b, c70); c71 = x1.fma(b, c71);
            // k = 2j + 1: odd elements (a zero row of xt and of od when K is odd)
            xo = (2 * j + 1) * tPad + t0;
            x0 = FloatVector.fromArray(F, xt, xo);
            x1 = FloatVector.fromArray(F, xt, xo + L);
            b = FloatVector.broadcast(F, od[w0 + j]); c00 = x0.fma(b, c00); c01 = x1.fma(b, c01);
            b = FloatVector.broadcast(F, od[w1 + j]); c10 = x0.fma(b, c10); c11 = x1.fma(b, c11);
            b = FloatVector.broadcast(F, od[w2 + j]); c20 = x0.fma(b, c20); c21 = x1.fma(b, c21);
            b = FloatVector.broadcast(F, od[w3 + j]); c30 = x0.fma(b, c30); c31 = x1.fma(b, c31);
            b = FloatVector.broadcast(F, od[w4 + j]); c40 = x0.fma(b, c40); c41 = x1.fma(b, c41);
            b = FloatVector.broadcast(F, od[w5 + j]); c50 = x0.fma(b, c50); c51 = x1.fma(b, c51);
            b = FloatVector.broadcast(F, od[w6 + j]); c60 = x0.fma(b, c60); c61 = x1.fma(b, c61);
            b = FloatVector.broadcast(F, od[w7 + j]); c70 = x0.fma(b, c70); c71 = x1.fma(b, c71);
        }
        c00.intoArray(acc, a0); c01.intoArray(acc, a0 + L);
        c10.intoArray(acc, a1); c11.intoArray(acc, a1 + L);
        c20.intoArray(acc, a2); c21.intoArray(acc, a2 + L);
        c30.intoArray(acc, a3); c31.intoArray(acc, a3 + L);
        c40.intoArray(acc, a4); c41.intoArray(acc, a4 + L);
        c50.intoArray(acc, a5); c51.intoArray(acc, a5 + L);
        c60.intoArray(acc, a6); c61.intoArray(acc, a6 + L);
        c70.intoArray(acc, a7); c71.intoArray(acc, a7 + L);
    }
}
