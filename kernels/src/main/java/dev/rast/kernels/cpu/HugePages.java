package dev.rast.kernels.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * An arena whose segments sit on transparent huge pages (2 MiB): the packed weights. Decode streams every
 * weight once per token, several interleaved streams per thread, and the hardware prefetchers stop at each page
 * boundary; on 2 MiB pages they cross one 512x less often. On Linux with THP in {@code madvise} mode a page is huge
 * only if the range was advised before its first write, which {@link Arena#allocate} (it zero-fills) rules out, so
 * segments are carved in order from 32 MiB (or larger) chunks mapped with libc's {@code mmap}, advised with
 * {@code madvise(MADV_HUGEPAGE)} and unmapped when the arena closes. Any failure of those calls, a system without them,
 * and {@code -Drast.cpu.hugepages=off} fall back to a plain shared arena.
 */
final class HugePages implements Arena {
    /** Mapped at a time; segments are carved from it in order, so most small matrices share huge pages too. */
    static final long CHUNK_BYTES = 32L << 20;
    static final long HUGE_PAGE = 2L << 20;
    private static final int PROT_READ = 1, PROT_WRITE = 2, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20, MADV_HUGEPAGE = 14;
    private static final long MAP_FAILED = -1;

    /** mmap, madvise, munmap; null where any is missing. */
    private static final MethodHandle[] LIBC = libc();

    private final Arena plain = Arena.ofShared();
    private final boolean on;
    /** The mapping segments are carved from now (null: none yet, or mmap failed), and its bytes handed out. */
    private MemorySegment chunk;
    private long chunkUsed;

    private HugePages(boolean on) { this.on = on && LIBC != null; }

    /** A new arena; huge pages unless the system property {@code rast.cpu.hugepages} is {@code off}. */
    static HugePages ofShared() { return new HugePages(!"off".equalsIgnoreCase(System.getProperty("rast.cpu.hugepages"))); }

    /** Whether this arena maps its segments for huge pages (false: every segment comes from a plain arena). */
    boolean mapsHugePages() { return on; }

    @Override
    public synchronized MemorySegment allocate(long byteSize, long byteAlignment) {
        if (on && byteAlignment <= HUGE_PAGE) {
            long at = (chunkUsed + byteAlignment - 1) / byteAlignment * byteAlignment;
            if (chunk == null || at + byteSize > chunk.byteSize()) {
                chunk = mapHuge(Math.max(CHUNK_BYTES, byteSize));
                at = 0;
            }
            if (chunk != null) {
                chunkUsed = at + byteSize;
                return chunk.asSlice(at, byteSize);
            }
        }
        return plain.allocate(byteSize, byteAlignment);
    }

    /** A zeroed, 2 MiB-aligned mapping advised for huge pages, unmapped when this arena closes; null if mmap fails. */
    private MemorySegment mapHuge(long byteSize) {
        long size = (byteSize + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
        try {
            // Over-map by one huge page so that the used range can start on a 2 MiB boundary.
            long mapped = size + HUGE_PAGE;
            MemorySegment m = (MemorySegment) LIBC[0].invokeExact(MemorySegment.NULL, mapped,
                    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
            long base = m.address();
            if (base == MAP_FAILED || base == 0) return null;
            long start = (base + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
            int ignored = (int) LIBC[1].invokeExact(MemorySegment.ofAddress(start), size, MADV_HUGEPAGE);
            return MemorySegment.ofAddress(start).reinterpret(size, plain, s -> unmap(base, mapped));
        } catch (Throwable t) {
            return null;
        }
    }

    private static void unmap(long base, long bytes) {
        try {
            int ignored = (int) LIBC[2].invokeExact(MemorySegment.ofAddress(base), bytes);
        } catch (Throwable t) {
            throw new IllegalStateException("munmap failed", t);
        }
    }

    @Override public MemorySegment.Scope scope() { return plain.scope(); }
    @Override public void close() { plain.close(); }

    private static MethodHandle[] libc() {
        try {
            if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) return null;
            Linker linker = Linker.nativeLinker();
            SymbolLookup lookup = linker.defaultLookup();
            Optional<MemorySegment> mmap = lookup.find("mmap"), madvise = lookup.find("madvise"), munmap = lookup.find("munmap");
            if (mmap.isEmpty() || madvise.isEmpty() || munmap.isEmpty()) return null;
            ValueLayout.OfLong sizeT = ValueLayout.JAVA_LONG;
            return new MethodHandle[] {
                linker.downcallHandle(mmap.get(), FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, sizeT,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG)),
                linker.downcallHandle(madvise.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, sizeT, ValueLayout.JAVA_INT)),
                linker.downcallHandle(munmap.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, sizeT)),
            };
        } catch (Throwable t) {
            return null;
        }
    }
}
