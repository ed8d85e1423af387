package dev.rast.kernels.cuda;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;

/**
 * common.cuh's {@code struct BatchRows}, the by-value kernel parameter of a batched decode step: for each of up to
 * {@link #MAX} sequences, its key and value caches (device addresses). Passing it by value (1,024 bytes of the 4 KiB
 * kernel parameter space) spares an upload before every launch; it holds nothing that changes from step to step
 * (the positions are read from device memory), so a step's launches can be captured into a CUDA graph.
 */
final class BatchRows {
    /** common.cuh BATCH_ROWS_MAX: a larger step goes in several launches. */
    static final int MAX = 64;
    static final int BYTES = MAX * 8 * 2;

    private BatchRows() {}

    /** The struct's bytes for rows [from, from + n) of the step: caches k[i], v[i]. */
    static MemorySegment of(long[] k, long[] v, int from, int n) {
        if (n < 1 || n > MAX) throw new IllegalArgumentException(n + " rows in one launch (1.." + MAX + ")");
        MemorySegment s = MemorySegment.ofArray(new long[BYTES / 8]);
        for (int i = 0; i < n; i++) {
            s.setAtIndex(JAVA_LONG, i, k[from + i]);
            s.setAtIndex(JAVA_LONG, MAX + i, v[from + i]);
        }
        return s;
    }
}
