package dev.rast.kernels.cuda;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;

/**
 * common.cuh's {@code struct BatchRows}, the by-value kernel parameter of a batched decode step: for each of up to
 * {@link #MAX} sequences, its key and value caches (device addresses) and its token's position. Passing it by value
 * (1,280 bytes of the 4 KiB kernel parameter space) spares an upload, and the wait for it, before every launch.
 */
final class BatchRows {
    /** common.cuh BATCH_ROWS_MAX: a larger step goes in several launches. */
    static final int MAX = 64;
    static final int BYTES = MAX * 8 * 2 + MAX * 4;

    private BatchRows() {}

    /** The struct's bytes for rows [from, from + n) of the step: caches k[i], v[i] (0 where null), positions pos[i]. */
    static MemorySegment of(long[] k, long[] v, int[] pos, int from, int n) {
        if (n < 1 || n > MAX) throw new IllegalArgumentException(n + " rows in one launch (1.." + MAX + ")");
        MemorySegment s = MemorySegment.ofArray(new long[BYTES / 8]);
        for (int i = 0; i < n; i++) {
            s.setAtIndex(JAVA_LONG, i, k == null ? 0 : k[from + i]);
            s.setAtIndex(JAVA_LONG, MAX + i, v == null ? 0 : v[from + i]);
            s.setAtIndex(JAVA_INT, 4 * MAX + i, pos[from + i]);
        }
        return s;
    }
}
