package dev.rast.engine.weights;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.QuantBlocks;
import dev.rast.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

/**
 * A checkpoint tensor converted to another dtype ({@link WeightDtype}), into memory of {@code arena}: F32 or F16 →
 * BF16 rounds to nearest even (NaN stays NaN, as torch's {@code .to(torch.bfloat16)}); BF16 or F16 → F32 is exact;
 * any of them → Q8_0 / Q4_0 quantizes a matrix row by row ({@link QuantBlocks}).
 * The checkpoint's arena, closed with the model: not an automatic one, whose memory the JVM counts against its
 * direct-memory limit (by default the heap's size), which a 7B model's converted weights would exceed.
 */
final class WeightCast {
    private WeightCast() {}

    private static final long BLOCK = 1 << 20;  // elements per parallel task

    static Tensor to(DType target, Arena arena, Tensor src) {
        DType from = src.dtype();
        if (from == target) return src;
        if (target == DType.F16) throw new IllegalArgumentException("weights are cast to F32 or BF16, not " + target);
        if (from.quantized()) throw new IllegalArgumentException("cannot convert " + from + " weights");
        if (target.quantized()) return quantized(target, arena, src);
        long n = src.numel();
        MemorySegment in = src.data();
        MemorySegment out = arena.allocate(Math.max(1, n * target.bytes()), 64);
        LongStream.range(0, (n + BLOCK - 1) / BLOCK).parallel().forEach(b -> {
            long end = Math.min(n, (b + 1) * BLOCK);
            for (long i = b * BLOCK; i < end; i++) {
                float v = element(from, in, i);
                if (target == DType.BF16) out.setAtIndex(JAVA_SHORT_UNALIGNED, i, DType.floatToBf16(v));
                else out.setAtIndex(JAVA_FLOAT_UNALIGNED, i, v);
            }
        });
        return new Tensor(target, src.shape(), out.asSlice(0, n * target.bytes()));
    }

    private static float element(DType from, MemorySegment in, long i) {
        return switch (from) {
            case F32 -> in.getAtIndex(JAVA_FLOAT_UNALIGNED, i);
            case BF16 -> DType.bf16ToFloat(in.getAtIndex(JAVA_SHORT_UNALIGNED, i));
            case F16 -> Float.float16ToFloat(in.getAtIndex(JAVA_SHORT_UNALIGNED, i));
            default -> throw new IllegalArgumentException("cannot convert " + from + " weights");
        };
    }

    /** A matrix {@code [N, K]} into rows of Q8_0 / Q4_0 blocks ({@link QuantBlocks}), rows in parallel. */
    private static Tensor quantized(DType target, Arena arena, Tensor src) {
        if (src.rank() != 2) throw new IllegalArgumentException("only matrices are quantized, not " + src);
        int N = src.dim(0), K = src.dim(1);
        long rowBytes = target.rowBytes(K);
        MemorySegment in = src.data();
        MemorySegment out = arena.allocate(Math.max(1, N * rowBytes), 64);
        int rowsPerTask = (int) Math.max(1, BLOCK / Math.max(1, K));
        IntStream.range(0, (N + rowsPerTask - 1) / rowsPerTask).parallel().forEach(b -> {
            float[] row = new float[K];
            for (int r = b * rowsPerTask; r < Math.min(N, (b + 1) * rowsPerTask); r++) {
                for (int k = 0; k < K; k++) row[k] = element(src.dtype(), in, (long) r * K + k);
                QuantBlocks.quantizeRow(row, K, target, out, r * rowBytes);
            }
        });
        return new Tensor(target, src.shape(), out.asSlice(0, N * rowBytes));
    }
}
