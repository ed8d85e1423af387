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
 * {@code out[t, n] = Σ_k x[t, k] · w[n, k]} with F32 x and out, and w in F32, BF16 or F16, read in place from the
 * checkpoint's row-major layout. All accumulation is F32; narrow weights are widened in registers. BF16 and F32
 * weights normally run on {@link PackedMatMul} (repacked at load); this path serves F16 weights, and any weight
 * left in place because memory was short or packing was turned off.
 *
 * <p>Two shapes of work, because they are bound by different things:
 * <ul>
 *   <li><b>Decode</b> (one token, or a batch of up to {@value #GEMM_MIN_TOKENS} - 1 sequences): matrix-vector,
 *       bound by reading the weights once. Each thread streams its share of weight rows; a group of rows stays in
 *       L1 while every token of the batch passes over it.</li>
 *   <li><b>Prefill and larger decode batches</b>: a blocked GEMM, bound by FMAs. Vectorized over tokens (padded to
 *       a multiple of 2·L, 32 on AVX-512): x is packed once into token tiles,
 *       and a block of twelve weight rows is widened once and reused for every token: per k, two vectors of tokens
 *       meet twelve broadcast weights in 24 register accumulators.</li>
 * </ul>
 */
final class MatMul {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final int L = F.length();
    /**
     * Weight rows per GEMM micro-tile: 12 rows × 2 vectors of tokens are 24 register accumulators, which leaves
     * AVX-512's 32 registers room for the token vectors and a broadcast; 12 rows beat 8 in cache
     * (docs/benchmarks.md, "Batched decode and prefill, row-major").
     */
    static final int RB = 12;
    /** Row blocks per thread work item (their partial sums for all tokens stay in a per-thread buffer). */
    static final int GROUP_BLOCKS = 4;
    /** K pairs per chunk: 512 elements of xp for every token stay in L2 while a row group streams past. */
    static final int KC = 256;
    /** Tokens per GEMM pass over the weights (see {@link #gemm}). */
    static final int GEMM_SLICE = 256;
    /**
     * Row streams per thread in matrix-vector. One sequential stream per core leaves the memory system idle while
     * the core computes; four streams, each followed by the hardware prefetcher, keep more reads in flight. A C loop
     * using the native BF16 dot instruction behaves the same (docs/benchmarks.md, "Weights repacked into row blocks").
     */
    static final int STREAMS = 4;
    /** Tokens per GEMM micro-tile: two vectors. */
    static final int TB = 2 * L;
    /**
     * From this many tokens on, the GEMM path is faster than matrix-vector on Qwen2.5-0.5B's matrices (2 AVX-512
     * cores; docs/benchmarks.md, "Batch-1 decode, row-major").
     */
    static final int GEMM_MIN_TOKENS = 18;

    /** Lane indexes 0, 2, 4, … and 1, 3, 5, … into the concatenation of two vectors (for {@code selectFrom}). */
    private static final FloatVector EVEN_LANES = FloatVector.zero(F).addIndex(2), ODD_LANES = EVEN_LANES.add(1f);

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
        // Work is handed out in groups of 4 rows (a piece is a range of groups).
        int groups = (N + 3) / 4;
        pool.run(groups, (worker, g0, g1) -> {
            int r0 = g0 * 4, r1 = Math.min(g1 * 4, N);
            if (wt == DType.F16) {
                float[] row = new float[K];
                for (int r = r0; r < r1; r++) {
                    widenRow(w, DType.F16, r, K, row, 0);
                    for (int t = 0; t < T; t++) out.setAtIndex(FLOAT, (long) t * N + r, dot(row, xs[t], K));
                }
                return;
            }
            matvecStreams(w, wt, r0, r1, K, T, fxe, fxo, xs, out, N);
        });
    }

    /**
     * Rows [r0, r1) of a BF16 or F32 matrix as {@value #STREAMS} interleaved streams: the range is cut into that
     * many consecutive spans, and each pass takes the next row of every span. The hardware prefetcher follows each
     * stream separately, so more reads are in flight than one sequential stream gets (docs/benchmarks.md).
     * The tokens are the inner loop: the four rows come from memory once and stay in L1 for the other tokens.
     */
    private static void matvecStreams(MemorySegment w, DType wt, int r0, int r1, int K, int T, float[][] xe, float[][] xo,
                                      float[][] xs, MemorySegment out, int N) {
        int span = (r1 - r0 + STREAMS - 1) / STREAMS;
        for (int i = 0; i < span; i++) {
            // A row past r1 (the last span may be short) is replaced by the last row: computed twice, same value.
            int a = r0 + i, b = Math.min(a + span, r1 - 1), c = Math.min(a + 2 * span, r1 - 1), d = Math.min(a + 3 * span, r1 - 1);
            if (wt == DType.F32) {
                for (int t = 0; t < T; t++) dotF32(w, a, b, c, d, K, xs[t], out, (long) t * N);
                continue;
            }
            int t = 0;
            for (; t + 1 < T; t += 2) { // two tokens per pass: each widened weight vector feeds both
                dotBf16Pair(w, a, b, K, xe[t], xo[t], xs[t], xe[t + 1], xo[t + 1], xs[t + 1], out, (long) t * N, (long) (t + 1) * N);
                dotBf16Pair(w, c, d, K, xe[t], xo[t], xs[t], xe[t + 1], xo[t + 1], xs[t + 1], out, (long) t * N, (long) (t + 1) * N);
            }
            if (t < T) dotBf16Quad(w, a, b, c, d, K, xe[t], xo[t], xs[t], out, (long) t * N);
        }
    }

    /** Four BF16 rows against one token: even and odd elements in separate accumulators, summed at the end. */
    private static void dotBf16Quad(MemorySegment w, int a, int b, int c, int d, int K, float[] xe, float[] xo, float[] x,
                                    MemorySegment out, long outRow) {
        int pairs = K / 2;
        long rowBytes = (long) K * 2;
        long ra = a * rowBytes, rb = b * rowBytes, rc = c * rowBytes, rd = d * rowBytes;
        FloatVector ae = FloatVector.zero(F), ao = ae, be = ae, bo = ae, ce = ae, co = ae, de = ae, dO = ae;
        int j = 0;
        for (; j <= pairs - L; j += L) {
            FloatVector xev = FloatVector.fromArray(F, xe, j), xov = FloatVector.fromArray(F, xo, j);
            IntVector p = IntVector.fromMemorySegment(I, w, ra + 4L * j, LE);
            IntVector q = IntVector.fromMemorySegment(I, w, rb + 4L * j, LE);
            IntVector u = IntVector.fromMemorySegment(I, w, rc + 4L * j, LE);
            IntVector v = IntVector.fromMemorySegment(I, w, rd + 4L * j, LE);
            ae = p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xev, ae);
            ao = p.and(0xFFFF0000).reinterpretAsFloats().fma(xov, ao);
            be = q.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xev, be);
            bo = q.and(0xFFFF0000).reinterpretAsFloats().fma(xov, bo);
            ce = u.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xev, ce);
            co = u.and(0xFFFF0000).reinterpretAsFloats().fma(xov, co);
            de = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xev, de);
            dO = v.and(0xFFFF0000).reinterpretAsFloats().fma(xov, dO);
        }
        float sa = dev.rast.engine.math.Lanes.sum(ae.add(ao)), sb = dev.rast.engine.math.Lanes.sum(be.add(bo));
        float sc = dev.rast.engine.math.Lanes.sum(ce.add(co)), sd = dev.rast.engine.math.Lanes.sum(de.add(dO));
        for (int k = 2 * j; k < K; k++) {
            sa += bf16(w, ra + 2L * k) * x[k];
            sb += bf16(w, rb + 2L * k) * x[k];
            sc += bf16(w, rc + 2L * k) * x[k];
            sd += bf16(w, rd + 2L * k) * x[k];
        }
        out.setAtIndex(FLOAT, outRow + a, sa);
        out.setAtIndex(FLOAT, outRow + b, sb);
        out.setAtIndex(FLOAT, outRow + c, sc);
        out.setAtIndex(FLOAT, outRow + d, sd);
    }

    private static float dot(float[] a, float[] b, int K) {
        FloatVector acc = FloatVector.zero(F);
        int k = 0;
        for (; k <= K - L; k += L) acc = FloatVector.fromArray(F, a, k).fma(FloatVector.fromArray(F, b, k), acc);
        float s = dev.rast.engine.math.Lanes.sum(acc);
        for (; k < K; k++) s += a[k] * b[k];
        return s;
    }

    /** Four rows of an F32 matrix against one token, one accumulator per row. */
    private static void dotF32(MemorySegment w, int a, int b, int c, int d, int K, float[] x, MemorySegment out, long outRow) {
        long rowBytes = K * 4L;
        long b0 = a * rowBytes, b1 = b * rowBytes, b2 = c * rowBytes, b3 = d * rowBytes;
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
        out.setAtIndex(FLOAT, outRow + a, s0);
        out.setAtIndex(FLOAT, outRow + b, s1);
        out.setAtIndex(FLOAT, outRow + c, s2);
        out.setAtIndex(FLOAT, outRow + d, s3);
    }

    /** {@link #dotBf16Quad} for two rows and two tokens at once (A and B): the weights are loaded and widened once for both. */
    private static void dotBf16Pair(MemorySegment w, int rowA, int rowB, int K, float[] xeA, float[] xoA, float[] xA,
                                    float[] xeB, float[] xoB, float[] xB, MemorySegment out, long outRowA, long outRowB) {
        int pairs = K / 2;
        long rowBytes = (long) K * 2;
        long ra = rowA * rowBytes, rb = rowB * rowBytes;
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
        out.setAtIndex(FLOAT, outRowA + rowA, saA);
        out.setAtIndex(FLOAT, outRowB + rowA, saB);
        out.setAtIndex(FLOAT, outRowA + rowB, sbA);
        out.setAtIndex(FLOAT, outRowB + rowB, sbB);
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
     * Vectorized over tokens. x is packed once into token tiles of {@value #TB}: {@code xp[(tile·K2 + k)·TB + t]}
     * (T·K moves, small next to T·N·K FMAs). Work is shared out in blocks of {@value #RB} weight rows; a thread
     * takes {@value #GROUP_BLOCKS} blocks at a time and keeps their partial sums for all tokens in {@code acc}. K is
     * walked in chunks of {@value #KC} pairs so that the chunk of xp (all tokens) stays in L2 while the rows stream
     * past it. Each block's chunk is widened once into even/odd-element runs (a shift or a mask for BF16, no
     * transposition) and then meets every token tile: per k, two vectors of tokens and twelve broadcast weights
     * feed 24 register accumulators.
     */
    private static void gemm(WorkerPool pool, MemorySegment x, MemorySegment w, DType wt, MemorySegment out, int T, int N, int K) {
        // A long prompt runs in slices of tokens: the packed x of one K chunk for all of a slice's tokens must stay
        // in L2 (256 tokens × 512 elements × 4 B = 512 KiB) while the weight rows stream past it. Each slice reads
        // the weights again, which is cheap next to its FMAs (256 per weight).
        for (int t0 = 0; t0 < T; t0 += GEMM_SLICE) {
            int n = Math.min(GEMM_SLICE, T - t0);
            gemmSlice(pool, x.asSlice((long) t0 * K * 4, (long) n * K * 4), w, wt, out.asSlice((long) t0 * N * 4, (long) n * N * 4), n, N, K);
        }
    }

    private static void gemmSlice(WorkerPool pool, MemorySegment x, MemorySegment w, DType wt, MemorySegment out, int T, int N, int K) {
        int tiles = (T + TB - 1) / TB, tPad = tiles * TB;
        int kh = (K + 1) / 2, K2 = 2 * kh; // pairs; a zero element ends an odd K
        float[] xp = Scratch.get(Scratch.GEMM_XP, tiles * K2 * TB);
        float[] xa = Scratch.get(Scratch.GEMM_X, T * K);
        MemorySegment.copy(x, FLOAT, 0, xa, 0, T * K);
        int[] tokenStride = new int[L];
        for (int i = 0; i < L; i++) tokenStride[i] = i * K;
        // Pack with gathers: one vector of L tokens per k, stored contiguously (strided scalar stores cost ~15% of a
        // decode-batch GEMM). Lanes of padding tokens hold stale values: each lane is its own token, and those are
        // never written out.
        pool.run((K2 + 63) / 64, (worker, c0, c1) -> {
            int k0 = c0 * 64, k1 = Math.min(K2, c1 * 64);
            for (int t0 = 0; t0 < T; t0 += L) {
                int base = t0 / TB * K2 * TB + t0 % TB;
                for (int k = k0; k < k1; k++) {
                    if (k == K) java.util.Arrays.fill(xp, base + k * TB, base + k * TB + L, 0f);
                    else if (t0 + L <= T) FloatVector.fromArray(F, xa, t0 * K + k, tokenStride, 0).intoArray(xp, base + k * TB);
                    else for (int t = t0; t < T; t++) xp[base + k * TB + t - t0] = xa[t * K + k];
                }
            }
        });
        int groupRows = GROUP_BLOCKS * RB;
        int[] rowStride = new int[groupRows];
        for (int r = 0; r < groupRows; r++) rowStride[r] = r * tPad;
        pool.run((N + RB - 1) / RB, (worker, b0, b1) -> {
            float[] wv = Scratch.get(Scratch.GEMM_W, RB * 2 * KC);
            float[] acc = Scratch.get(Scratch.GEMM_ACC, groupRows * tPad);
            for (int g = b0; g < b1; g += GROUP_BLOCKS) {
                int n0 = g * RB, rows = Math.min(Math.min(b1, g + GROUP_BLOCKS) * RB, N) - n0;
                java.util.Arrays.fill(acc, 0, groupRows * tPad, 0f);
                for (int j0 = 0; j0 < kh; j0 += KC) {
                    int jn = Math.min(KC, kh - j0);
                    for (int rb = 0; rb < rows; rb += RB) {
                        widenBlock(w, wt, n0 + rb, Math.min(RB, rows - rb), K, j0, jn, wv);
                        for (int tile = 0; tile < tiles; tile++)
                            kernel(xp, (tile * K2 + 2 * j0) * TB, jn, wv, acc, rb * tPad + tile * TB, tPad);
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

    /**
     * Widens pairs j0..j0+jn of rows n0..n0+rows into wv: row r's even elements at wv[r·2KC + j], its odd elements
     * at wv[r·2KC + KC + j]. Rows past {@code rows} are zero; so is the odd element of an odd K's last pair.
     */
    private static void widenBlock(MemorySegment w, DType wt, int n0, int rows, int K, int j0, int jn, float[] wv) {
        for (int r = 0; r < RB; r++) {
            int ev = r * 2 * KC, od = ev + KC;
            if (r >= rows) {
                java.util.Arrays.fill(wv, ev, ev + 2 * KC, 0f);
                continue;
            }
            long row = (long) (n0 + r) * K;
            int j = 0;
            if (wt == DType.BF16) {
                // A little-endian int holds elements 2j (low half) and 2j+1 (high half): widening is a shift or a mask.
                int full = Math.min(jn, K / 2 - j0); // pairs with both elements present
                for (; j <= full - L; j += L) {
                    IntVector p = IntVector.fromMemorySegment(I, w, 2 * row + 4L * (j0 + j), LE);
                    p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(wv, ev + j);
                    p.and(0xFFFF0000).reinterpretAsFloats().intoArray(wv, od + j);
                }
            } else if (wt == DType.F32) {
                // Two vectors hold L pairs; one two-source permute each picks the even and the odd elements.
                int full = Math.min(jn, K / 2 - j0);
                for (; j <= full - L; j += L) {
                    long at = 4 * (row + 2L * (j0 + j));
                    FloatVector lo = FloatVector.fromMemorySegment(F, w, at, LE), hi = FloatVector.fromMemorySegment(F, w, at + 4L * L, LE);
                    EVEN_LANES.selectFrom(lo, hi).intoArray(wv, ev + j);
                    ODD_LANES.selectFrom(lo, hi).intoArray(wv, od + j);
                }
            }
            for (; j < jn; j++) {
                int k = 2 * (j0 + j);
                wv[ev + j] = element(w, wt, row + k);
                wv[od + j] = k + 1 < K ? element(w, wt, row + k + 1) : 0f;
            }
        }
    }

    private static float element(MemorySegment w, DType wt, long index) {
        return switch (wt) {
            case F32 -> w.getAtIndex(FLOAT, index);
            case BF16 -> bf16(w, 2 * index);
            case F16 -> Float.float16ToFloat(w.getAtIndex(SHORT, index));
            default -> throw new IllegalArgumentException(wt + " weights go through QuantMatMul");
        };
    }

    /**
     * Adds {@value #RB} rows × {@value #TB}-token tile over pairs 0..jn of one K chunk into acc[accOff + r·tPad + t].
     * x (one token tile) is at xp[xBase + k·TB + t]; row r's even elements of the chunk are wv[r·2KC + j], its odd
     * ones wv[r·2KC + KC + j]. Every index is one moving base plus a constant, which is what lets C2 keep all 24
     * accumulators in registers and fold the offsets into the loads (per-row base offsets made it spill them).
     */
    private static void kernel(float[] xp, int xBase, int jn, float[] wv, float[] acc, int accOff, int tPad) {
        int s = tPad, a = accOff;
        FloatVector c00 = FloatVector.fromArray(F, acc, a), d00 = FloatVector.fromArray(F, acc, a + L);
        FloatVector c01 = FloatVector.fromArray(F, acc, a + 1 * s), d01 = FloatVector.fromArray(F, acc, a + 1 * s + L);
        FloatVector c02 = FloatVector.fromArray(F, acc, a + 2 * s), d02 = FloatVector.fromArray(F, acc, a + 2 * s + L);
        FloatVector c03 = FloatVector.fromArray(F, acc, a + 3 * s), d03 = FloatVector.fromArray(F, acc, a + 3 * s + L);
        FloatVector c04 = FloatVector.fromArray(F, acc, a + 4 * s), d04 = FloatVector.fromArray(F, acc, a + 4 * s + L);
        FloatVector c05 = FloatVector.fromArray(F, acc, a + 5 * s), d05 = FloatVector.fromArray(F, acc, a + 5 * s + L);
        FloatVector c06 = FloatVector.fromArray(F, acc, a + 6 * s), d06 = FloatVector.fromArray(F, acc, a + 6 * s + L);
        FloatVector c07 = FloatVector.fromArray(F, acc, a + 7 * s), d07 = FloatVector.fromArray(F, acc, a + 7 * s + L);
        FloatVector c08 = FloatVector.fromArray(F, acc, a + 8 * s), d08 = FloatVector.fromArray(F, acc, a + 8 * s + L);
        FloatVector c09 = FloatVector.fromArray(F, acc, a + 9 * s), d09 = FloatVector.fromArray(F, acc, a + 9 * s + L);
        FloatVector c10 = FloatVector.fromArray(F, acc, a + 10 * s), d10 = FloatVector.fromArray(F, acc, a + 10 * s + L);
        FloatVector c11 = FloatVector.fromArray(F, acc, a + 11 * s), d11 = FloatVector.fromArray(F, acc, a + 11 * s + L);
        for (int j = 0; j < jn; j++) {
            int xo = xBase + 2 * j * TB;
            FloatVector x0, x1, b;
            // k = 2j: even elements
            x0 = FloatVector.fromArray(F, xp, xo);
            x1 = FloatVector.fromArray(F, xp, xo + L);
            b = FloatVector.broadcast(F, wv[j]); c00 = x0.fma(b, c00); d00 = x1.fma(b, d00);
            b = FloatVector.broadcast(F, wv[j + 1 * 2 * KC]); c01 = x0.fma(b, c01); d01 = x1.fma(b, d01);
            b = FloatVector.broadcast(F, wv[j + 2 * 2 * KC]); c02 = x0.fma(b, c02); d02 = x1.fma(b, d02);
            b = FloatVector.broadcast(F, wv[j + 3 * 2 * KC]); c03 = x0.fma(b, c03); d03 = x1.fma(b, d03);
            b = FloatVector.broadcast(F, wv[j + 4 * 2 * KC]); c04 = x0.fma(b, c04); d04 = x1.fma(b, d04);
            b = FloatVector.broadcast(F, wv[j + 5 * 2 * KC]); c05 = x0.fma(b, c05); d05 = x1.fma(b, d05);
            b = FloatVector.broadcast(F, wv[j + 6 * 2 * KC]); c06 = x0.fma(b, c06); d06 = x1.fma(b, d06);
            b = FloatVector.broadcast(F, wv[j + 7 * 2 * KC]); c07 = x0.fma(b, c07); d07 = x1.fma(b, d07);
            b = FloatVector.broadcast(F, wv[j + 8 * 2 * KC]); c08 = x0.fma(b, c08); d08 = x1.fma(b, d08);
            b = FloatVector.broadcast(F, wv[j + 9 * 2 * KC]); c09 = x0.fma(b, c09); d09 = x1.fma(b, d09);
            b = FloatVector.broadcast(F, wv[j + 10 * 2 * KC]); c10 = x0.fma(b, c10); d10 = x1.fma(b, d10);
            b = FloatVector.broadcast(F, wv[j + 11 * 2 * KC]); c11 = x0.fma(b, c11); d11 = x1.fma(b, d11);
            // k = 2j + 1: odd elements
            x0 = FloatVector.fromArray(F, xp, xo + TB);
            x1 = FloatVector.fromArray(F, xp, xo + TB + L);
            b = FloatVector.broadcast(F, wv[j + KC]); c00 = x0.fma(b, c00); d00 = x1.fma(b, d00);
            b = FloatVector.broadcast(F, wv[j + 1 * 2 * KC + KC]); c01 = x0.fma(b, c01); d01 = x1.fma(b, d01);
            b = FloatVector.broadcast(F, wv[j + 2 * 2 * KC + KC]); c02 = x0.fma(b, c02); d02 = x1.fma(b, d02);
            b = FloatVector.broadcast(F, wv[j + 3 * 2 * KC + KC]); c03 = x0.fma(b, c03); d03 = x1.fma(b, d03);
            b = FloatVector.broadcast(F, wv[j + 4 * 2 * KC + KC]); c04 = x0.fma(b, c04); d04 = x1.fma(b, d04);
            b = FloatVector.broadcast(F, wv[j + 5 * 2 * KC + KC]); c05 = x0.fma(b, c05); d05 = x1.fma(b, d05);
            b = FloatVector.broadcast(F, wv[j + 6 * 2 * KC + KC]); c06 = x0.fma(b, c06); d06 = x1.fma(b, d06);
            b = FloatVector.broadcast(F, wv[j + 7 * 2 * KC + KC]); c07 = x0.fma(b, c07); d07 = x1.fma(b, d07);
            b = FloatVector.broadcast(F, wv[j + 8 * 2 * KC + KC]); c08 = x0.fma(b, c08); d08 = x1.fma(b, d08);
            b = FloatVector.broadcast(F, wv[j + 9 * 2 * KC + KC]); c09 = x0.fma(b, c09); d09 = x1.fma(b, d09);
            b = FloatVector.broadcast(F, wv[j + 10 * 2 * KC + KC]); c10 = x0.fma(b, c10); d10 = x1.fma(b, d10);
            b = FloatVector.broadcast(F, wv[j + 11 * 2 * KC + KC]); c11 = x0.fma(b, c11); d11 = x1.fma(b, d11);
        }
        c00.intoArray(acc, a); d00.intoArray(acc, a + L); c01.intoArray(acc, a + 1 * s); d01.intoArray(acc, a + 1 * s + L);
        c02.intoArray(acc, a + 2 * s); d02.intoArray(acc, a + 2 * s + L); c03.intoArray(acc, a + 3 * s); d03.intoArray(acc, a + 3 * s + L);
        c04.intoArray(acc, a + 4 * s); d04.intoArray(acc, a + 4 * s + L); c05.intoArray(acc, a + 5 * s); d05.intoArray(acc, a + 5 * s + L);
        c06.intoArray(acc, a + 6 * s); d06.intoArray(acc, a + 6 * s + L); c07.intoArray(acc, a + 7 * s); d07.intoArray(acc, a + 7 * s + L);
        c08.intoArray(acc, a + 8 * s); d08.intoArray(acc, a + 8 * s + L); c09.intoArray(acc, a + 9 * s); d09.intoArray(acc, a + 9 * s + L);
        c10.intoArray(acc, a + 10 * s); d10.intoArray(acc, a + 10 * s + L); c11.intoArray(acc, a + 11 * s); d11.intoArray(acc, a + 11 * s + L);
    }
}
