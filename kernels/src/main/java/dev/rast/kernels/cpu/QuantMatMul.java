package dev.rast.kernels.cpu;

import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.QuantBlocks;
import dev.rast.kernels.cpu.PackedMatMul.Part;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code out[t, n] = Σ_k x[t, k] · w[n, k]} over a Q8_0 or Q4_0 weight ({@link QuantBlocks}) repacked once, at load,
 * into row blocks, as {@link PackedMatMul} does for BF16 and F32.
 *
 * <p><b>Layout.</b> Rows are cut into blocks of {@link #B} (the float lanes of a vector), the last one padded with
 * zero rows; each block is a run of K-blocks (32 columns each, llama.cpp's blocks, the same bytes in another order):
 * first the B rows' F16 scales side by side, then for Q8_0 32 columns of B int8 (column c: the B rows' values),
 * for Q4_0 16 columns of B bytes (byte j of row r: column j in its low nibble, column j + 16 in its high one, as in
 * llama.cpp's block). So one small load brings one column (or two) of B rows, and the bytes read per weight are
 * llama.cpp's: 34 per 32 weights (Q8_0), 18 (Q4_0).
 *
 * <p><b>Math.</b> llama.cpp's: each row of x is quantized to Q8_0 blocks first (per 32 columns an F16 scale and 32
 * int8, {@link QuantBlocks#quantizeActivations}); then per K-block the 32 integer products are summed exactly and the
 * sum is scaled into the row's F32 sum with one FMA, {@code acc = fma(s, d_w · d_x, acc)}, blocks in order
 * ({@link QuantBlocks#dot}, which the reference backend computes as plain loops). The matvec sums in 16-bit lanes (a
 * Q4_0 block's 32 products, or a Q8_0 pair's, fit; see {@link #dotQ4}), the Q4_0 GEMM in 16-bit lanes too
 * ({@link #gemmQ4}), the Q8_0 GEMM in F32 lanes holding integers below 2^24 (exact); so a token's outputs are the same
 * bits alone (the matvec), in a batch or in a prefill (the GEMM), on any number of threads, and x's quantization is
 * per row, whatever the token count.
 *
 * <p><b>Paths.</b> One token ({@link #matvec}): a work piece's row blocks read as eight interleaved streams, each block
 * through its own slice of the weight, and a piece's last group of four as four streams; Q8_0 ({@link #dotQ8}, its
 * {@code four} flag for that group) takes two columns of B int8 per step, Q4_0 ({@link #dotQ4}, the same flag)
 * two byte columns in one load, widened to 2B shorts. Several tokens, in slices of {@link #SLICE_TOKENS}: Q4_0
 * ({@link #gemmQ4}) widens 8 row blocks to {@code q − 8} as shorts {@link #KC} K-blocks at a time and meets 6 tokens
 * a pass ({@link #kernelS6}, the last one or two {@link #kernelS2}), a matrix of few row blocks also cut into token
 * spans ({@link #tokenSpans}); Q8_0 ({@link #gemm}) widens {@link #R8} row blocks to float integers {@link #KC8}
 * K-blocks at a time and meets 6 tokens of a packed group a pass ({@link #kernel6}, the last one or two
 * {@link #kernel2}).
 *
 * <p>Why quantize x: widening every weight to F32 (one conversion, one multiply and one FMA per weight) made the
 * matvec compute-bound at about half of llama.cpp's speed; 16-bit integer multiply-adds on 16 rows at a time cost a
 * third as many vector operations per weight. It changes the results by x's rounding to 8 bits per block (about
 * 0.4% of a block's largest |x|), as it does llama.cpp's.
 */
final class QuantMatMul {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** Rows per block: one vector of float lanes. */
    static final int B = F.length();
    /** B bytes (one column of a row block) and B shorts (its scales, or its products in the matvec). */
    private static final VectorSpecies<Byte> BYTES = VectorSpecies.of(byte.class, VectorShape.forBitSize(B * 8));
    private static final VectorSpecies<Short> SHORTS = VectorSpecies.of(short.class, VectorShape.forBitSize(B * 16));
    /** 2B bytes (two columns of a Q4_0 row block) and 2B shorts (two row blocks' products, or two columns' of one). */
    private static final VectorSpecies<Byte> BYTES2 = VectorSpecies.of(byte.class, VectorShape.forBitSize(B * 16));
    private static final VectorSpecies<Short> S2 = VectorSpecies.of(short.class, VectorShape.forBitSize(B * 32));
    /** Lane i of 2B shorts from lane 0 (first half) or 1 (second half): two values, each across one half. */
    private static final VectorShuffle<Short> HALVES = VectorShuffle.fromOp(S2, i -> i < B ? 0 : 1);
    /** The two halves of 2B shorts swapped. */
    private static final VectorShuffle<Short> SWAP = VectorShuffle.fromOp(S2, i -> (i + B) % (2 * B));
    private static final int QB = QuantBlocks.BLOCK;
    /** Tokens per packed group of the Q8_0 GEMM's x; its micro-kernels take 6 (or the last 2) of them at a time. */
    static final int G = 12;
    /** Tokens per GEMM call, so that the packed x stays small. */
    static final int SLICE_TOKENS = 16 * G;

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private QuantMatMul() {}

    /** Bytes of one K-block (32 columns) of one row block. */
    static long kBlockBytes(DType dt) { return (long) B * dt.blockBytes(); }

    static long packedBytes(DType dt, int N, int K) {
        return (long) ((N + B - 1) / B) * ((K + QB - 1) / QB) * kBlockBytes(dt);
    }

    /** Packs the row-major {@code [N, K]} blocks of {@code w} into a new segment of {@code arena}. */
    static MemorySegment pack(WorkerPool pool, MemorySegment w, DType dt, int N, int K, Arena arena) {
        if (!dt.quantized()) throw new IllegalArgumentException("not a quantized dtype: " + dt);
        int blocks = (N + B - 1) / B, kb = (K + QB - 1) / QB, bb = dt.blockBytes();
        long rowBytes = dt.rowBytes(K), kbBytes = kBlockBytes(dt), blockBytes = kb * kbBytes;
        MemorySegment p = arena.allocate(blocks * blockBytes, 64);
        int columns = bb - 2;  // bytes of values per block: 32 (Q8_0) or 16 (Q4_0)
        pool.run(blocks, (worker, b0, b1) -> {
            byte[] row = new byte[(int) rowBytes], block = new byte[(int) blockBytes];
            for (int b = b0; b < b1; b++) {
                java.util.Arrays.fill(block, (byte) 0);
                for (int r = 0; r < B && b * B + r < N; r++) {
                    MemorySegment.copy(w, ValueLayout.JAVA_BYTE, (b * B + r) * rowBytes, row, 0, row.length);
                    for (int k = 0; k < kb; k++) {
                        int src = k * bb, dst = (int) (k * kbBytes);
                        block[dst + 2 * r] = row[src];
                        block[dst + 2 * r + 1] = row[src + 1];
                        for (int c = 0; c < columns; c++) block[dst + 2 * B + c * B + r] = row[src + 2 + c];
                    }
                }
                MemorySegment.copy(block, 0, p, ValueLayout.JAVA_BYTE, b * blockBytes, block.length);
            }
        });
        return p;
    }

    static void run(WorkerPool pool, MemorySegment x, MemorySegment p, DType dt, MemorySegment out, int T, int N, int K) {
        run(pool, x, new Part[] {new Part(p, N, out)}, dt, T, K);
    }

    /** Every part's matmul of the same x as one parallel op (their row blocks one range of work). */
    static void run(WorkerPool pool, MemorySegment x, Part[] parts, DType dt, int T, int K) {
        if (T == 1) {
            matvec(pool, x, parts, dt, K);
            return;
        }
        for (int t0 = 0; t0 < T; t0 += SLICE_TOKENS) {
            int n = Math.min(SLICE_TOKENS, T - t0);
            Part[] slice = new Part[parts.length];
            for (int i = 0; i < parts.length; i++) slice[i] = parts[i].tokens(t0, n);
            MemorySegment xs = x.asSlice((long) t0 * K * 4, (long) n * K * 4);
            if (dt == DType.Q4_0) gemmQ4(pool, xs, slice, n, K);
            else gemm(pool, xs, slice, dt, n, K);
        }
    }

    /**
     * A quantized matrix left row-major (one the caller allocated rather than passed through {@code weight()}):
     * {@link QuantBlocks#dot} per output, the packed kernels' math written plainly, so the same bits, only slower.
     */
    static void runInPlace(WorkerPool pool, MemorySegment x, MemorySegment w, DType dt, MemorySegment out, int T, int N, int K) {
        int kb = (K + QB - 1) / QB;
        byte[][] qa = new byte[T][kb * QB];
        float[][] da = new float[T][kb];
        float[] row = new float[K];
        for (int t = 0; t < T; t++) {
            MemorySegment.copy(x, FLOAT, (long) t * K * 4, row, 0, K);
            QuantBlocks.quantizeActivations(row, 0, K, qa[t], 0, da[t], 0);
        }
        pool.run(N, (worker, n0, n1) -> {
            for (int n = n0; n < n1; n++)
                for (int t = 0; t < T; t++) out.setAtIndex(FLOAT, (long) t * N + n, QuantBlocks.dot(dt, w, n, K, qa[t], da[t]));
        });
    }

    /**
     * Row 0 of x quantized ({@link QuantBlocks#quantizeActivations}) for {@link #dotQ8}: block b's integers in order at
     * {@code q[32b, 32b + 32)} (K padded with zeros to whole blocks), its scale at {@code d[b]}.
     */
    private static void quantizeForQ8(MemorySegment x, int K, Work w, short[] q, float[] d) {
        int kb = (K + QB - 1) / QB;
        int[] qi = w.qi(kb * QB);
        quantizeRow(x, 0, K, w.row(kb * QB), 0, qi, d, 0, 1);
        for (int i = 0; i < kb * QB; i += I.length())
            ((ShortVector) IntVector.fromArray(I, qi, i).convertShape(VectorOperators.I2S, SHORTS, 0)).intoArray(q, i);
    }

    /**
     * Row t of x quantized ({@link QuantBlocks#quantizeActivations}), the start every path's x takes: the row into
     * {@code row[ro, ro + KP)} (KP: K padded with zeros to whole blocks), its integers in order into
     * {@code qi[ro, ro + KP)}, block b's scale into {@code d[dOff + b·stride]}.
     */
    private static void quantizeRow(MemorySegment x, int t, int K, float[] row, int ro, int[] qi, float[] d, int dOff, int stride) {
        int kb = (K + QB - 1) / QB;
        MemorySegment.copy(x, FLOAT, (long) t * K * 4, row, ro, K);
        java.util.Arrays.fill(row, ro + K, ro + kb * QB, 0f);  // the last block's padding
        for (int b = 0; b < kb; b++) d[dOff + b * stride] = quantizeBlock(row, ro + b * QB, qi);
    }

    /**
     * {@link QuantBlocks#quantizeActivations}' rule on the 32 values at {@code row[off]}, in vectors: the same amax,
     * d, 1/d and products, and C's roundf exactly (|v| split into its integer part and its fraction, which F32 holds
     * exactly below 2^23, then rounded up from a half), so the same integers; they go to {@code q[off, off + 32)},
     * and the F16 scale, widened, is returned.
     */
    private static float quantizeBlock(float[] row, int off, int[] q) {
        FloatVector amax = FloatVector.zero(F);
        for (int i = 0; i < QB; i += F.length()) amax = amax.max(FloatVector.fromArray(F, row, off + i).abs());
        float d = amax.reduceLanes(VectorOperators.MAX) / 127f, id = d != 0 ? 1f / d : 0f;
        for (int i = 0; i < QB; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, row, off + i).mul(id), a = v.abs();
            IntVector n = (IntVector) a.convert(VectorOperators.F2I, 0);
            FloatVector frac = a.sub((FloatVector) n.convert(VectorOperators.I2F, 0));
            n = n.add(1, frac.compare(VectorOperators.GE, 0.5f).cast(I));
            n.lanewise(VectorOperators.NEG, v.compare(VectorOperators.LT, 0f).cast(I)).intoArray(q, off + i);
        }
        return Float.float16ToFloat(Float.floatToFloat16(d));
    }

    /**
     * The F16 scales of a row block's K-block, at byte {@code at}, widened exactly: the sign-extended F16 shifted into
     * F32's place, its sign copied into bit 31 and cleared from bits 28–30 ({@code (h << 13) & 0x8FFFFFFF}, the scale
     * times 2^−112), rescaled by 2^112. {@link #dotQ8} and {@link #dotQ4} write the same two operations inline.
     */
    private static FloatVector scales(MemorySegment p, long at) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(SHORTS, p, at, LE).convertShape(VectorOperators.S2I, I, 0);
        return h.lanewise(VectorOperators.LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats().mul(0x1p112f);
    }

    // ---------------------------------------------------------------- one token: integer products

    /**
     * x is quantized once, into the caller's buffers ({@link Work}); each work piece is a range of row blocks, read as
     * interleaved streams (the range cut into equal spans, one block of each per pass): the hardware prefetcher follows
     * each stream, so more reads are in flight than one stream gets. Eight streams (a piece's blocks in groups of
     * eight, then at most one group of four, read as four streams), as {@link PackedMatMul}'s one-token matvec reads.
     * Pieces are whole groups of four blocks, so that the spans come out equal; only a matrix's last group, when its
     * block count is not a multiple of four, computes its last block more than once (same values).
     */
    private static void matvec(WorkerPool pool, MemorySegment x, Part[] parts, DType dt, int K) {
        int kb = (K + QB - 1) / QB;
        boolean q8 = dt == DType.Q8_0;
        Work mine = Work.get();
        short[] xq = mine.xq(kb * QB + 2 * B), half = q8 ? null : mine.half(kb);  // 2B past the end: dotQ4's last loads
        float[] xd = mine.xd(kb);
        if (q8) quantizeForQ8(x, K, mine, xq, xd);
        else quantizeForQ4(x, K, mine, xq, half, xd);
        long bb = kb * kBlockBytes(dt);
        int[] first = PackedMatMul.firstUnits(parts, 4);
        pool.run(first[parts.length], (worker, g0, g1) -> PackedMatMul.forParts(parts, first, g0, g1, (part, u0, u1) -> {
            MemorySegment p = part.p(), out = part.out();
            int N = part.N(), b0 = 4 * u0, last = (N + B - 1) / B - 1;
            int eights = (u1 - u0) / 2 * 8, span = eights / 8;
            for (int i = 0; i < span; i++) {
                int a = b0 + i, b = Math.min(a + span, last), c = Math.min(a + 2 * span, last), d = Math.min(a + 3 * span, last);
                int e = Math.min(a + 4 * span, last), f = Math.min(a + 5 * span, last), g = Math.min(a + 6 * span, last), h = Math.min(a + 7 * span, last);
                if (q8) dotQ8(p, a * bb, b * bb, c * bb, d * bb, e * bb, f * bb, g * bb, h * bb, kb, xq, xd, out, false, a, b, c, d, e, f, g, h, N);
                else dotQ4(p, a * bb, b * bb, c * bb, d * bb, e * bb, f * bb, g * bb, h * bb, kb, xq, xd, half, out, false, a, b, c, d, e, f, g, h, N);
            }
            if ((u1 - u0) % 2 == 1) { // a last group of four: four streams of one block
                int a = Math.min(b0 + eights, last), b = Math.min(a + 1, last), c = Math.min(a + 2, last), d = Math.min(a + 3, last);
                if (q8) dotQ8(p, a * bb, b * bb, c * bb, d * bb, d * bb, d * bb, d * bb, d * bb, kb, xq, xd, out, true, a, b, c, d, d, d, d, d, N);
                else dotQ4(p, a * bb, b * bb, c * bb, d * bb, d * bb, d * bb, d * bb, d * bb, kb, xq, xd, half, out, true, a, b, c, d, d, d, d, d, N);
            }
        }));
    }

    /**
     * Blocks a…h (at byte offsets pa…ph) of a Q8_0 weight against one quantized token: per K-block, two columns'
     * int8 × int8 products summed in 16-bit lanes (|w·a| ≤ 128 · 127, two fit), widened and summed in 32-bit lanes,
     * then scaled into the F32 sums ({@link QuantBlocks#dot}). The scales are widened after the products, one block
     * at a time, so that eight streams' sums and partial sums fit the registers. Each block is read through its own
     * slice of {@code p}, so that the eight streams' loads of a column take one offset: with each stream's own
     * offset into {@code p}, the loads' bounds checks made the kernel about a quarter slower (one core, weights in
     * cache: 25 against 32 G weights/s). With {@code four}, only blocks a…d (e…h are not read).
     */
    private static void dotQ8(MemorySegment p, long pa, long pb, long pc, long pd, long pe, long pf, long pg, long ph,
                              int kb, short[] x, float[] xd, MemorySegment out, boolean four,
                              int a, int b, int c, int d, int e, int f, int g, int h, int N) {
        long bytes = kb * 34L * B;
        MemorySegment ma = p.asSlice(pa, bytes), mb = p.asSlice(pb, bytes), mc = p.asSlice(pc, bytes), md = p.asSlice(pd, bytes), me = p.asSlice(pe, bytes), mf = p.asSlice(pf, bytes), mg = p.asSlice(pg, bytes), mh = p.asSlice(ph, bytes);
        FloatVector sa = FloatVector.zero(F), sb = sa, sc = sa, sd = sa, se = sa, sf = sa, sg = sa, sh = sa;
        long kbBytes = 34L * B;
        for (int k = 0; k < kb; k++) {
            long o = k * kbBytes, q = o + 2L * B;
            int xk = k * QB;
            IntVector ia = IntVector.zero(I), ib = ia, ic = ia, id = ia, ie = ia, jf = ia, ig = ia, ih = ia;
            for (int j = 0; j < QB; j += 2) {
                ShortVector x0 = ShortVector.broadcast(SHORTS, x[xk + j]), x1 = ShortVector.broadcast(SHORTS, x[xk + j + 1]);
                long at = q + (long) j * B, at1 = at + B;
                ShortVector wa = (ShortVector) ByteVector.fromMemorySegment(BYTES, ma, at, LE).convertShape(VectorOperators.B2S, SHORTS, 0);
                ShortVector va = (ShortVector) ByteVector.fromMemorySegment(BYTES, ma, at1, LE).convertShape(VectorOperators.B2S, SHORTS, 0);
                ia = ia.add((IntVector) wa.mul(x0).add(va.mul(x1)).convertShape(VectorOperators.S2I, I, 0));
                ShortVector wb = (ShortVector) ByteVector.fromMemorySegment(BYTES, mb, at, LE).convertShape(VectorOperators.B2S, SHORTS, 0);
                ShortVector vb = (ShortVector) ByteVector.fromMemorySegment(BYTES, mb, at1, LE).convertShape(VectorOperators.B2S, SHORTS, 0);
                ib = ib.add((IntVector) wb.mul(x0).add(vb.mul(x1)).convertShape(VectorOperators.S2I, I, 0));
                ShortVector wc = (ShortVector) ByteVector.fromMemorySegment(BYTES, mc, at, LE).convertShape(VectorOperators.B2S, SHORTS, 0);
                ShortVector vc = (ShortVector) ByteVector.fromMemorySegment(BYTES, mc, at1, LE).convertShape(VectorOperators.B2S, SHORTS, 0);
                ic = ic.add((IntVector) wc.mul(x0).add(vc.mul(x1)).convertShape(VectorOperators.S2I, I, 0));
                ShortVector wd = (ShortVector) ByteVector.fromMemorySegment(BYTES, md, at, LE).convertShape(VectorOperators.B2S, SHORTS, 0);
                ShortVector vd = (ShortVector) ByteVector.fromMemorySegment(BYTES, md, at1, LE).convertShape(VectorOperators.B2S, SHORTS, 0);
                id = id.add((IntVector) wd.mul(x0).add(vd.mul(x1)).convertShape(VectorOperators.S2I, I, 0));
                if (four) continue;
                ShortVector we = (ShortVector) ByteVector.fromMemorySegment(BYTES, me, at, LE).convertShape(VectorOperators.B2S, SHORTS, 0);
                ShortVector ve = (ShortVector) ByteVector.fromMemorySegment(BYTES, me, at1, LE).convertShape(VectorOperators.B2S, SHORTS, 0);
                ie = ie.add((IntVector) we.mul(x0).add(ve.mul(x1)).convertShape(VectorOperators.S2I, I, 0));
                ShortVector wf = (ShortVector) ByteVector.fromMemorySegment(BYTES, mf, at, LE).convertShape(VectorOperators.B2S, SHORTS, 0);
                ShortVector vf = (ShortVector) ByteVector.fromMemorySegment(BYTES, mf, at1, LE).convertShape(VectorOperators.B2S, SHORTS, 0);
                jf = jf.add((IntVector) wf.mul(x0).add(vf.mul(x1)).convertShape(VectorOperators.S2I, I, 0));
                ShortVector wg = (ShortVector) ByteVector.fromMemorySegment(BYTES, mg, at, LE).convertShape(VectorOperators.B2S, SHORTS, 0);
                ShortVector vg = (ShortVector) ByteVector.fromMemorySegment(BYTES, mg, at1, LE).convertShape(VectorOperators.B2S, SHORTS, 0);
                ig = ig.add((IntVector) wg.mul(x0).add(vg.mul(x1)).convertShape(VectorOperators.S2I, I, 0));
                ShortVector wh = (ShortVector) ByteVector.fromMemorySegment(BYTES, mh, at, LE).convertShape(VectorOperators.B2S, SHORTS, 0);
                ShortVector vh = (ShortVector) ByteVector.fromMemorySegment(BYTES, mh, at1, LE).convertShape(VectorOperators.B2S, SHORTS, 0);
                ih = ih.add((IntVector) wh.mul(x0).add(vh.mul(x1)).convertShape(VectorOperators.S2I, I, 0));
            }
            FloatVector s = FloatVector.broadcast(F, xd[k]);
            // F16 → F32 exactly, written out rather than called (scales()) to stay within C2's inlining budget: the
            // sign-extended F16 shifted into F32's place, its sign copied into bit 31 and cleared from bits 28–30
            IntVector ha = (IntVector) ShortVector.fromMemorySegment(SHORTS, ma, o, LE).convertShape(VectorOperators.S2I, I, 0);
            sa = ((FloatVector) ia.convert(VectorOperators.I2F, 0)).fma(ha.lanewise(VectorOperators.LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats().mul(0x1p112f).mul(s), sa);
            IntVector hb = (IntVector) ShortVector.fromMemorySegment(SHORTS, mb, o, LE).convertShape(VectorOperators.S2I, I, 0);
            sb = ((FloatVector) ib.convert(VectorOperators.I2F, 0)).fma(hb.lanewise(VectorOperators.LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats().mul(0x1p112f).mul(s), sb);
            IntVector hc = (IntVector) ShortVector.fromMemorySegment(SHORTS, mc, o, LE).convertShape(VectorOperators.S2I, I, 0);
            sc = ((FloatVector) ic.convert(VectorOperators.I2F, 0)).fma(hc.lanewise(VectorOperators.LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats().mul(0x1p112f).mul(s), sc);
            IntVector hd = (IntVector) ShortVector.fromMemorySegment(SHORTS, md, o, LE).convertShape(VectorOperators.S2I, I, 0);
            sd = ((FloatVector) id.convert(VectorOperators.I2F, 0)).fma(hd.lanewise(VectorOperators.LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats().mul(0x1p112f).mul(s), sd);
            if (four) continue;
            IntVector he = (IntVector) ShortVector.fromMemorySegment(SHORTS, me, o, LE).convertShape(VectorOperators.S2I, I, 0);
            se = ((FloatVector) ie.convert(VectorOperators.I2F, 0)).fma(he.lanewise(VectorOperators.LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats().mul(0x1p112f).mul(s), se);
            IntVector hf = (IntVector) ShortVector.fromMemorySegment(SHORTS, mf, o, LE).convertShape(VectorOperators.S2I, I, 0);
            sf = ((FloatVector) jf.convert(VectorOperators.I2F, 0)).fma(hf.lanewise(VectorOperators.LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats().mul(0x1p112f).mul(s), sf);
            IntVector hg = (IntVector) ShortVector.fromMemorySegment(SHORTS, mg, o, LE).convertShape(VectorOperators.S2I, I, 0);
            sg = ((FloatVector) ig.convert(VectorOperators.I2F, 0)).fma(hg.lanewise(VectorOperators.LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats().mul(0x1p112f).mul(s), sg);
            IntVector hh = (IntVector) ShortVector.fromMemorySegment(SHORTS, mh, o, LE).convertShape(VectorOperators.S2I, I, 0);
            sh = ((FloatVector) ih.convert(VectorOperators.I2F, 0)).fma(hh.lanewise(VectorOperators.LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats().mul(0x1p112f).mul(s), sh);
        }
        PackedMatMul.store(sa, out, 0, a, N);
        PackedMatMul.store(sb, out, 0, b, N);
        PackedMatMul.store(sc, out, 0, c, N);
        PackedMatMul.store(sd, out, 0, d, N);
        if (four) return;
        PackedMatMul.store(se, out, 0, e, N);
        PackedMatMul.store(sf, out, 0, f, N);
        PackedMatMul.store(sg, out, 0, g, N);
        PackedMatMul.store(sh, out, 0, h, N);
    }

    /**
     * Row 0 of x quantized ({@link QuantBlocks#quantizeActivations}) for {@link #dotQ4}: per K-block b, the integers
     * of columns j &lt; 16 (a byte's low nibbles) at {@code q[32b + j]}, and at {@code q[32b + 16 + j]} those of columns
     * j + 16 less 16 times column j's ({@code a_{j+16} − 16 · a_j}: the high nibble's weight once the whole byte,
     * {@code lo + 16 · hi}, multiplies a_j); {@code half[b] = −4 · Σ a}, half of Q4_0's offset ({@code Σ (w − 8) · a
     * = Σ w · a − 8 · Σ a}), once in each of the two halves that dotQ4 adds; {@code d[b]} the scale times 2^112, so
     * that it meets the weights' scales unrescaled (products of the same reals, so the same rounding).
     */
    private static void quantizeForQ4(MemorySegment x, int K, Work w, short[] q, short[] half, float[] d) {
        int kb = (K + QB - 1) / QB;
        int[] qi = w.qi(kb * QB);
        quantizeRow(x, 0, K, w.row(kb * QB), 0, qi, d, 0, 1);
        for (int b = 0; b < kb; b++) {
            d[b] *= 0x1p112f;
            int sum = 0;
            for (int j = b * QB; j < b * QB + QB / 2; j += I.length()) {
                IntVector lo = IntVector.fromArray(I, qi, j), hi = IntVector.fromArray(I, qi, j + QB / 2);
                sum += lo.add(hi).reduceLanes(VectorOperators.ADD);
                ((ShortVector) lo.convertShape(VectorOperators.I2S, SHORTS, 0)).intoArray(q, j);
                ((ShortVector) hi.sub(lo.lanewise(VectorOperators.LSHL, 4)).convertShape(VectorOperators.I2S, SHORTS, 0)).intoArray(q, j + QB / 2);
            }
            half[b] = (short) (-4 * sum);
        }
    }

    /**
     * {@link #dotQ8} for Q4_0 (x from {@link #quantizeForQ4}): a K-block's 32 products {@code (w − 8) · a} summed in
     * 16-bit lanes, two columns of a row block at a time: one load of 2B bytes (byte columns j and j + 1, B rows
     * each) widened to 2B shorts, each {@code lo + 16 · hi}, multiplied by its column's a_j (x's two values permuted
     * across the two halves) and its high nibble by {@code a_{j+16} − 16 · a_j} (so Σ lo · a_j + hi · a_{j+16}), a
     * shift, two multiplies and two adds per 2B bytes. Per
     * K-block the halves are added, which adds the offset −8 · Σ a (half of it in each), widened, converted and scaled
     * into the F32 sums ({@link QuantBlocks#dot}). The partial sums may wrap around 2^16, but the total, |Σ| ≤ 32 · 8
     * · 127 = 32512, is in range, so it comes out exact (arithmetic modulo 2^16). The scales are widened after the
     * products, one block at a time, so that eight streams' sums and partial sums fit the registers: F16's bits moved
     * into F32's place ({@code (h << 13) & 0x8FFFFFFF}, the sign kept where the short's sign extension put it), which
     * is the scale times 2^−112, and the x scale carries the 2^112. Each block is read through its own slice of
     * {@code p}, so that the eight streams' loads of a column take one offset, which makes C2's bounds checks much
     * cheaper: with each stream's own offset into {@code p} the kernel was 1.17× slower on cache-resident weights
     * (one core: 38 against 45 G weights/s). With {@code four}, only blocks a…d (a piece's last group of four, which
     * eight streams would compute twice).
     */
    private static void dotQ4(MemorySegment p, long pa, long pb, long pc, long pd, long pe, long pf, long pg, long ph,
                              int kb, short[] x, float[] xd, short[] half, MemorySegment out, boolean four,
                              int a, int b, int c, int d, int e, int f, int g, int h, int N) {
        long bytes = kb * 18L * B;
        MemorySegment ma = p.asSlice(pa, bytes), mb = p.asSlice(pb, bytes), mc = p.asSlice(pc, bytes), md = p.asSlice(pd, bytes);
        MemorySegment me = p.asSlice(pe, bytes), mf = p.asSlice(pf, bytes), mg = p.asSlice(pg, bytes), mh = p.asSlice(ph, bytes);
        FloatVector sa = FloatVector.zero(F), sb = sa, sc = sa, sd = sa, se = sa, sf = sa, sg = sa, sh = sa;
        long kbBytes = 18L * B;
        for (int k = 0; k < kb; k++) {
            long o = k * kbBytes, q = o + 2L * B;
            int xk = k * QB;
            ShortVector ia = ShortVector.broadcast(S2, half[k]), ib = ia, ic = ia, id = ia, ie = ia, jf = ia, ig = ia, ih = ia;
            for (int j = 0; j < QB / 2; j += 2) {
                ShortVector lo = ShortVector.fromArray(S2, x, xk + j).rearrange(HALVES), hi = ShortVector.fromArray(S2, x, xk + QB / 2 + j).rearrange(HALVES);
                long at = q + (long) j * B;
                ShortVector va = (ShortVector) ByteVector.fromMemorySegment(BYTES2, ma, at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S2, 0);
                ia = ia.add(va.mul(lo)).add(va.lanewise(VectorOperators.LSHR, 4).mul(hi));
                ShortVector vb = (ShortVector) ByteVector.fromMemorySegment(BYTES2, mb, at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S2, 0);
                ib = ib.add(vb.mul(lo)).add(vb.lanewise(VectorOperators.LSHR, 4).mul(hi));
                ShortVector vc = (ShortVector) ByteVector.fromMemorySegment(BYTES2, mc, at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S2, 0);
                ic = ic.add(vc.mul(lo)).add(vc.lanewise(VectorOperators.LSHR, 4).mul(hi));
                ShortVector vd = (ShortVector) ByteVector.fromMemorySegment(BYTES2, md, at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S2, 0);
                id = id.add(vd.mul(lo)).add(vd.lanewise(VectorOperators.LSHR, 4).mul(hi));
                if (four) continue;
                ShortVector ve = (ShortVector) ByteVector.fromMemorySegment(BYTES2, me, at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S2, 0);
                ie = ie.add(ve.mul(lo)).add(ve.lanewise(VectorOperators.LSHR, 4).mul(hi));
                ShortVector vf = (ShortVector) ByteVector.fromMemorySegment(BYTES2, mf, at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S2, 0);
                jf = jf.add(vf.mul(lo)).add(vf.lanewise(VectorOperators.LSHR, 4).mul(hi));
                ShortVector vg = (ShortVector) ByteVector.fromMemorySegment(BYTES2, mg, at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S2, 0);
                ig = ig.add(vg.mul(lo)).add(vg.lanewise(VectorOperators.LSHR, 4).mul(hi));
                ShortVector vh = (ShortVector) ByteVector.fromMemorySegment(BYTES2, mh, at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S2, 0);
                ih = ih.add(vh.mul(lo)).add(vh.lanewise(VectorOperators.LSHR, 4).mul(hi));
            }
            FloatVector s = FloatVector.broadcast(F, xd[k]);
            // written out rather than called, to stay within C2's inlining budget
            sa = ((FloatVector) ia.add(ia.rearrange(SWAP)).convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0)).fma(((IntVector) ShortVector.fromMemorySegment(SHORTS, ma, o, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats().mul(s), sa);
            sb = ((FloatVector) ib.add(ib.rearrange(SWAP)).convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0)).fma(((IntVector) ShortVector.fromMemorySegment(SHORTS, mb, o, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats().mul(s), sb);
            sc = ((FloatVector) ic.add(ic.rearrange(SWAP)).convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0)).fma(((IntVector) ShortVector.fromMemorySegment(SHORTS, mc, o, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats().mul(s), sc);
            sd = ((FloatVector) id.add(id.rearrange(SWAP)).convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0)).fma(((IntVector) ShortVector.fromMemorySegment(SHORTS, md, o, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats().mul(s), sd);
            if (four) continue;
            se = ((FloatVector) ie.add(ie.rearrange(SWAP)).convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0)).fma(((IntVector) ShortVector.fromMemorySegment(SHORTS, me, o, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats().mul(s), se);
            sf = ((FloatVector) jf.add(jf.rearrange(SWAP)).convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0)).fma(((IntVector) ShortVector.fromMemorySegment(SHORTS, mf, o, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats().mul(s), sf);
            sg = ((FloatVector) ig.add(ig.rearrange(SWAP)).convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0)).fma(((IntVector) ShortVector.fromMemorySegment(SHORTS, mg, o, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats().mul(s), sg);
            sh = ((FloatVector) ih.add(ih.rearrange(SWAP)).convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0)).fma(((IntVector) ShortVector.fromMemorySegment(SHORTS, mh, o, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats().mul(s), sh);
        }
        PackedMatMul.store(sa, out, 0, a, N);
        PackedMatMul.store(sb, out, 0, b, N);
        PackedMatMul.store(sc, out, 0, c, N);
        PackedMatMul.store(sd, out, 0, d, N);
        if (four) return;
        PackedMatMul.store(se, out, 0, e, N);
        PackedMatMul.store(sf, out, 0, f, N);
        PackedMatMul.store(sg, out, 0, g, N);
        PackedMatMul.store(sh, out, 0, h, N);
    }

    // ---------------------------------------------------------------- several tokens of Q8_0: bound by FMAs

    /** Row blocks per Q8_0 GEMM work unit: four, so that 6 tokens make 24 register accumulators. */
    private static final int R8 = 4;
    /** K-blocks of a unit widened at a time: 4 row blocks × 128 columns of floats, 32 KiB, which every token meets before the next chunk (2, 4 and 8 measured alike). */
    private static final int KC8 = 4;

    /**
     * The Q8_0 GEMM (Q4_0's is {@link #gemmQ4}): x is quantized once and packed into groups of {@link #G} tokens as
     * floats ({@link #quantizeGroup}): integers {@code xq[(g·KP + pos)·G + t]}, KP = K rounded up to 32, columns in
     * order (Q8_0's packed order); scales {@code xd[(g·kb + b)·G + t]} (tokens past T: zero). Each work unit, {@link #R8} row blocks,
     * is widened {@link #KC8} K-blocks at a time into float integers and F32 scales ({@link #widenQ8}), which every
     * token then meets in F32 micro-kernels ({@link #kernel6}): the products and their block sums are integers below
     * 2^24, exact in F32, so the sums are the matvec's, and each token's totals ({@code tot}, in memory between
     * chunks) take one FMA per K-block, K-blocks in order.
     */
    private static void gemm(WorkerPool pool, MemorySegment x, Part[] parts, DType dt, int T, int K) {
        int kb = (K + QB - 1) / QB, KP = kb * QB, groups = (T + G - 1) / G;
        float[] xq = Scratch.get(Scratch.GEMM_XP, groups * KP * G), xd = Scratch.get(Scratch.GEMM_X, groups * kb * G);
        pool.run(groups, (worker, g0, g1) -> {  // groups quantized in parallel: each row on its own, the same bits
            Work w = Work.get();
            float[] rows = w.row(G * KP);
            int[] qi = w.qi((G + 1) * KP);  // the group's integers, row by row; row G zero, read for tokens past T
            java.util.Arrays.fill(qi, G * KP, (G + 1) * KP, 0);
            for (int g = g0; g < g1; g++) quantizeGroup(x, g, Math.min(G, T - g * G), K, rows, qi, w.map, xq, xd);
        });
        long blockBytes = kb * kBlockBytes(dt);
        int[] first = PackedMatMul.firstUnits(parts, R8);
        pool.run(first[parts.length], (worker, u0, u1) -> {
            Work w = Work.get();
            float[] tot = w.tot(groups * G * R8 * B), wf = w.wf8, ws = w.ws8;
            long[] at = w.at8;
            PackedMatMul.forParts(parts, first, u0, u1, (part, q0, q1) -> {
                MemorySegment p = part.p(), out = part.out();
                int N = part.N(), blocks = (N + B - 1) / B;
                for (int q = q0; q < q1; q++) {
                    for (int r = 0; r < R8; r++) at[r] = Math.min(R8 * q + r, blocks - 1) * blockBytes;  // past the end: the last block again
                    java.util.Arrays.fill(tot, 0, T * R8 * B, 0f);
                    for (int k0 = 0; k0 < kb; k0 += KC8) {
                        int kn = Math.min(KC8, kb - k0);
                        widenQ8(p, at, k0, kn, wf, ws);
                        for (int t = 0; t < T; ) {
                            int g = t / G, o = t % G, xb = (g * KP + k0 * QB) * G + o, db = (g * kb + k0) * G + o;
                            if (T - t <= 2) { kernel2(wf, ws, kn, xq, xd, xb, db, tot, t * R8 * B); t += 2; }
                            else { kernel6(wf, ws, kn, xq, xd, xb, db, tot, t * R8 * B); t += 6; }
                        }
                    }
                    for (int t = 0; t < T; t++)
                        for (int r = 0; r < R8 && R8 * q + r < blocks; r++)
                            PackedMatMul.store(FloatVector.fromArray(F, tot, (t * R8 + r) * B), out, (long) t * N, R8 * q + r, N);
                }
            });
        });
    }

    /**
     * Rows g·G to g·G + tn of x quantized ({@link #quantizeRow}) into group g of the Q8_0 GEMM's packed x: each row's
     * integers into {@code qi} first (row i at i·KP), then gathered column by column into the group's layout, its
     * tokens side by side ({@code xq[(g·KP + pos)·G + i]}), tokens past tn zero (from row G of {@code qi}, never
     * written), so that the writes run through memory in order.
     */
    private static void quantizeGroup(MemorySegment x, int g, int tn, int K, float[] rows, int[] qi, int[] map, float[] xq, float[] xd) {
        int kb = (K + QB - 1) / QB, KP = kb * QB;
        for (int i = 0; i < G; i++)
            if (i < tn) quantizeRow(x, g * G + i, K, rows, i * KP, qi, xd, g * kb * G + i, G);
            else for (int b = 0; b < kb; b++) xd[(g * kb + b) * G + i] = 0f;
        for (int s = 0; s < G; s += B) {  // one gather of up to B tokens per column
            for (int i = 0; i < B; i++) map[i] = (s + i < tn ? s + i : G) * KP;
            VectorMask<Float> lanes = F.indexInRange(0, Math.min(B, G - s));
            for (int pos = 0, at = g * KP * G + s; pos < KP; pos++, at += G)
                ((FloatVector) IntVector.fromArray(I, qi, pos, map, 0).convert(VectorOperators.I2F, 0)).intoArray(xq, at, lanes);
        }
    }

    /**
     * K-blocks k0 to k0 + kn of the Q8_0 row blocks at byte offsets {@code at} as float integers into {@code wf}
     * (column j of the chunk, block r: {@code (R8·j + r)·B}) and their scales into {@code ws} (K-block k of the chunk,
     * block r: {@code (R8·k + r)·B}).
     */
    private static void widenQ8(MemorySegment p, long[] at, int k0, int kn, float[] wf, float[] ws) {
        long kbBytes = 34L * B;
        for (int k = 0; k < kn; k++)
            for (int r = 0; r < R8; r++) {
                long o = at[r] + (k0 + k) * kbBytes;
                scales(p, o).intoArray(ws, (R8 * k + r) * B);
                for (int j = 0; j < QB; j++)
                    ((FloatVector) ByteVector.fromMemorySegment(BYTES, p, o + 2L * B + (long) j * B, LE).convertShape(VectorOperators.B2F, F, 0))
                            .intoArray(wf, (R8 * (k * QB + j) + r) * B);
            }
    }

    /**
     * Four widened row blocks (K-blocks of a chunk, {@link #widenQ8}) × 6 tokens (of a group, from offset o) into their
     * totals {@code tot} (token i: block r at to + (R8·i + r)·B): per K-block, the 32 columns' products summed in 24
     * register accumulators (exact: integers below 2^24), then each scaled into its token's total by its rows' and
     * token's scales, one FMA ({@link QuantBlocks#dot}), K-blocks in order. Written out, with no helpers, for C2's
     * inlining (see {@link PackedMatMul}'s kernels).
     */
    private static void kernel6(float[] wf, float[] ws, int kn, float[] xq, float[] xd, int xb, int db, float[] tot, int to) {
        for (int k = 0; k < kn; k++) {
            FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00, a40 = a00, a41 = a00, a42 = a00, a43 = a00, a50 = a00, a51 = a00, a52 = a00, a53 = a00;
            for (int j = k * QB; j < (k + 1) * QB; j++) {
                FloatVector w0 = FloatVector.fromArray(F, wf, (4 * j + 0) * B), w1 = FloatVector.fromArray(F, wf, (4 * j + 1) * B), w2 = FloatVector.fromArray(F, wf, (4 * j + 2) * B), w3 = FloatVector.fromArray(F, wf, (4 * j + 3) * B);
                int e = xb + j * G;
                { FloatVector v = FloatVector.broadcast(F, xq[e + 0]); a00 = w0.fma(v, a00); a01 = w1.fma(v, a01); a02 = w2.fma(v, a02); a03 = w3.fma(v, a03); }
                { FloatVector v = FloatVector.broadcast(F, xq[e + 1]); a10 = w0.fma(v, a10); a11 = w1.fma(v, a11); a12 = w2.fma(v, a12); a13 = w3.fma(v, a13); }
                { FloatVector v = FloatVector.broadcast(F, xq[e + 2]); a20 = w0.fma(v, a20); a21 = w1.fma(v, a21); a22 = w2.fma(v, a22); a23 = w3.fma(v, a23); }
                { FloatVector v = FloatVector.broadcast(F, xq[e + 3]); a30 = w0.fma(v, a30); a31 = w1.fma(v, a31); a32 = w2.fma(v, a32); a33 = w3.fma(v, a33); }
                { FloatVector v = FloatVector.broadcast(F, xq[e + 4]); a40 = w0.fma(v, a40); a41 = w1.fma(v, a41); a42 = w2.fma(v, a42); a43 = w3.fma(v, a43); }
                { FloatVector v = FloatVector.broadcast(F, xq[e + 5]); a50 = w0.fma(v, a50); a51 = w1.fma(v, a51); a52 = w2.fma(v, a52); a53 = w3.fma(v, a53); }
            }
            FloatVector s0 = FloatVector.fromArray(F, ws, (4 * k + 0) * B), s1 = FloatVector.fromArray(F, ws, (4 * k + 1) * B), s2 = FloatVector.fromArray(F, ws, (4 * k + 2) * B), s3 = FloatVector.fromArray(F, ws, (4 * k + 3) * B);
            int e = db + k * G;
            { FloatVector d = FloatVector.broadcast(F, xd[e + 0]); int t = to + 0 * B; a00.fma(s0.mul(d), FloatVector.fromArray(F, tot, t + 0 * B)).intoArray(tot, t + 0 * B); a01.fma(s1.mul(d), FloatVector.fromArray(F, tot, t + 1 * B)).intoArray(tot, t + 1 * B); a02.fma(s2.mul(d), FloatVector.fromArray(F, tot, t + 2 * B)).intoArray(tot, t + 2 * B); a03.fma(s3.mul(d), FloatVector.fromArray(F, tot, t + 3 * B)).intoArray(tot, t + 3 * B); }
            { FloatVector d = FloatVector.broadcast(F, xd[e + 1]); int t = to + 4 * B; a10.fma(s0.mul(d), FloatVector.fromArray(F, tot, t + 0 * B)).intoArray(tot, t + 0 * B); a11.fma(s1.mul(d), FloatVector.fromArray(F, tot, t + 1 * B)).intoArray(tot, t + 1 * B); a12.fma(s2.mul(d), FloatVector.fromArray(F, tot, t + 2 * B)).intoArray(tot, t + 2 * B); a13.fma(s3.mul(d), FloatVector.fromArray(F, tot, t + 3 * B)).intoArray(tot, t + 3 * B); }
            { FloatVector d = FloatVector.broadcast(F, xd[e + 2]); int t = to + 8 * B; a20.fma(s0.mul(d), FloatVector.fromArray(F, tot, t + 0 * B)).intoArray(tot, t + 0 * B); a21.fma(s1.mul(d), FloatVector.fromArray(F, tot, t + 1 * B)).intoArray(tot, t + 1 * B); a22.fma(s2.mul(d), FloatVector.fromArray(F, tot, t + 2 * B)).intoArray(tot, t + 2 * B); a23.fma(s3.mul(d), FloatVector.fromArray(F, tot, t + 3 * B)).intoArray(tot, t + 3 * B); }
            { FloatVector d = FloatVector.broadcast(F, xd[e + 3]); int t = to + 12 * B; a30.fma(s0.mul(d), FloatVector.fromArray(F, tot, t + 0 * B)).intoArray(tot, t + 0 * B); a31.fma(s1.mul(d), FloatVector.fromArray(F, tot, t + 1 * B)).intoArray(tot, t + 1 * B); a32.fma(s2.mul(d), FloatVector.fromArray(F, tot, t + 2 * B)).intoArray(tot, t + 2 * B); a33.fma(s3.mul(d), FloatVector.fromArray(F, tot, t + 3 * B)).intoArray(tot, t + 3 * B); }
            { FloatVector d = FloatVector.broadcast(F, xd[e + 4]); int t = to + 16 * B; a40.fma(s0.mul(d), FloatVector.fromArray(F, tot, t + 0 * B)).intoArray(tot, t + 0 * B); a41.fma(s1.mul(d), FloatVector.fromArray(F, tot, t + 1 * B)).intoArray(tot, t + 1 * B); a42.fma(s2.mul(d), FloatVector.fromArray(F, tot, t + 2 * B)).intoArray(tot, t + 2 * B); a43.fma(s3.mul(d), FloatVector.fromArray(F, tot, t + 3 * B)).intoArray(tot, t + 3 * B); }
            { FloatVector d = FloatVector.broadcast(F, xd[e + 5]); int t = to + 20 * B; a50.fma(s0.mul(d), FloatVector.fromArray(F, tot, t + 0 * B)).intoArray(tot, t + 0 * B); a51.fma(s1.mul(d), FloatVector.fromArray(F, tot, t + 1 * B)).intoArray(tot, t + 1 * B); a52.fma(s2.mul(d), FloatVector.fromArray(F, tot, t + 2 * B)).intoArray(tot, t + 2 * B); a53.fma(s3.mul(d), FloatVector.fromArray(F, tot, t + 3 * B)).intoArray(tot, t + 3 * B); }
        }
    }

    /** {@link #kernel6} for the last one or two tokens of a batch or prompt. */
    private static void kernel2(float[] wf, float[] ws, int kn, float[] xq, float[] xd, int xb, int db, float[] tot, int to) {
        for (int k = 0; k < kn; k++) {
            FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            for (int j = k * QB; j < (k + 1) * QB; j++) {
                FloatVector w0 = FloatVector.fromArray(F, wf, (4 * j + 0) * B), w1 = FloatVector.fromArray(F, wf, (4 * j + 1) * B), w2 = FloatVector.fromArray(F, wf, (4 * j + 2) * B), w3 = FloatVector.fromArray(F, wf, (4 * j + 3) * B);
                int e = xb + j * G;
                { FloatVector v = FloatVector.broadcast(F, xq[e + 0]); a00 = w0.fma(v, a00); a01 = w1.fma(v, a01); a02 = w2.fma(v, a02); a03 = w3.fma(v, a03); }
                { FloatVector v = FloatVector.broadcast(F, xq[e + 1]); a10 = w0.fma(v, a10); a11 = w1.fma(v, a11); a12 = w2.fma(v, a12); a13 = w3.fma(v, a13); }
            }
            FloatVector s0 = FloatVector.fromArray(F, ws, (4 * k + 0) * B), s1 = FloatVector.fromArray(F, ws, (4 * k + 1) * B), s2 = FloatVector.fromArray(F, ws, (4 * k + 2) * B), s3 = FloatVector.fromArray(F, ws, (4 * k + 3) * B);
            int e = db + k * G;
            { FloatVector d = FloatVector.broadcast(F, xd[e + 0]); int t = to + 0 * B; a00.fma(s0.mul(d), FloatVector.fromArray(F, tot, t + 0 * B)).intoArray(tot, t + 0 * B); a01.fma(s1.mul(d), FloatVector.fromArray(F, tot, t + 1 * B)).intoArray(tot, t + 1 * B); a02.fma(s2.mul(d), FloatVector.fromArray(F, tot, t + 2 * B)).intoArray(tot, t + 2 * B); a03.fma(s3.mul(d), FloatVector.fromArray(F, tot, t + 3 * B)).intoArray(tot, t + 3 * B); }
            { FloatVector d = FloatVector.broadcast(F, xd[e + 1]); int t = to + 4 * B; a10.fma(s0.mul(d), FloatVector.fromArray(F, tot, t + 0 * B)).intoArray(tot, t + 0 * B); a11.fma(s1.mul(d), FloatVector.fromArray(F, tot, t + 1 * B)).intoArray(tot, t + 1 * B); a12.fma(s2.mul(d), FloatVector.fromArray(F, tot, t + 2 * B)).intoArray(tot, t + 2 * B); a13.fma(s3.mul(d), FloatVector.fromArray(F, tot, t + 3 * B)).intoArray(tot, t + 3 * B); }
        }
    }


    // ---------------------------------------------------------------- several tokens of Q4_0: 16-bit products

    /** Row-block pairs per Q4_0 GEMM work unit (eight row blocks: 24 accumulators for 6 tokens). */
    private static final int U = 4;
    /**
     * K-blocks widened at a time: 8 row blocks × 256 columns of shorts, 64 KiB, from L2 while every token of a span
     * meets them. A token's totals are loaded and stored once per chunk ({@link #scale} after the chunk's sums), and
     * that pays more than keeping the chunk in L1 did (3 K-blocks, 24 KiB: about 4% slower, 16 about the same).
     */
    private static final int KC = 8;

    /**
     * The Q4_0 GEMM: x quantized once, row by row, as shorts ({@code xq[t·KP + pos]}, columns in packed order; scales
     * {@code xd[t·kb + b]}; {@link #quantizeQ4Row}; rows past T up to a multiple of 6 hold whatever the buffer last held,
     * and go only into totals that are never stored); each work item, 2·{@link #U} row blocks and a span of tokens
     * ({@link #tokenSpans}), is widened {@link #KC} K-blocks at a time into {@code q − 8} as shorts and F32 scales, which
     * every token of the span then meets in {@link #kernelS6}: a 32-block's products summed in 16-bit lanes are exact, so
     * the sums are the matvec's, and each token's totals take one FMA per K-block, K-blocks in order ({@link #scale}).
     * The buffers are the threads' own, kept between calls ({@link Work}).
     */
    private static void gemmQ4(WorkerPool pool, MemorySegment x, Part[] parts, int T, int K) {
        int kb = (K + QB - 1) / QB, KP = kb * QB, rows = (T + 5) / 6 * 6, R = 2 * U;
        Work mine = Work.get();
        short[] xq = mine.xq(rows * KP);  // tokens past T: whatever was there, read only into totals never stored
        float[] xd = mine.xd(rows * kb);
        pool.run(T, (worker, t0, t1) -> {  // rows quantized in parallel: each on its own, the same bits
            Work w = Work.get();
            float[] row = w.row(KP);
            int[] qi = w.qi(KP);
            for (int t = t0; t < t1; t++) quantizeQ4Row(x, t, K, row, qi, xq, t * KP, xd, t * kb);
        });
        long blockBytes = kb * kBlockBytes(DType.Q4_0);
        int[] first = PackedMatMul.firstUnits(parts, R);
        int units = first[parts.length], spans = tokenSpans(units, pool.threads(), T), span = (T + 6 * spans - 1) / (6 * spans) * 6;
        pool.run(units * spans, (worker, i0, i1) -> {
            Work w = Work.get();
            float[] tot = w.tot(span * R * B);
            for (int i = i0; i < i1; i++) {
                int ta = i % spans * span, tn = Math.min(span, T - ta);
                if (tn <= 0) continue;
                PackedMatMul.forParts(parts, first, i / spans, i / spans + 1, (part, q, q1) -> {
                    MemorySegment p = part.p(), out = part.out();
                    int N = part.N(), blocks = (N + B - 1) / B;
                    for (int r = 0; r < R; r++) w.at[r] = Math.min(R * q + r, blocks - 1) * blockBytes;  // past the end: the last block again
                    java.util.Arrays.fill(tot, 0, tn * R * B, 0f);
                    for (int k0 = 0; k0 < kb; k0 += KC) {
                        int kn = Math.min(KC, kb - k0);
                        widenQ4s(p, w.at, k0, kn, w.wq, w.ws);
                        for (int t = ta; t < ta + tn; ) {
                            int xb = t * KP + k0 * QB, db = t * kb + k0, to = (t - ta) * R * B;
                            if (ta + tn - t <= 2) { kernelS2(w.wq, w.ws, kn, xq, KP, xd, kb, xb, db, tot, to, w.acc); t += 2; }
                            else { kernelS6(w.wq, w.ws, kn, xq, KP, xd, kb, xb, db, tot, to, w.acc); t += 6; }
                        }
                    }
                    for (int t = 0; t < tn; t++)
                        for (int r = 0; r < R && R * q + r < blocks; r++)
                            PackedMatMul.store(FloatVector.fromArray(F, tot, (t * R + r) * B), out, (long) (ta + t) * N, R * q + r, N);
                });
            }
        });
    }

    /**
     * Token spans each work unit is cut into (a span: a multiple of 6 tokens, the last one shorter), so that a matrix of
     * few units (896 rows: 7 units of 128) still shares out evenly over the threads: every span widens the unit's
     * weights again, so only where there are fewer than {@value #UNITS_PER_THREAD} units per thread, into
     * {@value #SPANS} spans of at least {@value #MIN_SPAN} tokens.
     */
    private static int tokenSpans(int units, int threads, int T) {
        if (threads == 1 || units >= UNITS_PER_THREAD * threads) return 1;
        return Math.max(1, Math.min(SPANS, T / MIN_SPAN));
    }

    private static final int UNITS_PER_THREAD = 8, SPANS = 2, MIN_SPAN = 24;

    /**
     * A thread's buffers, kept between calls, so that the hundreds of matmuls of a decode step allocate nothing: the
     * caller's quantized x (the matvec's, with its halves, and the Q4_0 GEMM's) and the row being quantized, and each
     * GEMM worker's rows being quantized, widened weights and totals (Q4_0's and Q8_0's).
     */
    private static final class Work {
        private static final ThreadLocal<Work> MINE = ThreadLocal.withInitial(Work::new);
        final short[] wq = new short[KC * QB * 2 * U * B], acc = new short[KC * 6 * 2 * U * B];
        final float[] ws = new float[KC * 2 * U * B];
        final long[] at = new long[2 * U];
        /** The Q8_0 GEMM's: a chunk of widened weights and scales ({@link #widenQ8}), its blocks' offsets, a gather map. */
        final float[] wf8 = new float[KC8 * QB * R8 * B], ws8 = new float[KC8 * R8 * B];
        final long[] at8 = new long[R8];
        final int[] map = new int[B];
        private short[] xq = new short[0], half = new short[0];
        private float[] xd = new float[0], tot = new float[0], row = new float[0];
        private int[] qi = new int[0];

        static Work get() { return MINE.get(); }

        short[] xq(int n) { return xq.length >= n ? xq : (xq = new short[n]); }

        short[] half(int n) { return half.length >= n ? half : (half = new short[n]); }

        float[] xd(int n) { return xd.length >= n ? xd : (xd = new float[n]); }

        float[] tot(int n) { return tot.length >= n ? tot : (tot = new float[n]); }

        float[] row(int n) { return row.length >= n ? row : (row = new float[n]); }

        int[] qi(int n) { return qi.length >= n ? qi : (qi = new int[n]); }
    }

    /**
     * Row t of x quantized for the Q4_0 GEMM ({@link #quantizeRow}): its integers as shorts in packed order (block b's
     * columns 0, 16, 1, 17, …, 15, 31: a byte's low nibble, then its high one) into {@code q[qo, qo + KP)}, block b's
     * scale into {@code d[dOff + b]}.
     */
    private static void quantizeQ4Row(MemorySegment x, int t, int K, float[] row, int[] qi, short[] q, int qo, float[] d, int dOff) {
        int kb = (K + QB - 1) / QB;
        quantizeRow(x, t, K, row, 0, qi, d, dOff, 1);
        for (int b = 0; b < kb; b++) {
            IntVector lo = IntVector.fromArray(I, qi, b * QB), hi = IntVector.fromArray(I, qi, b * QB + QB / 2);
            lo.and(0xFFFF).or(hi.lanewise(VectorOperators.LSHL, 16)).reinterpretAsShorts().intoArray(q, qo + b * QB);
        }
    }

    /**
     * K-blocks k0 to k0 + kn of the Q4_0 row blocks at byte offsets {@code at}: {@code q − 8} as shorts into {@code wq},
     * column j of the chunk (packed order) and pair u of blocks at {@code (j·U + u)·2B}, the pair's rows interleaved
     * (short 2i: row i of block 2u, short 2i + 1: row i of block 2u + 1, so that the 32-bit lane i holds both and the
     * kernels split a sum with two shifts), and the scales into {@code ws} (K-block k, block r: {@code (k·2U + r)·B}).
     */
    private static void widenQ4s(MemorySegment p, long[] at, int k0, int kn, short[] wq, float[] ws) {
        long kbBytes = 18L * B;
        for (int k = 0; k < kn; k++)
            for (int u = 0; u < U; u++) {
                long ob = at[2 * u] + (k0 + k) * kbBytes, oc = at[2 * u + 1] + (k0 + k) * kbBytes;
                scales(p, ob).intoArray(ws, (k * 2 * U + 2 * u) * B);
                scales(p, oc).intoArray(ws, (k * 2 * U + 2 * u + 1) * B);
                for (int j = 0; j < QB / 2; j++) {
                    IntVector vb = (IntVector) ByteVector.fromMemorySegment(BYTES, p, ob + 2L * B + (long) j * B, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector vc = (IntVector) ByteVector.fromMemorySegment(BYTES, p, oc + 2L * B + (long) j * B, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector both = vb.or(vc.lanewise(VectorOperators.LSHL, 16));  // int lane i: byte i of each block, one per short
                    int w = ((k * QB + 2 * j) * U + u) * 2 * B;
                    both.and(0x000F000F).reinterpretAsShorts().sub((short) 8).intoArray(wq, w);
                    both.lanewise(VectorOperators.LSHR, 4).and(0x000F000F).reinterpretAsShorts().sub((short) 8).intoArray(wq, w + U * 2 * B);
                }
            }
    }

    /**
     * Eight row blocks of Q4_0 weights ({@code q − 8} as shorts) × 6 tokens (rows of {@code xq} {@code xs} apart, from
     * {@code xb}; their scales {@code ds} apart in {@code xd}, from {@code db}) over {@code kn} K-blocks: per K-block, the 32
     * columns' products summed in 16-bit lanes (exact: |Σ (q − 8) · a| ≤ 32 · 8 · 127 < 2^15) in 24 register
     * accumulators of two blocks' rows interleaved (see {@link #widenQ4s}), stored to {@code acc} (K-block k, token i,
     * pair u at {@code ((k·6 + i)·U + u)·2B}); then {@link #scale} takes them into the tokens' totals in {@code tot}.
     * Written out for C2's inlining.
     */
    private static void kernelS6(short[] wq, float[] ws, int kn, short[] xq, int xs, float[] xd, int ds, int xb, int db, float[] tot, int to, short[] acc) {
        int x0 = xb, x1 = xb + xs, x2 = xb + 2 * xs, x3 = xb + 3 * xs, x4 = xb + 4 * xs, x5 = xb + 5 * xs;
        for (int k = 0; k < kn; k++) {
            ShortVector a00 = ShortVector.zero(S2), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00, a40 = a00, a41 = a00, a42 = a00, a43 = a00, a50 = a00, a51 = a00, a52 = a00, a53 = a00;
            for (int j = k * QB; j < (k + 1) * QB; j++) {
                ShortVector w0 = ShortVector.fromArray(S2, wq, (j * U + 0) * 2 * B), w1 = ShortVector.fromArray(S2, wq, (j * U + 1) * 2 * B), w2 = ShortVector.fromArray(S2, wq, (j * U + 2) * 2 * B), w3 = ShortVector.fromArray(S2, wq, (j * U + 3) * 2 * B);
                { ShortVector v = ShortVector.broadcast(S2, xq[x0 + j]); a00 = a00.add(w0.mul(v)); a01 = a01.add(w1.mul(v)); a02 = a02.add(w2.mul(v)); a03 = a03.add(w3.mul(v)); }
                { ShortVector v = ShortVector.broadcast(S2, xq[x1 + j]); a10 = a10.add(w0.mul(v)); a11 = a11.add(w1.mul(v)); a12 = a12.add(w2.mul(v)); a13 = a13.add(w3.mul(v)); }
                { ShortVector v = ShortVector.broadcast(S2, xq[x2 + j]); a20 = a20.add(w0.mul(v)); a21 = a21.add(w1.mul(v)); a22 = a22.add(w2.mul(v)); a23 = a23.add(w3.mul(v)); }
                { ShortVector v = ShortVector.broadcast(S2, xq[x3 + j]); a30 = a30.add(w0.mul(v)); a31 = a31.add(w1.mul(v)); a32 = a32.add(w2.mul(v)); a33 = a33.add(w3.mul(v)); }
                { ShortVector v = ShortVector.broadcast(S2, xq[x4 + j]); a40 = a40.add(w0.mul(v)); a41 = a41.add(w1.mul(v)); a42 = a42.add(w2.mul(v)); a43 = a43.add(w3.mul(v)); }
                { ShortVector v = ShortVector.broadcast(S2, xq[x5 + j]); a50 = a50.add(w0.mul(v)); a51 = a51.add(w1.mul(v)); a52 = a52.add(w2.mul(v)); a53 = a53.add(w3.mul(v)); }
            }
            a00.intoArray(acc, (k * 6 * U + 0) * 2 * B); a01.intoArray(acc, (k * 6 * U + 1) * 2 * B); a02.intoArray(acc, (k * 6 * U + 2) * 2 * B); a03.intoArray(acc, (k * 6 * U + 3) * 2 * B); a10.intoArray(acc, (k * 6 * U + 4) * 2 * B); a11.intoArray(acc, (k * 6 * U + 5) * 2 * B); a12.intoArray(acc, (k * 6 * U + 6) * 2 * B); a13.intoArray(acc, (k * 6 * U + 7) * 2 * B); a20.intoArray(acc, (k * 6 * U + 8) * 2 * B); a21.intoArray(acc, (k * 6 * U + 9) * 2 * B); a22.intoArray(acc, (k * 6 * U + 10) * 2 * B); a23.intoArray(acc, (k * 6 * U + 11) * 2 * B); a30.intoArray(acc, (k * 6 * U + 12) * 2 * B); a31.intoArray(acc, (k * 6 * U + 13) * 2 * B); a32.intoArray(acc, (k * 6 * U + 14) * 2 * B); a33.intoArray(acc, (k * 6 * U + 15) * 2 * B); a40.intoArray(acc, (k * 6 * U + 16) * 2 * B); a41.intoArray(acc, (k * 6 * U + 17) * 2 * B); a42.intoArray(acc, (k * 6 * U + 18) * 2 * B); a43.intoArray(acc, (k * 6 * U + 19) * 2 * B); a50.intoArray(acc, (k * 6 * U + 20) * 2 * B); a51.intoArray(acc, (k * 6 * U + 21) * 2 * B); a52.intoArray(acc, (k * 6 * U + 22) * 2 * B); a53.intoArray(acc, (k * 6 * U + 23) * 2 * B);
        }
        scale(acc, 6, kn, ws, xd, db, ds, tot, to);
    }

    /** {@link #kernelS6} for the last one or two tokens of a span. */
    private static void kernelS2(short[] wq, float[] ws, int kn, short[] xq, int xs, float[] xd, int ds, int xb, int db, float[] tot, int to, short[] acc) {
        int x0 = xb, x1 = xb + xs;
        for (int k = 0; k < kn; k++) {
            ShortVector a00 = ShortVector.zero(S2), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            for (int j = k * QB; j < (k + 1) * QB; j++) {
                ShortVector w0 = ShortVector.fromArray(S2, wq, (j * U + 0) * 2 * B), w1 = ShortVector.fromArray(S2, wq, (j * U + 1) * 2 * B), w2 = ShortVector.fromArray(S2, wq, (j * U + 2) * 2 * B), w3 = ShortVector.fromArray(S2, wq, (j * U + 3) * 2 * B);
                { ShortVector v = ShortVector.broadcast(S2, xq[x0 + j]); a00 = a00.add(w0.mul(v)); a01 = a01.add(w1.mul(v)); a02 = a02.add(w2.mul(v)); a03 = a03.add(w3.mul(v)); }
                { ShortVector v = ShortVector.broadcast(S2, xq[x1 + j]); a10 = a10.add(w0.mul(v)); a11 = a11.add(w1.mul(v)); a12 = a12.add(w2.mul(v)); a13 = a13.add(w3.mul(v)); }
            }
            a00.intoArray(acc, (k * 6 * U + 0) * 2 * B); a01.intoArray(acc, (k * 6 * U + 1) * 2 * B); a02.intoArray(acc, (k * 6 * U + 2) * 2 * B); a03.intoArray(acc, (k * 6 * U + 3) * 2 * B); a10.intoArray(acc, (k * 6 * U + 4) * 2 * B); a11.intoArray(acc, (k * 6 * U + 5) * 2 * B); a12.intoArray(acc, (k * 6 * U + 6) * 2 * B); a13.intoArray(acc, (k * 6 * U + 7) * 2 * B);
        }
        scale(acc, 2, kn, ws, xd, db, ds, tot, to);
    }

    /**
     * The block sums of {@code n} tokens over {@code kn} K-blocks (token i's scale of K-block k at
     * {@code xd[e + i·ds + k]}; its sums, pair u, at
     * {@code acc[((k·6 + i)·U + u)·2B]}, rows interleaved) split into their blocks' 32-bit lanes (an int lane holds a
     * row of each), converted (exactly) and scaled into the tokens' totals, {@code tot = fma(sum, d_w · d_x, tot)}
     * ({@link QuantBlocks#dot}), K-blocks in order; each total is loaded and stored once for the kn K-blocks.
     */
    private static void scale(short[] acc, int n, int kn, float[] ws, float[] xd, int e, int ds, float[] tot, int to) {
        for (int i = 0; i < n; i++)
            for (int u = 0; u < U; u++) {
                int t = to + (i * 2 * U + 2 * u) * B;
                FloatVector lo = FloatVector.fromArray(F, tot, t), hi = FloatVector.fromArray(F, tot, t + B);
                for (int k = 0; k < kn; k++) {
                    float d = xd[e + i * ds + k];
                    IntVector p = ShortVector.fromArray(S2, acc, (k * 6 * U + i * U + u) * 2 * B).reinterpretAsInts();
                    int w = (k * 2 * U + 2 * u) * B;
                    lo = ((FloatVector) p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, ws, w).mul(d), lo);
                    hi = ((FloatVector) p.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, ws, w + B).mul(d), hi);
                }
                lo.intoArray(tot, t);
                hi.intoArray(tot, t + B);
            }
    }

}
