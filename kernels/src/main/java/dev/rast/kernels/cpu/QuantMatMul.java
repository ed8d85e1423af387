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
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
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
 * ({@link #gemmQ4}), the Q8_0 GEMM in F32 lanes holding integers below 2^24 (exact); so a token's outputs are the same bits alone (the matvec), in a batch or in a prefill (the GEMM), on
 * any number of threads, and x's quantization is per row, whatever the token count.
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
    private static final int QB = QuantBlocks.BLOCK;
    /** Tokens per packed group of x; the micro-kernels take 6 (or 4) of them at a time. */
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
     * Where column k of a 32-wide block comes in the packed layout: Q8_0 in order; Q4_0 byte by byte, its low then its
     * high nibble (0, 16, 1, 17, …, 15, 31). x is laid out in this order to meet the weights.
     */
    static int column(DType dt, int pos) { return dt == DType.Q8_0 ? pos : (pos & 1) == 0 ? pos >> 1 : 16 + (pos >> 1); }

    /**
     * Row t of x quantized ({@link QuantBlocks#quantizeActivations}): its integers in packed order ({@link #column})
     * into {@code q[qo + pos·stride]} (K padded with zeros to whole blocks), block b's scale into
     * {@code d[dOff + b·stride]}, and, where {@code bias} is not null, {@code −8 · Σ q} of block b (Q4_0's offset:
     * {@code Σ (w − 8) · a = Σ w · a − 8 · Σ a}) into {@code bias[b]}.
     */
    private static void quantize(MemorySegment x, DType dt, int t, int K, float[] row, int[] qi,
                                 short[] qs, float[] qf, int qo, float[] d, int dOff, int stride, short[] bias) {
        int kb = (K + QB - 1) / QB;
        MemorySegment.copy(x, FLOAT, (long) t * K * 4, row, 0, K);  // row: KP floats, past K zero
        for (int b = 0; b < kb; b++) {
            d[dOff + b * stride] = quantizeBlock(row, b * QB, qi);
            if (dt == DType.Q8_0 && stride == 1 && qs != null) {  // the one-token Q8_0 layout: in order, side by side
                for (int i = 0; i < QB; i += I.length())
                    ((ShortVector) IntVector.fromArray(I, qi, b * QB + i).convertShape(VectorOperators.I2S, SHORTS, 0)).intoArray(qs, qo + b * QB + i);
                continue;
            }
            int sum = 0;
            for (int pos = 0; pos < QB; pos++) {
                int v = qi[b * QB + column(dt, pos)], at = qo + (b * QB + pos) * stride;
                if (qs != null) qs[at] = (short) v;
                else qf[at] = v;
                sum += v;
            }
            if (bias != null) bias[b] = (short) (-8 * sum);
        }
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

    /** The F16 scales of a row block's K-block, at byte {@code at}, widened (exactly: F16's bits moved into F32's place, rescaled by 2^112). */
    private static FloatVector scales(MemorySegment p, long at) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(SHORTS, p, at, LE).convertShape(VectorOperators.S2I, I, 0);
        return h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().mul(0x1p112f);
    }

    // ---------------------------------------------------------------- one token: integer products

    /**
     * x is quantized once; each work piece is a range of row blocks, read as interleaved streams (the range cut into
     * equal spans, one block of each per pass): the hardware prefetcher follows each stream, so more reads are in
     * flight than one stream gets. Eight streams (a piece's blocks in groups of eight, then at most one group of four),
     * as {@link PackedMatMul}'s one-token matvec reads. Pieces are whole groups of four
     * blocks, so that the spans come out equal; only a matrix's last group, when its block count is not a multiple
     * of four, computes its last block more than once (same values).
     */
    private static void matvec(WorkerPool pool, MemorySegment x, Part[] parts, DType dt, int K) {
        int kb = (K + QB - 1) / QB;
        short[] xq = new short[kb * QB], bias = new short[kb];
        float[] xd = new float[kb];
        boolean q8 = dt == DType.Q8_0;
        quantize(x, dt, 0, K, new float[kb * QB], new int[kb * QB], xq, null, 0, xd, 0, 1, q8 ? null : bias);
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
                else dotQ4(p, a * bb, b * bb, c * bb, d * bb, e * bb, f * bb, g * bb, h * bb, kb, xq, xd, bias, out, a, b, c, d, e, f, g, h, N);
            }
            if ((u1 - u0) % 2 == 1) { // a last group of four: four streams of one block
                int a = Math.min(b0 + eights, last), b = Math.min(a + 1, last), c = Math.min(a + 2, last), d = Math.min(a + 3, last);
                if (q8) dotQ8(p, a * bb, b * bb, c * bb, d * bb, d * bb, d * bb, d * bb, d * bb, kb, xq, xd, out, true, a, b, c, d, d, d, d, d, N);
                else dotQ4(p, a * bb, b * bb, c * bb, d * bb, d * bb, d * bb, d * bb, d * bb, kb, xq, xd, bias, out, a, b, c, d, d, d, d, d, N);
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
     * {@link #dotQ8} for Q4_0: a K-block's 32 products
     * {@code (w − 8) · a} summed in 16-bit lanes: |Σ| ≤ 32 · 8 · 127 = 32512 fits, and it is summed as
     * {@code −8 · Σ a + Σ w · a} with w the nibble (0…15), whose partial sums may wrap around 2^16 but whose total, in
     * range, comes out exact (arithmetic modulo 2^16); then widened, converted and scaled into the F32 sums
     * ({@link QuantBlocks#dot}). The scales are widened after the products, one block at a time, so that eight
     * streams' sums and partial sums fit the registers.
     */
    private static void dotQ4(MemorySegment p, long pa, long pb, long pc, long pd, long pe, long pf, long pg, long ph,
                              int kb, short[] x, float[] xd, short[] bias, MemorySegment out,
                              int a, int b, int c, int d, int e, int f, int g, int h, int N) {
        FloatVector sa = FloatVector.zero(F), sb = sa, sc = sa, sd = sa, se = sa, sf = sa, sg = sa, sh = sa;
        long kbBytes = 18L * B;
        for (int k = 0; k < kb; k++) {
            long o = k * kbBytes, q = o + 2L * B;
            int xk = k * QB;
            ShortVector ia = ShortVector.broadcast(SHORTS, bias[k]), ib = ia, ic = ia, id = ia, ie = ia, jf = ia, ig = ia, ih = ia;
            for (int j = 0; j < QB / 2; j++) {
                ShortVector lo = ShortVector.broadcast(SHORTS, x[xk + 2 * j]), hi = ShortVector.broadcast(SHORTS, x[xk + 2 * j + 1]);
                long at = q + (long) j * B;
                ShortVector va = (ShortVector) ByteVector.fromMemorySegment(BYTES, p, pa + at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                ia = ia.add(va.and((short) 0xF).mul(lo)).add(va.lanewise(VectorOperators.LSHR, 4).mul(hi));
                ShortVector vb = (ShortVector) ByteVector.fromMemorySegment(BYTES, p, pb + at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                ib = ib.add(vb.and((short) 0xF).mul(lo)).add(vb.lanewise(VectorOperators.LSHR, 4).mul(hi));
                ShortVector vc = (ShortVector) ByteVector.fromMemorySegment(BYTES, p, pc + at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                ic = ic.add(vc.and((short) 0xF).mul(lo)).add(vc.lanewise(VectorOperators.LSHR, 4).mul(hi));
                ShortVector vd = (ShortVector) ByteVector.fromMemorySegment(BYTES, p, pd + at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                id = id.add(vd.and((short) 0xF).mul(lo)).add(vd.lanewise(VectorOperators.LSHR, 4).mul(hi));
                ShortVector ve = (ShortVector) ByteVector.fromMemorySegment(BYTES, p, pe + at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                ie = ie.add(ve.and((short) 0xF).mul(lo)).add(ve.lanewise(VectorOperators.LSHR, 4).mul(hi));
                ShortVector vf = (ShortVector) ByteVector.fromMemorySegment(BYTES, p, pf + at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                jf = jf.add(vf.and((short) 0xF).mul(lo)).add(vf.lanewise(VectorOperators.LSHR, 4).mul(hi));
                ShortVector vg = (ShortVector) ByteVector.fromMemorySegment(BYTES, p, pg + at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                ig = ig.add(vg.and((short) 0xF).mul(lo)).add(vg.lanewise(VectorOperators.LSHR, 4).mul(hi));
                ShortVector vh = (ShortVector) ByteVector.fromMemorySegment(BYTES, p, ph + at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                ih = ih.add(vh.and((short) 0xF).mul(lo)).add(vh.lanewise(VectorOperators.LSHR, 4).mul(hi));
            }
            FloatVector s = FloatVector.broadcast(F, xd[k]);
            // F16 → F32 exactly, written out rather than called (scales()) to stay within C2's inlining budget
            IntVector ha = (IntVector) ShortVector.fromMemorySegment(SHORTS, p, pa + o, LE).convertShape(VectorOperators.S2I, I, 0);
            sa = ((FloatVector) ia.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0)).fma(ha.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).or(ha.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().mul(0x1p112f).mul(s), sa);
            IntVector hb = (IntVector) ShortVector.fromMemorySegment(SHORTS, p, pb + o, LE).convertShape(VectorOperators.S2I, I, 0);
            sb = ((FloatVector) ib.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0)).fma(hb.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).or(hb.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().mul(0x1p112f).mul(s), sb);
            IntVector hc = (IntVector) ShortVector.fromMemorySegment(SHORTS, p, pc + o, LE).convertShape(VectorOperators.S2I, I, 0);
            sc = ((FloatVector) ic.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0)).fma(hc.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).or(hc.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().mul(0x1p112f).mul(s), sc);
            IntVector hd = (IntVector) ShortVector.fromMemorySegment(SHORTS, p, pd + o, LE).convertShape(VectorOperators.S2I, I, 0);
            sd = ((FloatVector) id.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0)).fma(hd.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).or(hd.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().mul(0x1p112f).mul(s), sd);
            IntVector he = (IntVector) ShortVector.fromMemorySegment(SHORTS, p, pe + o, LE).convertShape(VectorOperators.S2I, I, 0);
            se = ((FloatVector) ie.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0)).fma(he.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).or(he.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().mul(0x1p112f).mul(s), se);
            IntVector hf = (IntVector) ShortVector.fromMemorySegment(SHORTS, p, pf + o, LE).convertShape(VectorOperators.S2I, I, 0);
            sf = ((FloatVector) jf.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0)).fma(hf.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).or(hf.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().mul(0x1p112f).mul(s), sf);
            IntVector hg = (IntVector) ShortVector.fromMemorySegment(SHORTS, p, pg + o, LE).convertShape(VectorOperators.S2I, I, 0);
            sg = ((FloatVector) ig.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0)).fma(hg.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).or(hg.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().mul(0x1p112f).mul(s), sg);
            IntVector hh = (IntVector) ShortVector.fromMemorySegment(SHORTS, p, ph + o, LE).convertShape(VectorOperators.S2I, I, 0);
            sh = ((FloatVector) ih.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0)).fma(hh.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).or(hh.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().mul(0x1p112f).mul(s), sh);
        }
        PackedMatMul.store(sa, out, 0, a, N);
        PackedMatMul.store(sb, out, 0, b, N);
        PackedMatMul.store(sc, out, 0, c, N);
        PackedMatMul.store(sd, out, 0, d, N);
        PackedMatMul.store(se, out, 0, e, N);
        PackedMatMul.store(sf, out, 0, f, N);
        PackedMatMul.store(sg, out, 0, g, N);
        PackedMatMul.store(sh, out, 0, h, N);
    }

    // ---------------------------------------------------------------- several tokens of Q8_0: bound by FMAs

    /**
     * The Q8_0 GEMM (Q4_0's is {@link #gemmQ4}): x is quantized once and packed into groups of {@link #G} tokens as floats: integers {@code xq[(g·KP + pos)·G + t]},
     * KP = K rounded up to 32, columns in packed order; scales {@code xd[(g·kb + b)·G + t]} (tokens past T: zero).
     * Work pieces are ranges of block pairs; each pair is widened once into float integers and F32 scales, which stay in cache while every token group meets them in F32 micro-kernels ({@link #kernel6}): the
     * products and their block sums are integers below 2^24, exact in F32, so the sums are the matvec's.
     */
    private static void gemm(WorkerPool pool, MemorySegment x, Part[] parts, DType dt, int T, int K) {
        int kb = (K + QB - 1) / QB, KP = kb * QB, groups = (T + G - 1) / G;
        float[] xq = new float[groups * KP * G], xd = new float[groups * kb * G];
        pool.run(T, (worker, t0, t1) -> {  // rows quantized in parallel: each on its own, the same bits
            float[] row = new float[KP];
            int[] qi = new int[KP];
            for (int t = t0; t < t1; t++) quantize(x, dt, t, K, row, qi, null, xq, (t / G) * KP * G + t % G, xd, (t / G) * kb * G + t % G, G, null);
        });
        long blockBytes = kb * kBlockBytes(dt);
        int[] first = PackedMatMul.firstUnits(parts, 2);
        pool.run(first[parts.length], (worker, u0, u1) -> {
            float[] res = new float[2 * G * B], wf = new float[2 * KP * B], ws = new float[2 * kb * B];
            PackedMatMul.forParts(parts, first, u0, u1, (part, q0, q1) -> {
                MemorySegment p = part.p(), out = part.out();
                int N = part.N(), blocks = (N + B - 1) / B;
                for (int q = q0; q < q1; q++) {
                    int b = 2 * q, c = Math.min(b + 1, blocks - 1); // an odd block count: the last block twice
                    widenQ8(p, b * blockBytes, c * blockBytes, kb, wf, ws);
                    for (int g = 0; g < groups; g++) {
                        int tn = Math.min(G, T - g * G);  // a small batch or a prompt's last group: fewer FMAs
                        if (tn <= 4) kernel4(wf, ws, kb, xq, xd, g * KP * G, g * kb * G, 0, res);
                        else kernel6(wf, ws, kb, xq, xd, g * KP * G, g * kb * G, 0, res);
                        if (tn > 6) kernel6(wf, ws, kb, xq, xd, g * KP * G, g * kb * G, 6, res);
                        PackedMatMul.emit(res, out, b, c, g * G, tn, N);
                    }
                }
            });
        });
    }

    /**
     * Row blocks b and c of a Q8_0 weight as float integers into {@code wf} (column pos's B floats of b at 2·pos·B, of
     * c after) and their scales into {@code ws} (K-block k's of b at 2k·B, of c after).
     */
    private static void widenQ8(MemorySegment p, long pb, long pc, int kb, float[] wf, float[] ws) {
        long kbBytes = 34L * B;
        for (int k = 0; k < kb; k++) {
            long o = k * kbBytes;
            scales(p, pb + o).intoArray(ws, 2 * k * B);
            scales(p, pc + o).intoArray(ws, (2 * k + 1) * B);
            for (int j = 0; j < QB; j++) {
                long at = o + 2L * B + (long) j * B;
                int w = 2 * (k * QB + j) * B;
                ((FloatVector) ByteVector.fromMemorySegment(BYTES, p, pb + at, LE).convertShape(VectorOperators.B2F, F, 0)).intoArray(wf, w);
                ((FloatVector) ByteVector.fromMemorySegment(BYTES, p, pc + at, LE).convertShape(VectorOperators.B2F, F, 0)).intoArray(wf, w + B);
            }
        }
    }

    /**
     * Two widened row blocks × 6 tokens (tokens o to o + 5 of a group) into {@code res} (token t: block b at 2t·B,
     * block c at (2t+1)·B): per K-block, the 32 columns' products summed in 12 register accumulators (exact: integers
     * below 2^24), then each scaled into its token's total by its rows' and token's scales, one FMA
     * ({@link QuantBlocks#dot}); 12 accumulators and 12 totals fill the registers, so a 12-token group takes two calls.
     * Written out, with no helpers, for C2's inlining (see {@link PackedMatMul}'s kernels).
     */
    private static void kernel6(float[] wf, float[] ws, int kb, float[] xq, float[] xd, int xb, int db, int o, float[] res) {
        FloatVector tb0 = FloatVector.zero(F), tb1 = tb0, tb2 = tb0, tb3 = tb0, tb4 = tb0, tb5 = tb0;
        FloatVector tc0 = tb0, tc1 = tb0, tc2 = tb0, tc3 = tb0, tc4 = tb0, tc5 = tb0;
        for (int k = 0; k < kb; k++) {
            FloatVector b0 = FloatVector.zero(F), b1 = b0, b2 = b0, b3 = b0, b4 = b0, b5 = b0;
            FloatVector c0 = b0, c1 = b0, c2 = b0, c3 = b0, c4 = b0, c5 = b0;
            for (int j = k * QB; j < (k + 1) * QB; j++) {
                FloatVector wb = FloatVector.fromArray(F, wf, 2 * j * B), wc = FloatVector.fromArray(F, wf, (2 * j + 1) * B);
                int e = xb + j * G + o;
                { FloatVector xv = FloatVector.broadcast(F, xq[e + 0]); b0 = wb.fma(xv, b0); c0 = wc.fma(xv, c0); }
                { FloatVector xv = FloatVector.broadcast(F, xq[e + 1]); b1 = wb.fma(xv, b1); c1 = wc.fma(xv, c1); }
                { FloatVector xv = FloatVector.broadcast(F, xq[e + 2]); b2 = wb.fma(xv, b2); c2 = wc.fma(xv, c2); }
                { FloatVector xv = FloatVector.broadcast(F, xq[e + 3]); b3 = wb.fma(xv, b3); c3 = wc.fma(xv, c3); }
                { FloatVector xv = FloatVector.broadcast(F, xq[e + 4]); b4 = wb.fma(xv, b4); c4 = wc.fma(xv, c4); }
                { FloatVector xv = FloatVector.broadcast(F, xq[e + 5]); b5 = wb.fma(xv, b5); c5 = wc.fma(xv, c5); }
            }
            FloatVector sb = FloatVector.fromArray(F, ws, 2 * k * B), sc = FloatVector.fromArray(F, ws, (2 * k + 1) * B);
            int e = db + k * G + o;
            { FloatVector d = FloatVector.broadcast(F, xd[e + 0]); tb0 = b0.fma(sb.mul(d), tb0); tc0 = c0.fma(sc.mul(d), tc0); }
            { FloatVector d = FloatVector.broadcast(F, xd[e + 1]); tb1 = b1.fma(sb.mul(d), tb1); tc1 = c1.fma(sc.mul(d), tc1); }
            { FloatVector d = FloatVector.broadcast(F, xd[e + 2]); tb2 = b2.fma(sb.mul(d), tb2); tc2 = c2.fma(sc.mul(d), tc2); }
            { FloatVector d = FloatVector.broadcast(F, xd[e + 3]); tb3 = b3.fma(sb.mul(d), tb3); tc3 = c3.fma(sc.mul(d), tc3); }
            { FloatVector d = FloatVector.broadcast(F, xd[e + 4]); tb4 = b4.fma(sb.mul(d), tb4); tc4 = c4.fma(sc.mul(d), tc4); }
            { FloatVector d = FloatVector.broadcast(F, xd[e + 5]); tb5 = b5.fma(sb.mul(d), tb5); tc5 = c5.fma(sc.mul(d), tc5); }
        }
        tb0.intoArray(res, 2 * (o + 0) * B); tc0.intoArray(res, (2 * (o + 0) + 1) * B); tb1.intoArray(res, 2 * (o + 1) * B); tc1.intoArray(res, (2 * (o + 1) + 1) * B); tb2.intoArray(res, 2 * (o + 2) * B); tc2.intoArray(res, (2 * (o + 2) + 1) * B); tb3.intoArray(res, 2 * (o + 3) * B); tc3.intoArray(res, (2 * (o + 3) + 1) * B); tb4.intoArray(res, 2 * (o + 4) * B); tc4.intoArray(res, (2 * (o + 4) + 1) * B); tb5.intoArray(res, 2 * (o + 5) * B); tc5.intoArray(res, (2 * (o + 5) + 1) * B);
    }

    /** {@link #kernel6} for a group of at most 4 tokens (a small batch of sequences decoding together). */
    private static void kernel4(float[] wf, float[] ws, int kb, float[] xq, float[] xd, int xb, int db, int o, float[] res) {
        FloatVector tb0 = FloatVector.zero(F), tb1 = tb0, tb2 = tb0, tb3 = tb0;
        FloatVector tc0 = tb0, tc1 = tb0, tc2 = tb0, tc3 = tb0;
        for (int k = 0; k < kb; k++) {
            FloatVector b0 = FloatVector.zero(F), b1 = b0, b2 = b0, b3 = b0;
            FloatVector c0 = b0, c1 = b0, c2 = b0, c3 = b0;
            for (int j = k * QB; j < (k + 1) * QB; j++) {
                FloatVector wb = FloatVector.fromArray(F, wf, 2 * j * B), wc = FloatVector.fromArray(F, wf, (2 * j + 1) * B);
                int e = xb + j * G + o;
                { FloatVector xv = FloatVector.broadcast(F, xq[e + 0]); b0 = wb.fma(xv, b0); c0 = wc.fma(xv, c0); }
                { FloatVector xv = FloatVector.broadcast(F, xq[e + 1]); b1 = wb.fma(xv, b1); c1 = wc.fma(xv, c1); }
                { FloatVector xv = FloatVector.broadcast(F, xq[e + 2]); b2 = wb.fma(xv, b2); c2 = wc.fma(xv, c2); }
                { FloatVector xv = FloatVector.broadcast(F, xq[e + 3]); b3 = wb.fma(xv, b3); c3 = wc.fma(xv, c3); }
            }
            FloatVector sb = FloatVector.fromArray(F, ws, 2 * k * B), sc = FloatVector.fromArray(F, ws, (2 * k + 1) * B);
            int e = db + k * G + o;
            { FloatVector d = FloatVector.broadcast(F, xd[e + 0]); tb0 = b0.fma(sb.mul(d), tb0); tc0 = c0.fma(sc.mul(d), tc0); }
            { FloatVector d = FloatVector.broadcast(F, xd[e + 1]); tb1 = b1.fma(sb.mul(d), tb1); tc1 = c1.fma(sc.mul(d), tc1); }
            { FloatVector d = FloatVector.broadcast(F, xd[e + 2]); tb2 = b2.fma(sb.mul(d), tb2); tc2 = c2.fma(sc.mul(d), tc2); }
            { FloatVector d = FloatVector.broadcast(F, xd[e + 3]); tb3 = b3.fma(sb.mul(d), tb3); tc3 = c3.fma(sc.mul(d), tc3); }
        }
        tb0.intoArray(res, 2 * (o + 0) * B); tc0.intoArray(res, (2 * (o + 0) + 1) * B); tb1.intoArray(res, 2 * (o + 1) * B); tc1.intoArray(res, (2 * (o + 1) + 1) * B); tb2.intoArray(res, 2 * (o + 2) * B); tc2.intoArray(res, (2 * (o + 2) + 1) * B); tb3.intoArray(res, 2 * (o + 3) * B); tc3.intoArray(res, (2 * (o + 3) + 1) * B);
    }

    // ---------------------------------------------------------------- several tokens of Q4_0: 16-bit products

    /** 2B shorts: two row blocks' products for one column. */
    private static final VectorSpecies<Short> S2 = VectorSpecies.of(short.class, VectorShape.forBitSize(B * 32));
    /** Row-block pairs per Q4_0 GEMM work unit (eight row blocks: 24 accumulators for 6 tokens). */
    private static final int U = 4;
    /** K-blocks widened at a time: 8 row blocks × 64 columns of shorts, 16 KiB, stay in L1 while every token meets them. */
    private static final int KC = 2;

    /**
     * The Q4_0 GEMM: x quantized once into groups of {@link #G} tokens as shorts ({@code xq[(g·KP + pos)·G + t]}, columns
     * in packed order; scales {@code xd[(g·kb + b)·G + t]}, tokens past T zero); each work unit, 2·{@link #U} row blocks,
     * is widened {@link #KC} K-blocks at a time into {@code q − 8} as shorts and F32 scales, which every token then meets
     * in {@link #kernelS6}: a 32-block's products summed in 16-bit lanes are exact, so the sums are the matvec's, and
     * each token's totals take one FMA per K-block, K-blocks in order.
     */
    private static void gemmQ4(WorkerPool pool, MemorySegment x, Part[] parts, int T, int K) {
        int kb = (K + QB - 1) / QB, KP = kb * QB, groups = (T + G - 1) / G, R = 2 * U;
        short[] xq = new short[groups * KP * G];
        float[] xd = new float[groups * kb * G];
        pool.run(T, (worker, t0, t1) -> {  // rows quantized in parallel: each on its own, the same bits
            float[] row = new float[KP];
            int[] qi = new int[KP];
            for (int t = t0; t < t1; t++) quantize(x, DType.Q4_0, t, K, row, qi, xq, null, (t / G) * KP * G + t % G, xd, (t / G) * kb * G + t % G, G, null);
        });
        long blockBytes = kb * kBlockBytes(DType.Q4_0);
        int[] first = PackedMatMul.firstUnits(parts, R);
        pool.run(first[parts.length], (worker, u0, u1) -> {
            float[] tot = new float[groups * G * R * B], ws = new float[KC * R * B];
            short[] wq = new short[KC * QB * R * B], acc = new short[6 * R * B];
            long[] at = new long[R];
            PackedMatMul.forParts(parts, first, u0, u1, (part, q0, q1) -> {
                MemorySegment p = part.p(), out = part.out();
                int N = part.N(), blocks = (N + B - 1) / B;
                for (int q = q0; q < q1; q++) {
                    for (int r = 0; r < R; r++) at[r] = Math.min(R * q + r, blocks - 1) * blockBytes;  // past the end: the last block again
                    java.util.Arrays.fill(tot, 0, T * R * B, 0f);
                    for (int k0 = 0; k0 < kb; k0 += KC) {
                        int kn = Math.min(KC, kb - k0);
                        widenQ4s(p, at, k0, kn, wq, ws);
                        for (int t = 0; t < T; ) {
                            int g = t / G, o = t % G, xb = (g * KP + k0 * QB) * G + o, db = (g * kb + k0) * G + o;
                            if (T - t <= 2) { kernelS2(wq, ws, kn, xq, xd, xb, db, tot, t * R * B, acc); t += 2; }
                            else { kernelS6(wq, ws, kn, xq, xd, xb, db, tot, t * R * B, acc); t += 6; }
                        }
                    }
                    for (int t = 0; t < T; t++)
                        for (int r = 0; r < R && R * q + r < blocks; r++)
                            PackedMatMul.store(FloatVector.fromArray(F, tot, (t * R + r) * B), out, (long) t * N, R * q + r, N);
                }
            });
        });
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
                    int w = ((k * QB + 2 * j) * U + u) * 2 * B;
                    vb.and(0xF).sub(8).and(0xFFFF).or(vc.and(0xF).sub(8).lanewise(VectorOperators.LSHL, 16)).reinterpretAsShorts().intoArray(wq, w);
                    vb.lanewise(VectorOperators.LSHR, 4).sub(8).and(0xFFFF).or(vc.lanewise(VectorOperators.LSHR, 4).sub(8).lanewise(VectorOperators.LSHL, 16)).reinterpretAsShorts().intoArray(wq, w + U * 2 * B);
                }
            }
    }

    /** Eight row blocks of Q4_0 weights ({@code q − 8} as shorts) × 6 tokens: per K-block, the 32 columns' products summed in 16-bit lanes (exact: |Σ (q − 8) · a| ≤ 32 · 8 · 127 < 2^15), 24 register accumulators of two blocks' rows interleaved (see {@link #widenQ4s}), then each split into its blocks' 32-bit lanes (an int lane holds a row of each), widened and scaled into its token's total in {@code tot} by one FMA ({@link QuantBlocks#dot}), K-blocks in order. Written out for C2's inlining. */
    private static void kernelS6(short[] wq, float[] ws, int kn, short[] xq, float[] xd, int xb, int db, float[] tot, int to, short[] acc) {
        for (int k = 0; k < kn; k++) {
            ShortVector a00 = ShortVector.zero(S2), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00, a40 = a00, a41 = a00, a42 = a00, a43 = a00, a50 = a00, a51 = a00, a52 = a00, a53 = a00;
            for (int j = k * QB; j < (k + 1) * QB; j++) {
                ShortVector w0 = ShortVector.fromArray(S2, wq, (j * U + 0) * 2 * B), w1 = ShortVector.fromArray(S2, wq, (j * U + 1) * 2 * B), w2 = ShortVector.fromArray(S2, wq, (j * U + 2) * 2 * B), w3 = ShortVector.fromArray(S2, wq, (j * U + 3) * 2 * B);
                int e = xb + j * G;
                { ShortVector v = ShortVector.broadcast(S2, xq[e + 0]); a00 = a00.add(w0.mul(v)); a01 = a01.add(w1.mul(v)); a02 = a02.add(w2.mul(v)); a03 = a03.add(w3.mul(v)); }
                { ShortVector v = ShortVector.broadcast(S2, xq[e + 1]); a10 = a10.add(w0.mul(v)); a11 = a11.add(w1.mul(v)); a12 = a12.add(w2.mul(v)); a13 = a13.add(w3.mul(v)); }
                { ShortVector v = ShortVector.broadcast(S2, xq[e + 2]); a20 = a20.add(w0.mul(v)); a21 = a21.add(w1.mul(v)); a22 = a22.add(w2.mul(v)); a23 = a23.add(w3.mul(v)); }
                { ShortVector v = ShortVector.broadcast(S2, xq[e + 3]); a30 = a30.add(w0.mul(v)); a31 = a31.add(w1.mul(v)); a32 = a32.add(w2.mul(v)); a33 = a33.add(w3.mul(v)); }
                { ShortVector v = ShortVector.broadcast(S2, xq[e + 4]); a40 = a40.add(w0.mul(v)); a41 = a41.add(w1.mul(v)); a42 = a42.add(w2.mul(v)); a43 = a43.add(w3.mul(v)); }
                { ShortVector v = ShortVector.broadcast(S2, xq[e + 5]); a50 = a50.add(w0.mul(v)); a51 = a51.add(w1.mul(v)); a52 = a52.add(w2.mul(v)); a53 = a53.add(w3.mul(v)); }
            }
            a00.intoArray(acc, 0 * 2 * B); a01.intoArray(acc, 1 * 2 * B); a02.intoArray(acc, 2 * 2 * B); a03.intoArray(acc, 3 * 2 * B); a10.intoArray(acc, 4 * 2 * B); a11.intoArray(acc, 5 * 2 * B); a12.intoArray(acc, 6 * 2 * B); a13.intoArray(acc, 7 * 2 * B); a20.intoArray(acc, 8 * 2 * B); a21.intoArray(acc, 9 * 2 * B); a22.intoArray(acc, 10 * 2 * B); a23.intoArray(acc, 11 * 2 * B); a30.intoArray(acc, 12 * 2 * B); a31.intoArray(acc, 13 * 2 * B); a32.intoArray(acc, 14 * 2 * B); a33.intoArray(acc, 15 * 2 * B); a40.intoArray(acc, 16 * 2 * B); a41.intoArray(acc, 17 * 2 * B); a42.intoArray(acc, 18 * 2 * B); a43.intoArray(acc, 19 * 2 * B); a50.intoArray(acc, 20 * 2 * B); a51.intoArray(acc, 21 * 2 * B); a52.intoArray(acc, 22 * 2 * B); a53.intoArray(acc, 23 * 2 * B);
            scale(acc, 6, ws, k * 2 * U * B, xd, db + k * G, tot, to);
        }
    }

    /** {@link #kernelS6} for the last one or two tokens of a batch. */
    private static void kernelS2(short[] wq, float[] ws, int kn, short[] xq, float[] xd, int xb, int db, float[] tot, int to, short[] acc) {
        for (int k = 0; k < kn; k++) {
            ShortVector a00 = ShortVector.zero(S2), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            for (int j = k * QB; j < (k + 1) * QB; j++) {
                ShortVector w0 = ShortVector.fromArray(S2, wq, (j * U + 0) * 2 * B), w1 = ShortVector.fromArray(S2, wq, (j * U + 1) * 2 * B), w2 = ShortVector.fromArray(S2, wq, (j * U + 2) * 2 * B), w3 = ShortVector.fromArray(S2, wq, (j * U + 3) * 2 * B);
                int e = xb + j * G;
                { ShortVector v = ShortVector.broadcast(S2, xq[e + 0]); a00 = a00.add(w0.mul(v)); a01 = a01.add(w1.mul(v)); a02 = a02.add(w2.mul(v)); a03 = a03.add(w3.mul(v)); }
                { ShortVector v = ShortVector.broadcast(S2, xq[e + 1]); a10 = a10.add(w0.mul(v)); a11 = a11.add(w1.mul(v)); a12 = a12.add(w2.mul(v)); a13 = a13.add(w3.mul(v)); }
            }
            a00.intoArray(acc, 0 * 2 * B); a01.intoArray(acc, 1 * 2 * B); a02.intoArray(acc, 2 * 2 * B); a03.intoArray(acc, 3 * 2 * B); a10.intoArray(acc, 4 * 2 * B); a11.intoArray(acc, 5 * 2 * B); a12.intoArray(acc, 6 * 2 * B); a13.intoArray(acc, 7 * 2 * B);
            scale(acc, 2, ws, k * 2 * U * B, xd, db + k * G, tot, to);
        }
    }

    /**
     * The block sums of {@code n} tokens (token i's pair u at {@code acc[(i·U + u)·2B]}, rows interleaved) split into
     * their blocks' 32-bit lanes, converted (exactly) and scaled into the tokens' totals, {@code tot = fma(sum, d_w · d_x, tot)}.
     */
    private static void scale(short[] acc, int n, float[] ws, int s, float[] xd, int e, float[] tot, int to) {
        for (int i = 0; i < n; i++) {
            float d = xd[e + i];
            for (int u = 0; u < U; u++) {
                IntVector p = ShortVector.fromArray(S2, acc, (i * U + u) * 2 * B).reinterpretAsInts();
                int t = to + (i * 2 * U + 2 * u) * B, w = s + 2 * u * B;
                ((FloatVector) p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromArray(F, ws, w).mul(d), FloatVector.fromArray(F, tot, t)).intoArray(tot, t);
                ((FloatVector) p.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromArray(F, ws, w + B).mul(d), FloatVector.fromArray(F, tot, t + B)).intoArray(tot, t + B);
            }
        }
    }

}
