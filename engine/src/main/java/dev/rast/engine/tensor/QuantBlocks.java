package dev.rast.engine.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The block quantization of {@link DType#Q8_0} and {@link DType#Q4_0}, as llama.cpp's reference quantizers
 * ({@code quantize_row_q8_0_ref}, {@code quantize_row_q4_0_ref}) define it, one row at a time:
 *
 * <ul>
 *   <li>Q8_0: {@code d = amax / 127} (amax: the block's largest |w|); {@code q = roundf(w · (1/d))} (half away from
 *       zero), in [−127, 127]; the weight is {@code q · d}.
 *   <li>Q4_0: {@code d = m / −8}, m the block's value of largest magnitude with its sign (the first, on a tie);
 *       {@code q = min(15, floor(w · (1/d) + 8.5))}, in [0, 15]; the weight is {@code (q − 8) · d}.
 * </ul>
 *
 * <p>In both, {@code 1/d} is taken from the F32 d (0 when d is 0) while the block stores d rounded to F16 (nearest
 * even), and dequantizing uses the stored F16 d, as llama.cpp does. {@code q · d} (at most 8 significant bits times
 * 11) is exact in F32 (an embedding lookup gives it); the matmul kernels meet x in integers instead ({@link #dot}).
 */
public final class QuantBlocks {
    private QuantBlocks() {}

    public static final int BLOCK = 32;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;

    /** Quantizes {@code src[0, K)} into the row of {@code dtype} blocks at byte {@code at} of {@code dst}; past K is zero. */
    public static void quantizeRow(float[] src, int K, DType dtype, MemorySegment dst, long at) {
        float[] block = new float[BLOCK];
        for (int b = 0; b * BLOCK < K; b++) {
            int n = Math.min(BLOCK, K - b * BLOCK);
            java.util.Arrays.fill(block, 0f);
            System.arraycopy(src, b * BLOCK, block, 0, n);
            long o = at + (long) b * dtype.blockBytes();
            switch (dtype) {
                case Q8_0 -> quantizeQ8(block, dst, o);
                case Q4_0 -> quantizeQ4(block, dst, o);
                default -> throw new IllegalArgumentException(dtype + " is not a quantized dtype");
            }
        }
    }

    private static void quantizeQ8(float[] x, MemorySegment dst, long o) {
        byte[] q = new byte[BLOCK];
        dst.set(SHORT, o, quantizeQ8(x, 0, BLOCK, q, 0));
        for (int j = 0; j < BLOCK; j++) dst.set(ValueLayout.JAVA_BYTE, o + 2 + j, q[j]);
    }

    /**
     * The Q8_0 rule on {@code x[off, off + n)}, n ≤ 32, the block's values past n zero: the 32 q into
     * {@code q[qo, qo + 32)}, the F16 scale's bits returned.
     */
    public static short quantizeQ8(float[] x, int off, int n, byte[] q, int qo) {
        float amax = 0;
        for (int j = 0; j < n; j++) amax = Math.max(amax, Math.abs(x[off + j]));
        float d = amax / 127f, id = d != 0 ? 1f / d : 0f;
        for (int j = 0; j < BLOCK; j++) q[qo + j] = (byte) (j < n ? roundAway(x[off + j] * id) : 0);
        return Float.floatToFloat16(d);
    }

    /**
     * One row of activations quantized as Q8_0 blocks (llama.cpp's {@code quantize_row_q8_0}, which its CPU matmuls
     * apply to x before an integer dot product with Q8_0 / Q4_0 weights): {@code x[off, off + K)}, K padded with zeros
     * to whole blocks; block b's 32 values into {@code q[qo + 32b, …)} and its scale, the F16 d widened, into
     * {@code d[dOff + b]}.
     */
    public static void quantizeActivations(float[] x, int off, int K, byte[] q, int qo, float[] d, int dOff) {
        for (int b = 0; b * BLOCK < K; b++)
            d[dOff + b] = Float.float16ToFloat(quantizeQ8(x, off + b * BLOCK, Math.min(BLOCK, K - b * BLOCK), q, qo + b * BLOCK));
    }

    private static void quantizeQ4(float[] x, MemorySegment dst, long o) {
        float amax = 0, max = 0;
        for (float v : x)
            if (amax < Math.abs(v)) { amax = Math.abs(v); max = v; }
        float d = max / -8f, id = d != 0 ? 1f / d : 0f;
        dst.set(SHORT, o, Float.floatToFloat16(d));
        for (int j = 0; j < BLOCK / 2; j++) {
            int lo = Math.min(15, (int) (x[j] * id + 8.5f)), hi = Math.min(15, (int) (x[j + BLOCK / 2] * id + 8.5f));
            dst.set(ValueLayout.JAVA_BYTE, o + 2 + j, (byte) (lo | hi << 4));
        }
    }

    /** C's roundf: to nearest, halves away from zero. */
    static int roundAway(float v) {
        int r = Math.round(Math.abs(v));  // exact: floor(|v| + 1/2) without rounding |v| + 1/2 first
        return v < 0 ? -r : r;
    }

    /** The block's F16 scale, widened. */
    public static float scale(MemorySegment src, long blockAt) { return Float.float16ToFloat(src.get(SHORT, blockAt)); }

    /** Element j of the block at byte {@code blockAt} as its integer: {@code q} (Q8_0) or {@code q − 8} (Q4_0). */
    public static int integer(DType dtype, MemorySegment src, long blockAt, int j) {
        return switch (dtype) {
            case Q8_0 -> src.get(ValueLayout.JAVA_BYTE, blockAt + 2 + j);
            case Q4_0 -> {
                int b = src.get(ValueLayout.JAVA_BYTE, blockAt + 2 + (j % (BLOCK / 2)));
                yield (j < BLOCK / 2 ? b & 0xF : (b >> 4) & 0xF) - 8;
            }
            default -> throw new IllegalArgumentException(dtype + " is not a quantized dtype");
        };
    }

    /** Element j of the block at byte {@code blockAt}, dequantized: {@code q · d} or {@code (q − 8) · d}. */
    public static float element(DType dtype, MemorySegment src, long blockAt, int j) {
        return integer(dtype, src, blockAt, j) * scale(src, blockAt);
    }

    /**
     * Row {@code row} of a {@code [rows, K]} {@code dtype} matrix times one row of activations quantized by
     * {@link #quantizeActivations} ({@code qa}, {@code da}), llama.cpp's way: per block b an exact integer dot product
     * {@code s_b = Σ_j w_j · a_j} (w_j the weight's integer, {@link #integer}), then, block by block in order, one
     * F32 fused multiply-add {@code acc = fma(s_b, d_w · d_a, acc)} (d_w · d_a rounded to F32 first). |s_b| ≤
     * 32 · 128 · 127 < 2^24, so s_b is exact as a float too: every kernel that sums a block's products in any order,
     * in integers or in F32, then adds blocks in this order gets these bits.
     */
    public static float dot(DType dtype, MemorySegment w, long row, int K, byte[] qa, float[] da) {
        long at = row * dtype.rowBytes(K);
        float acc = 0;
        for (int b = 0; b * BLOCK < K; b++) {
            long block = at + (long) b * dtype.blockBytes();
            int s = 0;
            for (int j = 0; j < BLOCK; j++) s += integer(dtype, w, block, j) * qa[b * BLOCK + j];
            acc = Math.fma((float) s, scale(w, block) * da[b], acc);
        }
        return acc;
    }

    /** Row {@code row} of a {@code [rows, K]} {@code dtype} matrix, dequantized into {@code dst[off, off + K)}. */
    public static void dequantizeRow(MemorySegment src, DType dtype, long row, int K, float[] dst, int off) {
        long at = row * dtype.rowBytes(K);
        for (int b = 0; b * BLOCK < K; b++) {  // element() block by block: the scale widened once per block
            long block = at + (long) b * dtype.blockBytes();
            float d = scale(src, block);
            for (int j = 0, k = b * BLOCK; j < BLOCK && k < K; j++, k++) dst[off + k] = integer(dtype, src, block, j) * d;
        }
    }
}
