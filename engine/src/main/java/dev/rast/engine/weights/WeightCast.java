package dev.rast.engine.weights;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.stream.LongStream;

/**
 * A checkpoint tensor converted to another dtype ({@link WeightDtype}), into memory of {@code arena}: F32 or F16 →
 * BF16 rounds to nearest even (NaN stays NaN, as torch's {@code .to(torch.bfloat16)}); BF16 or F16 → F32 is exact.
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
        long n = src.numel();
        MemorySegment in = src.data();
        MemorySegment out = arena.allocate(Math.max(1, n * target.bytes()), 64);
        LongStream.range(0, (n + BLOCK - 1) / BLOCK).parallel().forEach(b -> {
            long end = Math.min(n, (b + 1) * BLOCK);
            for (long i = b * BLOCK; i < end; i++) {
                float v = switch (from) {
                    case F32 -> in.getAtIndex(JAVA_FLOAT_UNALIGNED, i);
                    case BF16 -> DType.bf16ToFloat(in.getAtIndex(JAVA_SHORT_UNALIGNED, i));
                    case F16 -> Float.float16ToFloat(in.getAtIndex(JAVA_SHORT_UNALIGNED, i));
                };
                if (target == DType.BF16) out.setAtIndex(JAVA_SHORT_UNALIGNED, i, DType.floatToBf16(v));
                else out.setAtIndex(JAVA_FLOAT_UNALIGNED, i, v);
            }
        });
        return new Tensor(target, src.shape(), out.asSlice(0, n * target.bytes()));
    }
}
