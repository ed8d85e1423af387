package dev.rast.kernels.cuda;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;

/**
 * sampling.cuh's {@code struct RowTables}, the by-value parameter of {@code gather_rows}: for each of up to
 * {@link #MAX} tables, its source and destination (device addresses) and its row width in floats.
 */
final class RowTables {
    /** sampling.cuh ROW_TABLES_MAX: more tables go in several launches. */
    static final int MAX = 8;
    static final int BYTES = MAX * 8 * 3;

    private RowTables() {}

    /** The struct's bytes for tables [from, from + n): src[i], dst[i], width[i]. */
    static MemorySegment of(long[] src, long[] dst, long[] width, int from, int n) {
        if (n < 1 || n > MAX) throw new IllegalArgumentException(n + " tables in one launch (1.." + MAX + ")");
        MemorySegment s = MemorySegment.ofArray(new long[BYTES / 8]);
        for (int i = 0; i < n; i++) {
            s.setAtIndex(JAVA_LONG, i, src[from + i]);
            s.setAtIndex(JAVA_LONG, MAX + i, dst[from + i]);
            s.setAtIndex(JAVA_LONG, 2 * MAX + i, width[from + i]);
        }
        return s;
    }
}
