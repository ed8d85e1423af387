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
 * <p><b>Math.</b> A weight is widened to F32 exactly ({@code q·d}, or {@code (q−8)·d}: at most 8 significant bits
 * times F16's 11), then multiplied into a row's F32 sum, one FMA per column, in one fixed order ({@link #column}).
 * So the sum is that of an F32 matrix holding the dequantized weights, and a token's outputs are the same bits alone
 * (the matvec), in a batch or in a prefill (the GEMM), on any number of threads.
 *
 * <p>Why widen instead of multiplying int8 by int8, as llama.cpp does (it quantizes x to 8 bits too): that changes
 * the results (x rounded to 8 bits per block), and the Vector API has no int8 dot-product operation; widened
 * weights keep the results those of the dequantized matrix, which is what the tests hold them to.
 */
final class QuantMatMul {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** Rows per block: one vector of float lanes. */
    static final int B = F.length();
    /** B bytes (one column of a row block) and B shorts (its scales). */
    private static final VectorSpecies<Byte> BYTES = VectorSpecies.of(byte.class, VectorShape.forBitSize(B * 8));
    private static final VectorSpecies<Short> SHORTS = VectorSpecies.of(short.class, VectorShape.forBitSize(B * 16));
    private static final int QB = QuantBlocks.BLOCK;
    /** Tokens per GEMM micro-tile: 2 blocks × 12 tokens are 24 register accumulators. */
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
            gemm(pool, x.asSlice((long) t0 * K * 4, (long) n * K * 4), slice, dt, n, K);
        }
    }

    /**
     * A quantized matrix left row-major (one the caller allocated rather than passed through {@code weight()}): each
     * row dequantized, then one FMA per column in order, as the packed kernels sum, so the same bits, only slower.
     */
    static void runInPlace(WorkerPool pool, MemorySegment x, MemorySegment w, DType dt, MemorySegment out, int T, int N, int K) {
        float[][] xs = new float[T][K];
        for (int t = 0; t < T; t++) MemorySegment.copy(x, FLOAT, (long) t * K * 4, xs[t], 0, K);
        pool.run(N, (worker, n0, n1) -> {
            float[] row = new float[K];
            for (int n = n0; n < n1; n++) {
                QuantBlocks.dequantizeRow(w, dt, n, K, row, 0);
                for (int t = 0; t < T; t++) {
                    float s = 0;
                    for (int i = 0; i < (K + QB - 1) / QB * QB; i++) {  // positions in summing order (column())
                        int k = i / QB * QB + column(dt, i % QB);
                        if (k < K) s = Math.fma(row[k], xs[t][k], s);
                    }
                    out.setAtIndex(FLOAT, (long) t * N + n, s);
                }
            }
        });
    }

    /**
     * Where column k of a 32-wide block comes in the sums: Q8_0 in order; Q4_0 byte by byte, its low then its high
     * nibble (0, 16, 1, 17, …, 15, 31), so that each byte is loaded once. Every kernel sums in this order.
     */
    static int column(DType dt, int pos) { return dt == DType.Q8_0 ? pos : (pos & 1) == 0 ? pos >> 1 : 16 + (pos >> 1); }

    /** Row t of x, its columns in summing order ({@link #column}), K padded with zeros to whole blocks. */
    private static void ordered(MemorySegment x, DType dt, int t, int K, float[] dst, int off, int stride) {
        int kb = (K + QB - 1) / QB;
        for (int b = 0; b < kb; b++)
            for (int pos = 0; pos < QB; pos++) {
                int k = b * QB + column(dt, pos);
                dst[off + (b * QB + pos) * stride] = k < K ? x.getAtIndex(FLOAT, (long) t * K + k) : 0f;
            }
    }

    // ---------------------------------------------------------------- one token: bound by reading the weights

    /**
     * Each work piece is a range of row blocks, read as four interleaved streams (the range cut into four spans, one
     * block of each per pass) so that the prefetcher has several streams in flight; a piece of fewer than four
     * blocks computes its last block more than once (same values).
     */
    private static void matvec(WorkerPool pool, MemorySegment x, Part[] parts, DType dt, int K) {
        int kb = (K + QB - 1) / QB;
        float[] xs = new float[kb * QB];
        ordered(x, dt, 0, K, xs, 0, 1);
        long blockBytes = kb * kBlockBytes(dt);
        boolean q8 = dt == DType.Q8_0;
        int[] first = PackedMatMul.firstUnits(parts, 1);
        pool.run(first[parts.length], (worker, u0, u1) -> PackedMatMul.forParts(parts, first, u0, u1, (part, b0, b1) -> {
            MemorySegment p = part.p(), out = part.out();
            int N = part.N(), span = (b1 - b0 + 3) / 4;
            for (int i = 0; i < span; i++) {
                int a = b0 + i, b = Math.min(a + span, b1 - 1), c = Math.min(a + 2 * span, b1 - 1), d = Math.min(a + 3 * span, b1 - 1);
                if (q8) dotQ8(p, a * blockBytes, b * blockBytes, c * blockBytes, d * blockBytes, kb, xs, out, a, b, c, d, N);
                else dotQ4(p, a * blockBytes, b * blockBytes, c * blockBytes, d * blockBytes, kb, xs, out, a, b, c, d, N);
            }
        }));
    }

    /** Blocks a, b, c, d (at byte offsets pa…pd) of a Q8_0 weight against one token x. */
    private static void dotQ8(MemorySegment p, long pa, long pb, long pc, long pd, int kb, float[] x,
                              MemorySegment out, int a, int b, int c, int d, int N) {
        FloatVector sa = FloatVector.zero(F), sb = sa, sc = sa, sd = sa;
        long kbBytes = 34L * B;
        for (int k = 0; k < kb; k++) {
            long o = k * kbBytes;
            IntVector ha = (IntVector) ShortVector.fromMemorySegment(SHORTS, p, pa + o, LE).convertShape(VectorOperators.S2I, I, 0);
            IntVector hb = (IntVector) ShortVector.fromMemorySegment(SHORTS, p, pb + o, LE).convertShape(VectorOperators.S2I, I, 0);
            IntVector hc = (IntVector) ShortVector.fromMemorySegment(SHORTS, p, pc + o, LE).convertShape(VectorOperators.S2I, I, 0);
            IntVector hd = (IntVector) ShortVector.fromMemorySegment(SHORTS, p, pd + o, LE).convertShape(VectorOperators.S2I, I, 0);
            // F16 → F32 exactly: magnitude bits moved into F32's place, rescaled by 2^112 (normal and subnormal alike)
            FloatVector da = ha.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).or(ha.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().mul(0x1p112f);
            FloatVector db = hb.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).or(hb.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().mul(0x1p112f);
            FloatVector dc = hc.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).or(hc.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().mul(0x1p112f);
            FloatVector dd = hd.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).or(hd.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().mul(0x1p112f);
            long q = o + 2L * B;
            int xk = k * QB;
            for (int j = 0; j < QB; j++) {
                FloatVector e = FloatVector.broadcast(F, x[xk + j]);
                long at = q + (long) j * B;
                sa = ((FloatVector) ByteVector.fromMemorySegment(BYTES, p, pa + at, LE).convertShape(VectorOperators.B2F, F, 0)).mul(da).fma(e, sa);
                sb = ((FloatVector) ByteVector.fromMemorySegment(BYTES, p, pb + at, LE).convertShape(VectorOperators.B2F, F, 0)).mul(db).fma(e, sb);
                sc = ((FloatVector) ByteVector.fromMemorySegment(BYTES, p, pc + at, LE).convertShape(VectorOperators.B2F, F, 0)).mul(dc).fma(e, sc);
                sd = ((FloatVector) ByteVector.fromMemorySegment(BYTES, p, pd + at, LE).convertShape(VectorOperators.B2F, F, 0)).mul(dd).fma(e, sd);
            }
        }
        PackedMatMul.store(sa, out, 0, a, N);
        PackedMatMul.store(sb, out, 0, b, N);
        PackedMatMul.store(sc, out, 0, c, N);
        PackedMatMul.store(sd, out, 0, d, N);
    }

    /** {@link #dotQ8} for Q4_0: each byte column is loaded once, its low nibbles then its high ones summed. */
    private static void dotQ4(MemorySegment p, long pa, long pb, long pc, long pd, int kb, float[] x,
                              MemorySegment out, int a, int b, int c, int d, int N) {
        FloatVector sa = FloatVector.zero(F), sb = sa, sc = sa, sd = sa;
        long kbBytes = 18L * B;
        for (int k = 0; k < kb; k++) {
            long o = k * kbBytes;
            IntVector ha = (IntVector) ShortVector.fromMemorySegment(SHORTS, p, pa + o, LE).convertShape(VectorOperators.S2I, I, 0);
            IntVector hb = (IntVector) ShortVector.fromMemorySegment(SHORTS, p, pb + o, LE).convertShape(VectorOperators.S2I, I, 0);
            IntVector hc = (IntVector) ShortVector.fromMemorySegment(SHORTS, p, pc + o, LE).convertShape(VectorOperators.S2I, I, 0);
            IntVector hd = (IntVector) ShortVector.fromMemorySegment(SHORTS, p, pd + o, LE).convertShape(VectorOperators.S2I, I, 0);
            FloatVector da = ha.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).or(ha.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().mul(0x1p112f);
            FloatVector db = hb.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).or(hb.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().mul(0x1p112f);
            FloatVector dc = hc.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).or(hc.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().mul(0x1p112f);
            FloatVector dd = hd.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).or(hd.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().mul(0x1p112f);
            long q = o + 2L * B;
            int xk = k * QB;
            for (int j = 0; j < QB / 2; j++) {
                FloatVector e = FloatVector.broadcast(F, x[xk + 2 * j]), f = FloatVector.broadcast(F, x[xk + 2 * j + 1]);
                long at = q + (long) j * B;
                IntVector va = (IntVector) ByteVector.fromMemorySegment(BYTES, p, pa + at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector vb = (IntVector) ByteVector.fromMemorySegment(BYTES, p, pb + at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector vc = (IntVector) ByteVector.fromMemorySegment(BYTES, p, pc + at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector vd = (IntVector) ByteVector.fromMemorySegment(BYTES, p, pd + at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                sa = ((FloatVector) va.and(0xF).sub(8).convert(VectorOperators.I2F, 0)).mul(da).fma(e, sa);
                sb = ((FloatVector) vb.and(0xF).sub(8).convert(VectorOperators.I2F, 0)).mul(db).fma(e, sb);
                sc = ((FloatVector) vc.and(0xF).sub(8).convert(VectorOperators.I2F, 0)).mul(dc).fma(e, sc);
                sd = ((FloatVector) vd.and(0xF).sub(8).convert(VectorOperators.I2F, 0)).mul(dd).fma(e, sd);
                sa = ((FloatVector) va.lanewise(VectorOperators.LSHR, 4).sub(8).convert(VectorOperators.I2F, 0)).mul(da).fma(f, sa);
                sb = ((FloatVector) vb.lanewise(VectorOperators.LSHR, 4).sub(8).convert(VectorOperators.I2F, 0)).mul(db).fma(f, sb);
                sc = ((FloatVector) vc.lanewise(VectorOperators.LSHR, 4).sub(8).convert(VectorOperators.I2F, 0)).mul(dc).fma(f, sc);
                sd = ((FloatVector) vd.lanewise(VectorOperators.LSHR, 4).sub(8).convert(VectorOperators.I2F, 0)).mul(dd).fma(f, sd);
            }
        }
        PackedMatMul.store(sa, out, 0, a, N);
        PackedMatMul.store(sb, out, 0, b, N);
        PackedMatMul.store(sc, out, 0, c, N);
        PackedMatMul.store(sd, out, 0, d, N);
    }

    // ---------------------------------------------------------------- several tokens: bound by FMAs

    /**
     * x is packed once into groups of {@link #G} tokens: {@code xq[(g·KP + pos)·G + t]}, KP = K rounded up to 32,
     * columns in summing order (padding columns and tokens past T are zero). Work pieces are ranges of block pairs;
     * each pair is dequantized once into a float array (exact: the same F32 weights the matvec multiplies by), which
     * stays in cache while every token group meets it in an F32 kernel.
     */
    private static void gemm(WorkerPool pool, MemorySegment x, Part[] parts, DType dt, int T, int K) {
        int kb = (K + QB - 1) / QB, KP = kb * QB, groups = (T + G - 1) / G;
        float[] xq = new float[groups * KP * G];
        for (int t = 0; t < T; t++) ordered(x, dt, t, K, xq, (t / G) * KP * G + t % G, G);
        boolean q8 = dt == DType.Q8_0;
        long blockBytes = kb * kBlockBytes(dt);
        int[] first = PackedMatMul.firstUnits(parts, 2);
        pool.run(first[parts.length], (worker, u0, u1) -> {
            float[] res = new float[2 * G * B], wf = new float[2 * KP * B];
            PackedMatMul.forParts(parts, first, u0, u1, (part, q0, q1) -> {
                MemorySegment p = part.p(), out = part.out();
                int N = part.N(), blocks = (N + B - 1) / B;
                for (int q = q0; q < q1; q++) {
                    int b = 2 * q, c = Math.min(b + 1, blocks - 1); // an odd block count: the last block twice
                    if (q8) widenQ8(p, b * blockBytes, c * blockBytes, kb, wf);
                    else widenQ4(p, b * blockBytes, c * blockBytes, kb, wf);
                    for (int g = 0; g < groups; g++) {
                        int tn = Math.min(G, T - g * G);  // a small batch or a prompt's last group: fewer FMAs
                        if (tn <= 4) kernel4(wf, KP, xq, g * KP * G, res);
                        else if (tn <= 8) kernel8(wf, KP, xq, g * KP * G, res);
                        else kernel(wf, KP, xq, g * KP * G, res);
                        PackedMatMul.emit(res, out, b, c, g * G, tn, N);
                    }
                }
            });
        });
    }

    /** Row blocks b and c of a Q8_0 weight as F32 into {@code wf}: column pos's B floats of b at 2·pos·B, of c after. */
    private static void widenQ8(MemorySegment p, long pb, long pc, int kb, float[] wf) {
        long kbBytes = 34L * B;
        for (int k = 0; k < kb; k++) {
            long o = k * kbBytes;
            IntVector hb = (IntVector) ShortVector.fromMemorySegment(SHORTS, p, pb + o, LE).convertShape(VectorOperators.S2I, I, 0);
            IntVector hc = (IntVector) ShortVector.fromMemorySegment(SHORTS, p, pc + o, LE).convertShape(VectorOperators.S2I, I, 0);
            FloatVector db = hb.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).or(hb.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().mul(0x1p112f);
            FloatVector dc = hc.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).or(hc.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().mul(0x1p112f);
            for (int j = 0; j < QB; j++) {
                long at = o + 2L * B + (long) j * B;
                int w = 2 * (k * QB + j) * B;
                ((FloatVector) ByteVector.fromMemorySegment(BYTES, p, pb + at, LE).convertShape(VectorOperators.B2F, F, 0)).mul(db).intoArray(wf, w);
                ((FloatVector) ByteVector.fromMemorySegment(BYTES, p, pc + at, LE).convertShape(VectorOperators.B2F, F, 0)).mul(dc).intoArray(wf, w + B);
            }
        }
    }

    /** {@link #widenQ8} for Q4_0, columns in its summing order (a byte's low nibble, then its high one). */
    private static void widenQ4(MemorySegment p, long pb, long pc, int kb, float[] wf) {
        long kbBytes = 18L * B;
        for (int k = 0; k < kb; k++) {
            long o = k * kbBytes;
            IntVector hb = (IntVector) ShortVector.fromMemorySegment(SHORTS, p, pb + o, LE).convertShape(VectorOperators.S2I, I, 0);
            IntVector hc = (IntVector) ShortVector.fromMemorySegment(SHORTS, p, pc + o, LE).convertShape(VectorOperators.S2I, I, 0);
            FloatVector db = hb.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).or(hb.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().mul(0x1p112f);
            FloatVector dc = hc.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).or(hc.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().mul(0x1p112f);
            // (q − 8)·d as q·d + (−8d) in one FMA: the exact value rounded once, so the same bits as the matvec's product
            FloatVector mb = db.mul(-8f), mc = dc.mul(-8f);
            for (int j = 0; j < QB / 2; j++) {
                long at = o + 2L * B + (long) j * B;
                int w = 2 * (k * QB + 2 * j) * B;
                IntVector vb = (IntVector) ByteVector.fromMemorySegment(BYTES, p, pb + at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector vc = (IntVector) ByteVector.fromMemorySegment(BYTES, p, pc + at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                ((FloatVector) vb.and(0xF).convert(VectorOperators.I2F, 0)).fma(db, mb).intoArray(wf, w);
                ((FloatVector) vc.and(0xF).convert(VectorOperators.I2F, 0)).fma(dc, mc).intoArray(wf, w + B);
                ((FloatVector) vb.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(db, mb).intoArray(wf, w + 2 * B);
                ((FloatVector) vc.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(dc, mc).intoArray(wf, w + 3 * B);
            }
        }
    }

    /**
     * Two widened row blocks × {@link #G} tokens into {@code res} (token t: block b at 2t·B, block c at (2t+1)·B):
     * per column, the two blocks' float vectors meet 12 broadcast tokens. Written out, with no helpers, for C2's
     * inlining (see {@link PackedMatMul}'s kernels).
     */
    private static void kernel(float[] wf, int KP, float[] xq, int xb, float[] res) {
        FloatVector b0 = FloatVector.zero(F), b1 = b0, b2 = b0, b3 = b0, b4 = b0, b5 = b0, b6 = b0, b7 = b0, b8 = b0, b9 = b0, b10 = b0, b11 = b0;
        FloatVector c0 = b0, c1 = b0, c2 = b0, c3 = b0, c4 = b0, c5 = b0, c6 = b0, c7 = b0, c8 = b0, c9 = b0, c10 = b0, c11 = b0;
        for (int j = 0; j < KP; j++) {
            FloatVector wb = FloatVector.fromArray(F, wf, 2 * j * B), wc = FloatVector.fromArray(F, wf, (2 * j + 1) * B);
            int e = xb + j * G;
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 0]); b0 = wb.fma(xv, b0); c0 = wc.fma(xv, c0); }
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 1]); b1 = wb.fma(xv, b1); c1 = wc.fma(xv, c1); }
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 2]); b2 = wb.fma(xv, b2); c2 = wc.fma(xv, c2); }
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 3]); b3 = wb.fma(xv, b3); c3 = wc.fma(xv, c3); }
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 4]); b4 = wb.fma(xv, b4); c4 = wc.fma(xv, c4); }
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 5]); b5 = wb.fma(xv, b5); c5 = wc.fma(xv, c5); }
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 6]); b6 = wb.fma(xv, b6); c6 = wc.fma(xv, c6); }
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 7]); b7 = wb.fma(xv, b7); c7 = wc.fma(xv, c7); }
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 8]); b8 = wb.fma(xv, b8); c8 = wc.fma(xv, c8); }
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 9]); b9 = wb.fma(xv, b9); c9 = wc.fma(xv, c9); }
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 10]); b10 = wb.fma(xv, b10); c10 = wc.fma(xv, c10); }
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 11]); b11 = wb.fma(xv, b11); c11 = wc.fma(xv, c11); }
        }
        b0.intoArray(res, 0 * B); c0.intoArray(res, 1 * B); b1.intoArray(res, 2 * B); c1.intoArray(res, 3 * B);
        b2.intoArray(res, 4 * B); c2.intoArray(res, 5 * B); b3.intoArray(res, 6 * B); c3.intoArray(res, 7 * B);
        b4.intoArray(res, 8 * B); c4.intoArray(res, 9 * B); b5.intoArray(res, 10 * B); c5.intoArray(res, 11 * B);
        b6.intoArray(res, 12 * B); c6.intoArray(res, 13 * B); b7.intoArray(res, 14 * B); c7.intoArray(res, 15 * B);
        b8.intoArray(res, 16 * B); c8.intoArray(res, 17 * B); b9.intoArray(res, 18 * B); c9.intoArray(res, 19 * B);
        b10.intoArray(res, 20 * B); c10.intoArray(res, 21 * B); b11.intoArray(res, 22 * B); c11.intoArray(res, 23 * B);
    }

    /** {@link #kernel} for a group of at most 8 tokens (same sums, in the same order, per token). */
    private static void kernel8(float[] wf, int KP, float[] xq, int xb, float[] res) {
        FloatVector b0 = FloatVector.zero(F), b1 = b0, b2 = b0, b3 = b0, b4 = b0, b5 = b0, b6 = b0, b7 = b0;
        FloatVector c0 = b0, c1 = b0, c2 = b0, c3 = b0, c4 = b0, c5 = b0, c6 = b0, c7 = b0;
        for (int j = 0; j < KP; j++) {
            FloatVector wb = FloatVector.fromArray(F, wf, 2 * j * B), wc = FloatVector.fromArray(F, wf, (2 * j + 1) * B);
            int e = xb + j * G;
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 0]); b0 = wb.fma(xv, b0); c0 = wc.fma(xv, c0); }
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 1]); b1 = wb.fma(xv, b1); c1 = wc.fma(xv, c1); }
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 2]); b2 = wb.fma(xv, b2); c2 = wc.fma(xv, c2); }
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 3]); b3 = wb.fma(xv, b3); c3 = wc.fma(xv, c3); }
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 4]); b4 = wb.fma(xv, b4); c4 = wc.fma(xv, c4); }
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 5]); b5 = wb.fma(xv, b5); c5 = wc.fma(xv, c5); }
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 6]); b6 = wb.fma(xv, b6); c6 = wc.fma(xv, c6); }
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 7]); b7 = wb.fma(xv, b7); c7 = wc.fma(xv, c7); }
        }
        b0.intoArray(res, 0 * B); c0.intoArray(res, 1 * B); b1.intoArray(res, 2 * B); c1.intoArray(res, 3 * B);
        b2.intoArray(res, 4 * B); c2.intoArray(res, 5 * B); b3.intoArray(res, 6 * B); c3.intoArray(res, 7 * B);
        b4.intoArray(res, 8 * B); c4.intoArray(res, 9 * B); b5.intoArray(res, 10 * B); c5.intoArray(res, 11 * B);
        b6.intoArray(res, 12 * B); c6.intoArray(res, 13 * B); b7.intoArray(res, 14 * B); c7.intoArray(res, 15 * B);
    }

    /** {@link #kernel} for a group of at most 4 tokens (a small batch of sequences decoding together). */
    private static void kernel4(float[] wf, int KP, float[] xq, int xb, float[] res) {
        FloatVector b0 = FloatVector.zero(F), b1 = b0, b2 = b0, b3 = b0;
        FloatVector c0 = b0, c1 = b0, c2 = b0, c3 = b0;
        for (int j = 0; j < KP; j++) {
            FloatVector wb = FloatVector.fromArray(F, wf, 2 * j * B), wc = FloatVector.fromArray(F, wf, (2 * j + 1) * B);
            int e = xb + j * G;
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 0]); b0 = wb.fma(xv, b0); c0 = wc.fma(xv, c0); }
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 1]); b1 = wb.fma(xv, b1); c1 = wc.fma(xv, c1); }
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 2]); b2 = wb.fma(xv, b2); c2 = wc.fma(xv, c2); }
            { FloatVector xv = FloatVector.broadcast(F, xq[e + 3]); b3 = wb.fma(xv, b3); c3 = wc.fma(xv, c3); }
        }
        b0.intoArray(res, 0 * B); c0.intoArray(res, 1 * B); b1.intoArray(res, 2 * B); c1.intoArray(res, 3 * B);
        b2.intoArray(res, 4 * B); c2.intoArray(res, 5 * B); b3.intoArray(res, 6 * B); c3.intoArray(res, 7 * B);
    }
}
