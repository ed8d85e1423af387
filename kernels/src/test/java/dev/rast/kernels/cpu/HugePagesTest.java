package dev.rast.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class HugePagesTest {
    @Test
    void segmentsAreZeroedWritableAlignedAndDisjointAcrossChunks() {
        try (HugePages arena = HugePages.ofShared()) {
            if (System.getProperty("os.name").toLowerCase().contains("linux")) assertTrue(arena.mapsHugePages());
            // Sizes that fill a chunk unevenly, one larger than a chunk, and small ones between.
            long[] sizes = {5L << 20, 100, 13L << 20, 7, HugePages.CHUNK_BYTES + 12345, 3L << 20, 20L << 20, 64};
            MemorySegment[] segments = new MemorySegment[sizes.length];
            for (int i = 0; i < sizes.length; i++) {
                MemorySegment s = arena.allocate(sizes[i], 64);
                assertEquals(sizes[i], s.byteSize());
                assertEquals(0, s.address() % 64);
                fill(s, (byte) (i + 1));
                segments[i] = s;
            }
            // Each segment still holds its own byte everywhere: none overlaps another.
            for (int i = 0; i < sizes.length; i++) check(segments[i], (byte) (i + 1));
        }
    }

    @Test
    void closingReleasesEverySegment() {
        HugePages arena = HugePages.ofShared();
        MemorySegment s = arena.allocate(8L << 20, 64);
        arena.close();
        assertFalse(s.scope().isAlive());
    }

    @Test
    void offSwitchFallsBackToAPlainArena() {
        String before = System.getProperty("rast.cpu.hugepages");
        System.setProperty("rast.cpu.hugepages", "off");
        try (HugePages arena = HugePages.ofShared()) {
            assertFalse(arena.mapsHugePages());
            MemorySegment s = arena.allocate(6L << 20, 64);
            assertEquals(0, s.address() % 64);
            fill(s, (byte) 9);
            check(s, (byte) 9);
        } finally {
            if (before == null) System.clearProperty("rast.cpu.hugepages"); else System.setProperty("rast.cpu.hugepages", before);
        }
    }

    /** Checks the segment reads zero, then writes {@code v} to every byte. */
    private static void fill(MemorySegment s, byte v) {
        for (long i = 0; i < s.byteSize(); i++) assertEquals(0, s.get(ValueLayout.JAVA_BYTE, i), "not zeroed at " + i);
        s.fill(v);
    }

    private static void check(MemorySegment s, byte v) {
        for (long i = 0; i < s.byteSize(); i++) {
            if (s.get(ValueLayout.JAVA_BYTE, i) != v) assertEquals(v, s.get(ValueLayout.JAVA_BYTE, i), "at " + i);
        }
    }
}
