package dev.rast.bench;

import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.QuantBlocks;
import dev.rast.engine.tensor.Tensor;
import dev.rast.kernels.cpu.CpuBackend;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * Inputs for the benchmarks: real-looking values (Gaussian, so no subnormal products that would make a kernel crawl:
 * docs/benchmarks.md, "How to measure"), in the dtype asked for, and the backend with the thread count of the run.
 */
final class Data {
    /** System property with the backend's thread count; {@link Main} sets it on JMH's forks. */
    static final String THREADS = "rast.bench.threads";

    private Data() {}

    static int threads() { return Integer.getInteger(THREADS, Runtime.getRuntime().availableProcessors()); }

    static CpuBackend backend() { return new CpuBackend(threads()); }

    /** {@code n} Gaussian values of standard deviation {@code sigma}. */
    static float[] gaussian(SplittableRandom rnd, int n, double sigma) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (gaussian(rnd) * sigma);
        return v;
    }

    private static double gaussian(SplittableRandom rnd) {
        double u = rnd.nextDouble(), w = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log1p(-u)) * Math.cos(2 * Math.PI * w);
    }

    /** An F32 activation [rows, cols] of the backend, filled with N(0, 1) values. */
    static Tensor activation(CpuBackend b, SplittableRandom rnd, int rows, int cols) {
        Tensor t = b.allocate(DType.F32, rows, cols);
        b.upload(MemorySegment.ofArray(gaussian(rnd, rows * cols, 1)), t);
        return t;
    }

    /**
     * A host tensor [rows, cols] of the given dtype, as a checkpoint would hand it to {@code Backend.weight}, filled
     * with N(0, 0.02²) values (a trained layer's scale) rounded to the dtype. A dtype the backend learns later
     * (Q8_0, Q4_0) is one more case here and one more name in the benchmarks' {@code dtype} lists.
     */
    static Tensor hostWeight(Arena arena, SplittableRandom rnd, String dtype, int rows, int cols) {
        DType dt = DType.valueOf(dtype);
        if (dt.quantized()) return quantizedWeight(arena, rnd, dt, rows, cols);
        long n = (long) rows * cols;
        // A pool of values in the dtype, copied over and over at shifting offsets: drawing a 7B LM head's 545 M
        // values one by one would take longer than its benchmark.
        int poolLen = (1 << 20) + 9;
        MemorySegment pool = Arena.ofAuto().allocate((long) poolLen * dt.bytes(), 64);
        float[] v = gaussian(rnd, poolLen, 0.02);
        for (int i = 0; i < poolLen; i++)
            switch (dt) {
                case F32 -> pool.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, v[i]);
                case BF16 -> pool.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, DType.floatToBf16(v[i]));
                case F16 -> pool.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Float.floatToFloat16(v[i]));
                default -> throw new IllegalArgumentException("no benchmark weights for " + dt + ": add a case to Data.hostWeight");
            }
        MemorySegment m = arena.allocate(n * dt.bytes(), 64);
        long at = 0;
        for (int shift = 0; at < n; shift = (shift + 4099) % poolLen) {
            long len = Math.min(poolLen - shift, n - at);
            MemorySegment.copy(pool, (long) shift * dt.bytes(), m, at * dt.bytes(), len * dt.bytes());
            at += len;
        }
        return new Tensor(dt, new int[] {rows, cols}, m);
    }

    /**
     * Q8_0/Q4_0 weights as {@code --dtype q8_0/q4_0} makes them: F32 values quantized row by row with llama.cpp's
     * block rules. Rows repeat a small pool of quantized rows (quantizing a 7B LM head value by value would take
     * longer than its benchmark); the kernels read every byte all the same.
     */
    private static Tensor quantizedWeight(Arena arena, SplittableRandom rnd, DType dt, int rows, int cols) {
        long rowBytes = dt.rowBytes(cols);
        int poolRows = Math.min(rows, 61);
        MemorySegment pool = Arena.ofAuto().allocate(poolRows * rowBytes, 64);
        for (int r = 0; r < poolRows; r++) QuantBlocks.quantizeRow(gaussian(rnd, cols, 0.02), cols, dt, pool, r * rowBytes);
        MemorySegment m = arena.allocate(rows * rowBytes, 64);
        for (int r = 0; r < rows; r++) MemorySegment.copy(pool, (r % poolRows) * rowBytes, m, r * rowBytes, rowBytes);
        return new Tensor(dt, new int[] {rows, cols}, m);
    }
}
