package dev.rast.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.kernels.KernelTable;
import org.junit.jupiter.api.Test;

/**
 * GpuBench's decode-shape table on the emulated device: it runs every path it names and prints the columns of the
 * CPU's JMH suite. The times are the emulator's (meaningless); the rows, shapes, dtypes and token counts are not.
 */
class GpuBenchTest {
    @Test
    void decodeTablePrintsTheSharedColumnsForEveryShapeAndRowCount() {
        GpuTargets.assumeAvailable("emulator");
        Device dev = GpuTargets.device("emulator");
        try (CudaBackend b = new CudaBackend(dev)) {
            String md = GpuBench.decodeShapes(dev, b, 1000, new int[][] {{48, 32}}, new int[] {1, 3});
            assertTrue(md.contains(KernelTable.HEADER), md);
            String[] lines = md.substring(md.indexOf(KernelTable.HEADER) + KernelTable.HEADER.length()).split("\n");
            // Each row count gives rast's own path, the plain bf16 GEMM, and (off the matvec route) the two GEMMs.
            for (String l : lines) {
                String[] cells = l.split("\\|");
                assertEquals(9, cells.length, l); // a leading empty cell, then the eight columns
                assertEquals("48×32", cells[2].trim(), l);
                assertEquals("BF16", cells[3].trim(), l);
                assertTrue(cells[4].trim().equals("1") || cells[4].trim().equals("3"), l);
                assertTrue(cells[8].trim().endsWith("% DRAM peak"), l);
            }
            assertTrue(lines.length >= 4, md);
        }
    }
}
