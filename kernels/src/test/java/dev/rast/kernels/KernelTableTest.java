package dev.rast.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The benchmark table's figures, on values worked out by hand. */
class KernelTableTest {
    static final KernelTable.Limits LIMITS = new KernelTable.Limits(20, "read", 400, "FMA");

    @Test
    void memoryBoundRowIsComparedWithTheReadLimit() {
        // 1e9 bytes in 0.1 s = 10 GB/s, half of 20; 2e9 FLOPs in 0.1 s = 20 GFLOP/s, 5% of 400: the read binds.
        KernelTable.Row r = new KernelTable.Row("matmul", "896x896", "BF16", 1, 0.1, 1e9, 2e9);
        assertEquals("| matmul | 896x896 | BF16 | 1 | 100.00 ms | 10.0 | 20.0 | 50% read |", KernelTable.line(r, LIMITS));
    }

    @Test
    void arithmeticBoundRowIsComparedWithTheFmaLimit() {
        // 1e6 bytes in 1e-4 s = 10 GB/s (50% read); 3e7 FLOPs in 1e-4 s = 300 GFLOP/s, 75% of 400: the FMAs bind.
        KernelTable.Row r = new KernelTable.Row("matmul", "q", "F32", 128, 1e-4, 1e6, 3e7);
        assertEquals("| matmul | q | F32 | 128 | 100.0 µs | 10.0 | 300 | 75% FMA |", KernelTable.line(r, LIMITS));
    }

    @Test
    void opsWithoutFlopsOrLimitsSayWhatIsMissing() {
        KernelTable.Row r = new KernelTable.Row("add", "896", "F32", 1, 2.5, 5e9, 0);
        assertEquals("| add | 896 | F32 | 1 | 2.50 s | 2.0 | – | 10% read |", KernelTable.line(r, LIMITS));
        assertEquals("| add | 896 | F32 | 1 | 2.50 s | 2.0 | – | n/a |", KernelTable.line(r, null));
    }

    @Test
    void aRowsOwnLimitsOverrideTheTables() {
        KernelTable t = new KernelTable(LIMITS);
        t.add(new KernelTable.Row("gemm", "s", "F32", 8, 1, 1e9, 1e12, new KernelTable.Limits(0, "DRAM", 2000, "f32 peak")));
        // 1000 GFLOP/s of a 2000 GFLOP/s peak; no read limit given for this row.
        assertEquals(KernelTable.HEADER + "| gemm | s | F32 | 8 | 1.00 s | 1.0 | 1000 | 50% f32 peak |\n", t.markdown());
    }
}
