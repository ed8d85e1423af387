package dev.rast.kernels.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** How much memory this process can still take, for deciding whether weights may be repacked. */
final class MemoryInfo {
    /** Left free after packing: activations, KV caches, the JVM and the rest of the system. */
    static final long RESERVE_BYTES = 1L << 30;

    private MemoryInfo() {}

    /**
     * Bytes this process can still take without swapping or hitting its container's limit, or -1 when unknown
     * (not Linux): the smaller of Linux's estimate for the machine ({@code MemAvailable} in /proc/meminfo: free
     * memory plus page cache it can drop, such as clean pages of a mapped checkpoint) and, inside a cgroup v2
     * container with a limit, {@code memory.max} less {@code memory.current} (less its inactive page cache).
     */
    static long availableBytes() {
        long machine = meminfoAvailable();
        if (machine < 0) return -1;
        Path cg = Path.of("/sys/fs/cgroup");
        long max = readLong(cg.resolve("memory.max")), current = readLong(cg.resolve("memory.current"));
        if (max > 0 && current >= 0) {
            // memory.current counts the page cache too (a mapped checkpoint, files just written), which the kernel
            // drops before it would refuse memory: the inactive part of it is as good as free.
            long reclaimable = Math.max(0, statField(cg.resolve("memory.stat"), "inactive_file"));
            machine = Math.min(machine, Math.max(0, max - Math.max(0, current - reclaimable)));
        }
        return machine;
    }

    /** A field of a cgroup's memory.stat ("name value" lines), or -1. */
    static long statField(Path file, String name) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(name + " ")) return Long.parseLong(line.substring(name.length() + 1).trim());
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    private static long meminfoAvailable() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (!line.startsWith("MemAvailable:")) continue;
                String[] f = line.trim().split("\\s+");
                return Long.parseLong(f[1]) * 1024; // the file says kB and means KiB
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** The number in a one-line file; -1 when it is missing, unreadable or "max" (no limit). */
    private static long readLong(Path p) {
        try {
            return Long.parseLong(Files.readString(p).trim());
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
