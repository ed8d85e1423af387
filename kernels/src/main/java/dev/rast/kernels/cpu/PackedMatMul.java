package dev.rast.kernels.cpu;

import dev.rast.engine.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code out[t, n] = Σ_k x[t, k] · w[n, k]} over a BF16 or F32 weight repacked once, at load, into row blocks.
 *
 * <p><b>Layout.</b> Rows are cut into blocks of {@link #B} (the float lanes of a vector: 16 with AVX-512), the last
 * one padded with zero rows. Within a block the elements are stored pair by pair ((2j, 2j+1), an odd K's last pair
 * padded with a zero), and for each pair the B rows side by side: BF16 as one vector of B ints (low half element 2j,
 * high half 2j+1), F32 as two vectors of B floats (2j, then 2j+1). So one vector load brings the same pair of
 * columns of B rows, and a block streams from memory front to back.
 *
 * <p><b>Why.</b> With rows in lanes, a row's sum builds up in its own lane: no horizontal sums, and the results are
 * stored as vectors. It is faster than the row-major kernels ({@link MatMul}) for one token and for many
 * (docs/benchmarks.md, "Weights repacked into row blocks").
 *
 * <p><b>Sums.</b> Every path adds a row's products in the same order, k = 0, 1, 2, … one FMA each, so a token's
 * outputs are the same bits whether it runs alone, in a batch or in a prefill, on any number of threads.
 */
final class PackedMatMul {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED; // same shape as F
    /** Rows per block: one vector of float lanes. */
    static final int B = F.length();
    /** Tokens per GEMM micro-tile: 2 blocks × 12 tokens are 24 register accumulators (AVX-512 has 32 registers). */
    static final int G = 12;
    /**
     * Tokens of the smaller micro-tile a group of at most this many tokens runs (the last group of a batch: 32
     * sequences are groups of 12, 12 and 8), so that it does not pay for 12.
     */
    static final int G8 = 8;
    /** Tokens per GEMM call: 21 groups. */
    static final int SLICE_TOKENS = 21 * G;
    /** Columns of x per work unit of its packing. */
    private static final int PACK_COLUMNS = 256;
    /** A slice of tokens whose packed x stays in L2 (half of it) while all the weight blocks stream past. */
    private static final long X_SLICE_BYTES = 1 << 20;

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private PackedMatMul() {}

    static boolean packable(DType dt) { return dt == DType.BF16 || dt == DType.F32; }

    /** Bytes of one pair of columns of one block. */
    private static long pairBytes(DType dt) { return dt == DType.BF16 ? 4L * B : 8L * B; }

    static long packedBytes(DType dt, int N, int K) {
        return (long) ((N + B - 1) / B) * ((K + 1) / 2) * pairBytes(dt);
    }

    /** Packs the row-major N×K matrix {@code w} into a new segment of {@code arena}. */
    static MemorySegment pack(WorkerPool pool, MemorySegment w, DType dt, int N, int K, Arena arena) {
        if (!packable(dt)) throw new IllegalArgumentException("cannot pack " + dt);
        int blocks = (N + B - 1) / B, kh = (K + 1) / 2;
        long blockBytes = kh * pairBytes(dt);
        MemorySegment p = arena.allocate(blocks * blockBytes, 64);
        // Per block: its rows copied whole into a buffer, then one gather per column pair (stride: a buffered row)
        // lines up the rows side by side. Missing rows (past N) and an odd K's padding stay zero.
        pool.run(blocks, (worker, b0, b1) -> {
            int[] map = new int[B];
            if (dt == DType.BF16) {
                int[] rows = new int[B * kh], block = new int[kh * B];
                for (int r = 0; r < B; r++) map[r] = r * kh;
                for (int b = b0; b < b1; b++) {
                    java.util.Arrays.fill(rows, 0);
                    for (int r = 0; r < B && b * B + r < N; r++) {
                        long row = (long) (b * B + r) * K * 2;
                        MemorySegment.copy(w, ValueLayout.JAVA_INT_UNALIGNED, row, rows, r * kh, K / 2);
                        if (K % 2 == 1) rows[r * kh + kh - 1] = w.get(ValueLayout.JAVA_SHORT_UNALIGNED, row + 2L * (K - 1)) & 0xFFFF;
                    }
                    for (int j = 0; j < kh; j++) IntVector.fromArray(I, rows, j, map, 0).intoArray(block, j * B);
                    MemorySegment.copy(block, 0, p, ValueLayout.JAVA_INT_UNALIGNED, b * blockBytes, block.length);
                }
            } else {
                int K2 = 2 * kh;
                float[] rows = new float[B * K2], block = new float[K2 * B];
                for (int r = 0; r < B; r++) map[r] = r * K2;
                for (int b = b0; b < b1; b++) {
                    java.util.Arrays.fill(rows, 0f);
                    for (int r = 0; r < B && b * B + r < N; r++)
                        MemorySegment.copy(w, FLOAT, (long) (b * B + r) * K * 4, rows, r * K2, K);
                    for (int k = 0; k < K2; k++) FloatVector.fromArray(F, rows, k, map, 0).intoArray(block, k * B);
                    MemorySegment.copy(block, 0, p, FLOAT, b * blockBytes, block.length);
                }
            }
        });
        return p;
    }

    /**
     * One matmul of a group that shares its input x (q, k and v; gate and up): its packed weight {@code p} with
     * {@code N} rows, and its output {@code out [T, N]}.
     */
    record Part(MemorySegment p, int N, MemorySegment out) {
        /** This part for tokens [t0, t0 + n) only: the same weight, those rows of its output. */
        Part tokens(int t0, int n) { return new Part(p, N, out.asSlice((long) t0 * N * 4, (long) n * N * 4)); }
    }

    static void run(WorkerPool pool, MemorySegment x, MemorySegment p, DType dt, MemorySegment out, int T, int N, int K) {
        run(pool, x, new Part[] {new Part(p, N, out)}, dt, T, K);
    }

    /**
     * Every part's matmul of the same x, as one parallel op: the parts' row blocks are one range of work, shared
     * out among the threads, and x is packed once. Fewer, larger ops keep the threads busier than one op per
     * matrix (k and v have few blocks each), and wait at one barrier instead of three.
     */
    static void run(WorkerPool pool, MemorySegment x, Part[] parts, DType dt, int T, int K) {
        if (T <= 2) { // bound by reading the weights: the GEMM kernel would fill 2 of its 12 token slots
            matvec(pool, x, parts, dt, T, K);
            return;
        }
        // A long prompt goes through in slices of tokens: the packed copy of x stays small (it is per thread and
        // kept), and its indexes stay far from int's range whatever the prompt length.
        for (int t0 = 0; t0 < T; t0 += SLICE_TOKENS) {
            int n = Math.min(SLICE_TOKENS, T - t0);
            Part[] slice = new Part[parts.length];
            for (int i = 0; i < parts.length; i++) slice[i] = parts[i].tokens(t0, n);
            gemm(pool, x.asSlice((long) t0 * K * 4, (long) n * K * 4), slice, dt, n, K);
        }
    }

    /** Work over several parts as one range: part i owns units [first[i], first[i+1]). */
    @FunctionalInterface
    interface PartBody {
        void run(Part part, int start, int end);
    }

    /** Runs {@code body} over every part's units in [u0, u1), given each part's first unit. */
    static void forParts(Part[] parts, int[] first, int u0, int u1, PartBody body) {
        for (int i = 0; i < parts.length; i++) {
            int lo = Math.max(u0, first[i]), hi = Math.min(u1, first[i + 1]);
            if (lo < hi) body.run(parts[i], lo - first[i], hi - first[i]);
        }
    }

    /** Prefix sums of the parts' unit counts: each unit {@code per} blocks of B rows (the last one may be short). */
    static int[] firstUnits(Part[] parts, int per) {
        int[] first = new int[parts.length + 1];
        for (int i = 0; i < parts.length; i++) {
            int blocks = (parts[i].N + B - 1) / B;
            first[i + 1] = first[i] + (blocks + per - 1) / per;
        }
        return first;
    }

    // ---------------------------------------------------------------- one or two tokens: bound by reading the weights

    /**
     * Each work piece is a range of blocks, read as interleaved streams (the range cut into equal spans, one block of
     * each per pass): the hardware prefetcher follows each stream, so more reads are in flight than one stream gets.
     * One token reads eight streams (a piece's blocks in groups of eight, then at most one group of four): BF16
     * gate/up matrices read at 24–25 GB/s that way against 15 with four streams, 8–13 with one, alternating on two
     * threads in one process (docs/benchmarks.md, "Decode against the bare read"). Two tokens keep four streams:
     * their eight accumulators per stream would not fit the registers with eight. Pieces are whole groups of four
     * blocks, so that the spans come out equal; only a matrix's last group, when its block count is not a multiple
     * of four, computes its last block more than once (same values).
     */
    private static void matvec(WorkerPool pool, MemorySegment x, Part[] parts, DType dt, int T, int K) {
        int kh = (K + 1) / 2;
        float[][] xe = new float[T][], xo = new float[T][];
        for (int t = 0; t < T; t++) splitPairs(x, t, K, xe[t] = Scratch.get(Scratch.MATVEC_EVEN + t, kh), xo[t] = Scratch.get(Scratch.MATVEC_ODD + t, kh));
        boolean bf16 = dt == DType.BF16;
        long bb = kh * pairBytes(dt);
        int[] first = firstUnits(parts, 4);
        pool.run(first[parts.length], (worker, u0, u1) -> forParts(parts, first, u0, u1, (part, g0, g1) -> {
            MemorySegment p = part.p, out = part.out;
            int N = part.N, b0 = 4 * g0, last = (N + B - 1) / B - 1;
            if (T == 1) {
                int eights = (g1 - g0) / 2 * 8, span = eights / 8;
                for (int i = 0; i < span; i++) {
                    int a = b0 + i, b = Math.min(a + span, last), c = Math.min(a + 2 * span, last), d = Math.min(a + 3 * span, last);
                    int e = Math.min(a + 4 * span, last), f = Math.min(a + 5 * span, last), g = Math.min(a + 6 * span, last), h = Math.min(a + 7 * span, last);
                    if (bf16) dotBf16(p, a * bb, b * bb, c * bb, d * bb, e * bb, f * bb, g * bb, h * bb, kh, xe[0], xo[0], out, a, b, c, d, e, f, g, h, N);
                    else dotF32(p, a * bb, b * bb, c * bb, d * bb, e * bb, f * bb, g * bb, h * bb, kh, xe[0], xo[0], out, a, b, c, d, e, f, g, h, N);
                }
                if ((g1 - g0) % 2 == 1) { // a last group of four: four streams of one block
                    int a = Math.min(b0 + eights, last), b = Math.min(a + 1, last), c = Math.min(a + 2, last), d = Math.min(a + 3, last);
                    if (bf16) dotBf16(p, a * bb, b * bb, c * bb, d * bb, d * bb, d * bb, d * bb, d * bb, kh, xe[0], xo[0], out, a, b, c, d, d, d, d, d, N);
                    else dotF32(p, a * bb, b * bb, c * bb, d * bb, d * bb, d * bb, d * bb, d * bb, kh, xe[0], xo[0], out, a, b, c, d, d, d, d, d, N);
                }
                return;
            }
            int b1 = Math.min(4 * g1, last + 1), span = (b1 - b0 + 3) / 4;
            for (int i = 0; i < span; i++) {
                int a = b0 + i, b = Math.min(a + span, b1 - 1), c = Math.min(a + 2 * span, b1 - 1), d = Math.min(a + 3 * span, b1 - 1);
                long pa = a * bb, pb = b * bb, pc = c * bb, pd = d * bb;
                if (bf16) dotBf16Two(p, pa, pb, pc, pd, kh, xe[0], xo[0], xe[1], xo[1], out, a, b, c, d, N);
                else dotF32Two(p, pa, pb, pc, pd, kh, xe[0], xo[0], xe[1], xo[1], out, a, b, c, d, N);
            }
        }));
    }

    /**
     * Row t of x ({@code [T, K]}) split into its even columns, {@code e[j] = x[t, 2j]}, and its odd ones,
     * {@code o[j] = x[t, 2j + 1]} (0 past an odd K), j &lt; (K + 1) / 2, through a copy of the row on the heap.
     */
    private static void splitPairs(MemorySegment x, int t, int K, float[] e, float[] o) {
        float[] row = Scratch.get(Scratch.MATVEC_ROW, K);
        MemorySegment.copy(x, FLOAT, (long) t * K * 4, row, 0, K);
        for (int j = 0; j < K / 2; j++) {
            e[j] = row[2 * j];
            o[j] = row[2 * j + 1];
        }
        if (K % 2 == 1) {
            e[K / 2] = row[K - 1];
            o[K / 2] = 0f;
        }
    }

    /** {@link #dotBf16} for two tokens (x and y): each widened weight vector feeds both. */
    private static void dotBf16Two(MemorySegment p, long pa, long pb, long pc, long pd, int kh, float[] xe, float[] xo,
                                   float[] ye, float[] yo, MemorySegment out, int a, int b, int c, int d, int N) {
        FloatVector sa = FloatVector.zero(F), sb = sa, sc = sa, sd = sa, ta = sa, tb = sa, tc = sa, td = sa;
        for (int j = 0; j < kh; j++) {
            FloatVector e = FloatVector.broadcast(F, xe[j]), o = FloatVector.broadcast(F, xo[j]);
            FloatVector f = FloatVector.broadcast(F, ye[j]), q = FloatVector.broadcast(F, yo[j]);
            long at = 4L * B * j;
            IntVector va = IntVector.fromMemorySegment(I, p, pa + at, LE), vb = IntVector.fromMemorySegment(I, p, pb + at, LE);
            IntVector vc = IntVector.fromMemorySegment(I, p, pc + at, LE), vd = IntVector.fromMemorySegment(I, p, pd + at, LE);
            FloatVector ae = va.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), ao = va.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector be = vb.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), bo = vb.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector ce = vc.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), co = vc.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector de = vd.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), dO = vd.and(0xFFFF0000).reinterpretAsFloats();
            sa = ao.fma(o, ae.fma(e, sa)); ta = ao.fma(q, ae.fma(f, ta));
            sb = bo.fma(o, be.fma(e, sb)); tb = bo.fma(q, be.fma(f, tb));
            sc = co.fma(o, ce.fma(e, sc)); tc = co.fma(q, ce.fma(f, tc));
            sd = dO.fma(o, de.fma(e, sd)); td = dO.fma(q, de.fma(f, td));
        }
        store(sa, out, 0, a, N); store(sb, out, 0, b, N); store(sc, out, 0, c, N); store(sd, out, 0, d, N);
        store(ta, out, N, a, N); store(tb, out, N, b, N); store(tc, out, N, c, N); store(td, out, N, d, N);
    }

    /** {@link #dotBf16Two} for F32 blocks. */
    private static void dotF32Two(MemorySegment p, long pa, long pb, long pc, long pd, int kh, float[] xe, float[] xo,
                                  float[] ye, float[] yo, MemorySegment out, int a, int b, int c, int d, int N) {
        FloatVector sa = FloatVector.zero(F), sb = sa, sc = sa, sd = sa, ta = sa, tb = sa, tc = sa, td = sa;
        long h = 4L * B;
        for (int j = 0; j < kh; j++) {
            FloatVector e = FloatVector.broadcast(F, xe[j]), o = FloatVector.broadcast(F, xo[j]);
            FloatVector f = FloatVector.broadcast(F, ye[j]), q = FloatVector.broadcast(F, yo[j]);
            long at = 8L * B * j;
            FloatVector ae = FloatVector.fromMemorySegment(F, p, pa + at, LE), ao = FloatVector.fromMemorySegment(F, p, pa + at + h, LE);
            FloatVector be = FloatVector.fromMemorySegment(F, p, pb + at, LE), bo = FloatVector.fromMemorySegment(F, p, pb + at + h, LE);
            FloatVector ce = FloatVector.fromMemorySegment(F, p, pc + at, LE), co = FloatVector.fromMemorySegment(F, p, pc + at + h, LE);
            FloatVector de = FloatVector.fromMemorySegment(F, p, pd + at, LE), dO = FloatVector.fromMemorySegment(F, p, pd + at + h, LE);
            sa = ao.fma(o, ae.fma(e, sa)); ta = ao.fma(q, ae.fma(f, ta));
            sb = bo.fma(o, be.fma(e, sb)); tb = bo.fma(q, be.fma(f, tb));
            sc = co.fma(o, ce.fma(e, sc)); tc = co.fma(q, ce.fma(f, tc));
            sd = dO.fma(o, de.fma(e, sd)); td = dO.fma(q, de.fma(f, td));
        }
        store(sa, out, 0, a, N); store(sb, out, 0, b, N); store(sc, out, 0, c, N); store(sd, out, 0, d, N);
        store(ta, out, N, a, N); store(tb, out, N, b, N); store(tc, out, N, c, N); store(td, out, N, d, N);
    }

    /**
     * Blocks a…h (at byte offsets pa…ph) against one token; one accumulator per block. A block may come more than
     * once (a piece's short last group): it gets the same sums each time.
     */
    private static void dotBf16(MemorySegment p, long pa, long pb, long pc, long pd, long pe, long pf, long pg, long ph, int kh,
                                float[] xe, float[] xo, MemorySegment out, int a, int b, int c, int d, int e, int f, int g, int h, int N) {
        FloatVector sa = FloatVector.zero(F), sb = sa, sc = sa, sd = sa, se = sa, sf = sa, sg = sa, sh = sa;
        for (int j = 0; j < kh; j++) {
            FloatVector ev = FloatVector.broadcast(F, xe[j]), od = FloatVector.broadcast(F, xo[j]);
            long at = 4L * B * j;
            IntVector va = IntVector.fromMemorySegment(I, p, pa + at, LE), vb = IntVector.fromMemorySegment(I, p, pb + at, LE);
            IntVector vc = IntVector.fromMemorySegment(I, p, pc + at, LE), vd = IntVector.fromMemorySegment(I, p, pd + at, LE);
            IntVector ve = IntVector.fromMemorySegment(I, p, pe + at, LE), vf = IntVector.fromMemorySegment(I, p, pf + at, LE);
            IntVector vg = IntVector.fromMemorySegment(I, p, pg + at, LE), vh = IntVector.fromMemorySegment(I, p, ph + at, LE);
            sa = va.and(0xFFFF0000).reinterpretAsFloats().fma(od, va.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(ev, sa));
            sb = vb.and(0xFFFF0000).reinterpretAsFloats().fma(od, vb.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(ev, sb));
            sc = vc.and(0xFFFF0000).reinterpretAsFloats().fma(od, vc.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(ev, sc));
            sd = vd.and(0xFFFF0000).reinterpretAsFloats().fma(od, vd.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(ev, sd));
            se = ve.and(0xFFFF0000).reinterpretAsFloats().fma(od, ve.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(ev, se));
            sf = vf.and(0xFFFF0000).reinterpretAsFloats().fma(od, vf.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(ev, sf));
            sg = vg.and(0xFFFF0000).reinterpretAsFloats().fma(od, vg.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(ev, sg));
            sh = vh.and(0xFFFF0000).reinterpretAsFloats().fma(od, vh.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(ev, sh));
        }
        store(sa, out, 0, a, N); store(sb, out, 0, b, N); store(sc, out, 0, c, N); store(sd, out, 0, d, N);
        store(se, out, 0, e, N); store(sf, out, 0, f, N); store(sg, out, 0, g, N); store(sh, out, 0, h, N);
    }

    /** {@link #dotBf16} for F32 blocks. */
    private static void dotF32(MemorySegment p, long pa, long pb, long pc, long pd, long pe, long pf, long pg, long ph, int kh,
                               float[] xe, float[] xo, MemorySegment out, int a, int b, int c, int d, int e, int f, int g, int h, int N) {
        FloatVector sa = FloatVector.zero(F), sb = sa, sc = sa, sd = sa, se = sa, sf = sa, sg = sa, sh = sa;
        long hb = 4L * B;
        for (int j = 0; j < kh; j++) {
            FloatVector ev = FloatVector.broadcast(F, xe[j]), od = FloatVector.broadcast(F, xo[j]);
            long at = 8L * B * j;
            sa = FloatVector.fromMemorySegment(F, p, pa + at + hb, LE).fma(od, FloatVector.fromMemorySegment(F, p, pa + at, LE).fma(ev, sa));
            sb = FloatVector.fromMemorySegment(F, p, pb + at + hb, LE).fma(od, FloatVector.fromMemorySegment(F, p, pb + at, LE).fma(ev, sb));
            sc = FloatVector.fromMemorySegment(F, p, pc + at + hb, LE).fma(od, FloatVector.fromMemorySegment(F, p, pc + at, LE).fma(ev, sc));
            sd = FloatVector.fromMemorySegment(F, p, pd + at + hb, LE).fma(od, FloatVector.fromMemorySegment(F, p, pd + at, LE).fma(ev, sd));
            se = FloatVector.fromMemorySegment(F, p, pe + at + hb, LE).fma(od, FloatVector.fromMemorySegment(F, p, pe + at, LE).fma(ev, se));
            sf = FloatVector.fromMemorySegment(F, p, pf + at + hb, LE).fma(od, FloatVector.fromMemorySegment(F, p, pf + at, LE).fma(ev, sf));
            sg = FloatVector.fromMemorySegment(F, p, pg + at + hb, LE).fma(od, FloatVector.fromMemorySegment(F, p, pg + at, LE).fma(ev, sg));
            sh = FloatVector.fromMemorySegment(F, p, ph + at + hb, LE).fma(od, FloatVector.fromMemorySegment(F, p, ph + at, LE).fma(ev, sh));
        }
        store(sa, out, 0, a, N); store(sb, out, 0, b, N); store(sc, out, 0, c, N); store(sd, out, 0, d, N);
        store(se, out, 0, e, N); store(sf, out, 0, f, N); store(sg, out, 0, g, N); store(sh, out, 0, h, N);
    }

    // ---------------------------------------------------------------- several tokens: bound by FMAs

    /**
     * x is packed once into groups of {@link #G} tokens ({@link #packX}). Work pieces are ranges of block pairs; each
     * piece goes through the tokens a slice at a time, so that the slice's packed x stays in L2 while the blocks stream.
     */
    private static void gemm(WorkerPool pool, MemorySegment x, Part[] parts, DType dt, int T, int K) {
        int kh = (K + 1) / 2, K2 = 2 * kh, groups = (T + G - 1) / G;
        float[] xq = packX(pool, x, T, K);
        boolean bf16 = dt == DType.BF16;
        long blockBytes = kh * pairBytes(dt);
        int sliceGroups = (int) Math.max(1, X_SLICE_BYTES / ((long) K2 * G * 4));
        int[] first = firstUnits(parts, 2);
        pool.run(first[parts.length], (worker, u0, u1) -> {
            float[] res = new float[2 * G * B];
            for (int s0 = 0; s0 < groups; s0 += sliceGroups) {
                int g0 = s0, g1 = Math.min(groups, s0 + sliceGroups);
                forParts(parts, first, u0, u1, (part, q0, q1) -> {
                    MemorySegment p = part.p, out = part.out;
                    int N = part.N, lo = 2 * q0, hi = Math.min(2 * q1, (N + B - 1) / B), span = (hi - lo + 1) / 2;
                    // The piece's blocks as two streams (its two halves, a block of each per pass), not neighbours:
                    // a few tokens are bound by the read as much as by the FMAs, and two streams keep more reads in
                    // flight than one. An odd count: the last block twice (same values).
                    for (int i = 0; i < span; i++) {
                        int b = lo + i, c = Math.min(b + span, hi - 1);
                        long step = pairBytes(dt), pb = b * blockBytes, pc = c * blockBytes;
                        for (int g = g0; g < g1; g++) {
                            int tn = Math.min(G, T - g * G), xb = g * K2 * G;
                            if (tn > G8) {
                                if (bf16) kernelBf16(p, step, pb, pc, kh, xq, xb, res);
                                else kernelF32(p, step, pb, pc, kh, xq, xb, res);
                            } else if (bf16) kernelBf16x8(p, step, pb, pc, kh, xq, xb, res);
                            else kernelF32x8(p, step, pb, pc, kh, xq, xb, res);
                            emit(res, out, b, c, g * G, tn, N);
                        }
                    }
                });
            }
        });
    }

    /**
     * x [T, K] packed into groups of {@link #G} tokens, pair by pair: {@code xq[(g·K2 + k)·G + t]} with K2 = 2·kh;
     * an odd K's padding column and the tokens past T are zero (their outputs are never stored). Plain loads and
     * stores straight from the segment, a work unit per group and 256 columns on all threads: a copy of x to the
     * heap and a gather per 16 columns cost several times more (for a 128-token prompt, up to a tenth of an
     * o_proj or down GEMM on two threads).
     */
    private static float[] packX(WorkerPool pool, MemorySegment x, int T, int K) {
        int kh = (K + 1) / 2, K2 = 2 * kh, groups = (T + G - 1) / G;
        float[] xq = Scratch.get(Scratch.GEMM_XP, groups * K2 * G);
        int chunks = (K2 + PACK_COLUMNS - 1) / PACK_COLUMNS;
        pool.run(groups * chunks, (worker, u0, u1) -> {
            for (int u = u0; u < u1; u++) {
                int g = u / chunks, k0 = u % chunks * PACK_COLUMNS, k1 = Math.min(K2, k0 + PACK_COLUMNS), kEnd = Math.min(k1, K);
                for (int t = 0; t < G; t++) {
                    int at = g * K2 * G + t, token = g * G + t;
                    int k = k0;
                    if (token < T) {
                        long row = (long) token * K;
                        for (; k < kEnd; k++) xq[at + k * G] = x.getAtIndex(FLOAT, row + k);
                    }
                    for (; k < k1; k++) xq[at + k * G] = 0f;
                }
            }
        });
        return xq;
    }

    /**
     * Two BF16 blocks × {@link #G} tokens into {@code res} (token t: block b at 2t·B, block c at (2t+1)·B): per
     * pair of columns, each block's int vector widens to two float vectors that meet 12 broadcast tokens.
     *
     * <p>Written out, with no helper methods: an array of vectors would be boxed, and every extra call level
     * counts against C2's inlining budget. With small helpers for widening and broadcasting (or the F32 loads
     * in the same method behind a branch, or the masked stores to {@code out} here) C2 stops inlining the
     * vector operations, and the kernel runs about 20× slower. Hence the F32 twin below, the 8-token pair of twins
     * ({@link #kernelBf16x8}, {@link #kernelF32x8}) and {@link #emit}.
     */
    private static void kernelBf16(MemorySegment p, long step, long pb, long pc, int kh, float[] xq, int xb, float[] res) {
        FloatVector b0 = FloatVector.zero(F), b1 = b0, b2 = b0, b3 = b0, b4 = b0, b5 = b0, b6 = b0, b7 = b0, b8 = b0, b9 = b0, b10 = b0, b11 = b0;
        FloatVector c0 = b0, c1 = b0, c2 = b0, c3 = b0, c4 = b0, c5 = b0, c6 = b0, c7 = b0, c8 = b0, c9 = b0, c10 = b0, c11 = b0;
        for (int j = 0; j < kh; j++) {
            long at = j * step;
            IntVector vb = IntVector.fromMemorySegment(I, p, pb + at, LE), vc = IntVector.fromMemorySegment(I, p, pc + at, LE);
            FloatVector be = vb.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), bo = vb.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector ce = vc.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), co = vc.and(0xFFFF0000).reinterpretAsFloats();
            int e = xb + 2 * G * j, o = e + G;
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 0]), xo = FloatVector.broadcast(F, xq[o + 0]); b0 = bo.fma(xo, be.fma(xe, b0)); c0 = co.fma(xo, ce.fma(xe, c0)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 1]), xo = FloatVector.broadcast(F, xq[o + 1]); b1 = bo.fma(xo, be.fma(xe, b1)); c1 = co.fma(xo, ce.fma(xe, c1)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 2]), xo = FloatVector.broadcast(F, xq[o + 2]); b2 = bo.fma(xo, be.fma(xe, b2)); c2 = co.fma(xo, ce.fma(xe, c2)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 3]), xo = FloatVector.broadcast(F, xq[o + 3]); b3 = bo.fma(xo, be.fma(xe, b3)); c3 = co.fma(xo, ce.fma(xe, c3)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 4]), xo = FloatVector.broadcast(F, xq[o + 4]); b4 = bo.fma(xo, be.fma(xe, b4)); c4 = co.fma(xo, ce.fma(xe, c4)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 5]), xo = FloatVector.broadcast(F, xq[o + 5]); b5 = bo.fma(xo, be.fma(xe, b5)); c5 = co.fma(xo, ce.fma(xe, c5)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 6]), xo = FloatVector.broadcast(F, xq[o + 6]); b6 = bo.fma(xo, be.fma(xe, b6)); c6 = co.fma(xo, ce.fma(xe, c6)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 7]), xo = FloatVector.broadcast(F, xq[o + 7]); b7 = bo.fma(xo, be.fma(xe, b7)); c7 = co.fma(xo, ce.fma(xe, c7)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 8]), xo = FloatVector.broadcast(F, xq[o + 8]); b8 = bo.fma(xo, be.fma(xe, b8)); c8 = co.fma(xo, ce.fma(xe, c8)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 9]), xo = FloatVector.broadcast(F, xq[o + 9]); b9 = bo.fma(xo, be.fma(xe, b9)); c9 = co.fma(xo, ce.fma(xe, c9)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 10]), xo = FloatVector.broadcast(F, xq[o + 10]); b10 = bo.fma(xo, be.fma(xe, b10)); c10 = co.fma(xo, ce.fma(xe, c10)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 11]), xo = FloatVector.broadcast(F, xq[o + 11]); b11 = bo.fma(xo, be.fma(xe, b11)); c11 = co.fma(xo, ce.fma(xe, c11)); }
        }
        b0.intoArray(res, 0 * B); c0.intoArray(res, 1 * B); b1.intoArray(res, 2 * B); c1.intoArray(res, 3 * B);
        b2.intoArray(res, 4 * B); c2.intoArray(res, 5 * B); b3.intoArray(res, 6 * B); c3.intoArray(res, 7 * B);
        b4.intoArray(res, 8 * B); c4.intoArray(res, 9 * B); b5.intoArray(res, 10 * B); c5.intoArray(res, 11 * B);
        b6.intoArray(res, 12 * B); c6.intoArray(res, 13 * B); b7.intoArray(res, 14 * B); c7.intoArray(res, 15 * B);
        b8.intoArray(res, 16 * B); c8.intoArray(res, 17 * B); b9.intoArray(res, 18 * B); c9.intoArray(res, 19 * B);
        b10.intoArray(res, 20 * B); c10.intoArray(res, 21 * B); b11.intoArray(res, 22 * B); c11.intoArray(res, 23 * B);
    }

    /**
     * {@link #kernelBf16} for F32 blocks: the even and odd columns of a pair are two float vectors.
     */
    private static void kernelF32(MemorySegment p, long step, long pb, long pc, int kh, float[] xq, int xb, float[] res) {
        FloatVector b0 = FloatVector.zero(F), b1 = b0, b2 = b0, b3 = b0, b4 = b0, b5 = b0, b6 = b0, b7 = b0, b8 = b0, b9 = b0, b10 = b0, b11 = b0;
        FloatVector c0 = b0, c1 = b0, c2 = b0, c3 = b0, c4 = b0, c5 = b0, c6 = b0, c7 = b0, c8 = b0, c9 = b0, c10 = b0, c11 = b0;
        for (int j = 0; j < kh; j++) {
            long at = j * step;
            FloatVector be = FloatVector.fromMemorySegment(F, p, pb + at, LE), bo = FloatVector.fromMemorySegment(F, p, pb + at + 4L * B, LE);
            FloatVector ce = FloatVector.fromMemorySegment(F, p, pc + at, LE), co = FloatVector.fromMemorySegment(F, p, pc + at + 4L * B, LE);
            int e = xb + 2 * G * j, o = e + G;
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 0]), xo = FloatVector.broadcast(F, xq[o + 0]); b0 = bo.fma(xo, be.fma(xe, b0)); c0 = co.fma(xo, ce.fma(xe, c0)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 1]), xo = FloatVector.broadcast(F, xq[o + 1]); b1 = bo.fma(xo, be.fma(xe, b1)); c1 = co.fma(xo, ce.fma(xe, c1)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 2]), xo = FloatVector.broadcast(F, xq[o + 2]); b2 = bo.fma(xo, be.fma(xe, b2)); c2 = co.fma(xo, ce.fma(xe, c2)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 3]), xo = FloatVector.broadcast(F, xq[o + 3]); b3 = bo.fma(xo, be.fma(xe, b3)); c3 = co.fma(xo, ce.fma(xe, c3)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 4]), xo = FloatVector.broadcast(F, xq[o + 4]); b4 = bo.fma(xo, be.fma(xe, b4)); c4 = co.fma(xo, ce.fma(xe, c4)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 5]), xo = FloatVector.broadcast(F, xq[o + 5]); b5 = bo.fma(xo, be.fma(xe, b5)); c5 = co.fma(xo, ce.fma(xe, c5)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 6]), xo = FloatVector.broadcast(F, xq[o + 6]); b6 = bo.fma(xo, be.fma(xe, b6)); c6 = co.fma(xo, ce.fma(xe, c6)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 7]), xo = FloatVector.broadcast(F, xq[o + 7]); b7 = bo.fma(xo, be.fma(xe, b7)); c7 = co.fma(xo, ce.fma(xe, c7)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 8]), xo = FloatVector.broadcast(F, xq[o + 8]); b8 = bo.fma(xo, be.fma(xe, b8)); c8 = co.fma(xo, ce.fma(xe, c8)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 9]), xo = FloatVector.broadcast(F, xq[o + 9]); b9 = bo.fma(xo, be.fma(xe, b9)); c9 = co.fma(xo, ce.fma(xe, c9)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 10]), xo = FloatVector.broadcast(F, xq[o + 10]); b10 = bo.fma(xo, be.fma(xe, b10)); c10 = co.fma(xo, ce.fma(xe, c10)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 11]), xo = FloatVector.broadcast(F, xq[o + 11]); b11 = bo.fma(xo, be.fma(xe, b11)); c11 = co.fma(xo, ce.fma(xe, c11)); }
        }
        b0.intoArray(res, 0 * B); c0.intoArray(res, 1 * B); b1.intoArray(res, 2 * B); c1.intoArray(res, 3 * B);
        b2.intoArray(res, 4 * B); c2.intoArray(res, 5 * B); b3.intoArray(res, 6 * B); c3.intoArray(res, 7 * B);
        b4.intoArray(res, 8 * B); c4.intoArray(res, 9 * B); b5.intoArray(res, 10 * B); c5.intoArray(res, 11 * B);
        b6.intoArray(res, 12 * B); c6.intoArray(res, 13 * B); b7.intoArray(res, 14 * B); c7.intoArray(res, 15 * B);
        b8.intoArray(res, 16 * B); c8.intoArray(res, 17 * B); b9.intoArray(res, 18 * B); c9.intoArray(res, 19 * B);
        b10.intoArray(res, 20 * B); c10.intoArray(res, 21 * B); b11.intoArray(res, 22 * B); c11.intoArray(res, 23 * B);
    }

    /** {@link #kernelBf16} for a group of at most {@link #G8} tokens (same sums, in the same order, per token). */
    private static void kernelBf16x8(MemorySegment p, long step, long pb, long pc, int kh, float[] xq, int xb, float[] res) {
        FloatVector b0 = FloatVector.zero(F), b1 = b0, b2 = b0, b3 = b0, b4 = b0, b5 = b0, b6 = b0, b7 = b0;
        FloatVector c0 = b0, c1 = b0, c2 = b0, c3 = b0, c4 = b0, c5 = b0, c6 = b0, c7 = b0;
        for (int j = 0; j < kh; j++) {
            long at = j * step;
            IntVector vb = IntVector.fromMemorySegment(I, p, pb + at, LE), vc = IntVector.fromMemorySegment(I, p, pc + at, LE);
            FloatVector be = vb.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), bo = vb.and(0xFFFF0000).reinterpretAsFloats();
            FloatVector ce = vc.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), co = vc.and(0xFFFF0000).reinterpretAsFloats();
            int e = xb + 2 * G * j, o = e + G;
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 0]), xo = FloatVector.broadcast(F, xq[o + 0]); b0 = bo.fma(xo, be.fma(xe, b0)); c0 = co.fma(xo, ce.fma(xe, c0)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 1]), xo = FloatVector.broadcast(F, xq[o + 1]); b1 = bo.fma(xo, be.fma(xe, b1)); c1 = co.fma(xo, ce.fma(xe, c1)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 2]), xo = FloatVector.broadcast(F, xq[o + 2]); b2 = bo.fma(xo, be.fma(xe, b2)); c2 = co.fma(xo, ce.fma(xe, c2)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 3]), xo = FloatVector.broadcast(F, xq[o + 3]); b3 = bo.fma(xo, be.fma(xe, b3)); c3 = co.fma(xo, ce.fma(xe, c3)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 4]), xo = FloatVector.broadcast(F, xq[o + 4]); b4 = bo.fma(xo, be.fma(xe, b4)); c4 = co.fma(xo, ce.fma(xe, c4)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 5]), xo = FloatVector.broadcast(F, xq[o + 5]); b5 = bo.fma(xo, be.fma(xe, b5)); c5 = co.fma(xo, ce.fma(xe, c5)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 6]), xo = FloatVector.broadcast(F, xq[o + 6]); b6 = bo.fma(xo, be.fma(xe, b6)); c6 = co.fma(xo, ce.fma(xe, c6)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 7]), xo = FloatVector.broadcast(F, xq[o + 7]); b7 = bo.fma(xo, be.fma(xe, b7)); c7 = co.fma(xo, ce.fma(xe, c7)); }
        }
        b0.intoArray(res, 0 * B); c0.intoArray(res, 1 * B); b1.intoArray(res, 2 * B); c1.intoArray(res, 3 * B);
        b2.intoArray(res, 4 * B); c2.intoArray(res, 5 * B); b3.intoArray(res, 6 * B); c3.intoArray(res, 7 * B);
        b4.intoArray(res, 8 * B); c4.intoArray(res, 9 * B); b5.intoArray(res, 10 * B); c5.intoArray(res, 11 * B);
        b6.intoArray(res, 12 * B); c6.intoArray(res, 13 * B); b7.intoArray(res, 14 * B); c7.intoArray(res, 15 * B);
    }

    /** {@link #kernelF32} for a group of at most {@link #G8} tokens. */
    private static void kernelF32x8(MemorySegment p, long step, long pb, long pc, int kh, float[] xq, int xb, float[] res) {
        FloatVector b0 = FloatVector.zero(F), b1 = b0, b2 = b0, b3 = b0, b4 = b0, b5 = b0, b6 = b0, b7 = b0;
        FloatVector c0 = b0, c1 = b0, c2 = b0, c3 = b0, c4 = b0, c5 = b0, c6 = b0, c7 = b0;
        for (int j = 0; j < kh; j++) {
            long at = j * step;
            FloatVector be = FloatVector.fromMemorySegment(F, p, pb + at, LE), bo = FloatVector.fromMemorySegment(F, p, pb + at + 4L * B, LE);
            FloatVector ce = FloatVector.fromMemorySegment(F, p, pc + at, LE), co = FloatVector.fromMemorySegment(F, p, pc + at + 4L * B, LE);
            int e = xb + 2 * G * j, o = e + G;
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 0]), xo = FloatVector.broadcast(F, xq[o + 0]); b0 = bo.fma(xo, be.fma(xe, b0)); c0 = co.fma(xo, ce.fma(xe, c0)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 1]), xo = FloatVector.broadcast(F, xq[o + 1]); b1 = bo.fma(xo, be.fma(xe, b1)); c1 = co.fma(xo, ce.fma(xe, c1)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 2]), xo = FloatVector.broadcast(F, xq[o + 2]); b2 = bo.fma(xo, be.fma(xe, b2)); c2 = co.fma(xo, ce.fma(xe, c2)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 3]), xo = FloatVector.broadcast(F, xq[o + 3]); b3 = bo.fma(xo, be.fma(xe, b3)); c3 = co.fma(xo, ce.fma(xe, c3)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 4]), xo = FloatVector.broadcast(F, xq[o + 4]); b4 = bo.fma(xo, be.fma(xe, b4)); c4 = co.fma(xo, ce.fma(xe, c4)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 5]), xo = FloatVector.broadcast(F, xq[o + 5]); b5 = bo.fma(xo, be.fma(xe, b5)); c5 = co.fma(xo, ce.fma(xe, c5)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 6]), xo = FloatVector.broadcast(F, xq[o + 6]); b6 = bo.fma(xo, be.fma(xe, b6)); c6 = co.fma(xo, ce.fma(xe, c6)); }
            { FloatVector xe = FloatVector.broadcast(F, xq[e + 7]), xo = FloatVector.broadcast(F, xq[o + 7]); b7 = bo.fma(xo, be.fma(xe, b7)); c7 = co.fma(xo, ce.fma(xe, c7)); }
        }
        b0.intoArray(res, 0 * B); c0.intoArray(res, 1 * B); b1.intoArray(res, 2 * B); c1.intoArray(res, 3 * B);
        b2.intoArray(res, 4 * B); c2.intoArray(res, 5 * B); b3.intoArray(res, 6 * B); c3.intoArray(res, 7 * B);
        b4.intoArray(res, 8 * B); c4.intoArray(res, 9 * B); b5.intoArray(res, 10 * B); c5.intoArray(res, 11 * B);
        b6.intoArray(res, 12 * B); c6.intoArray(res, 13 * B); b7.intoArray(res, 14 * B); c7.intoArray(res, 15 * B);
    }

    /**
     * Token t's outputs (row t0 + t of out) from a token-group kernel's {@code res} (two row blocks per token, as
     * {@link #kernelBf16} leaves them); tokens past tn are padding.
     */
    private static void emit(float[] res, MemorySegment out, int b, int c, int t0, int tn, int N) {
        for (int t = 0; t < tn; t++) {
            long r = (long) (t0 + t) * N;
            store(FloatVector.fromArray(F, res, 2 * t * B), out, r, b, N);
            store(FloatVector.fromArray(F, res, (2 * t + 1) * B), out, r, c, N);
        }
    }

    /** Stores block {@code blk}'s rows of one token (out row starting at float {@code rowStart}); the last block may be partial. */
    static void store(FloatVector v, MemorySegment out, long rowStart, int blk, int N) {
        int n0 = blk * B;
        long at = (rowStart + n0) * 4;
        if (n0 + B <= N) v.intoMemorySegment(out, at, LE);
        else v.intoMemorySegment(out, at, LE, F.indexInRange(0, N - n0));
    }
}
