package dev.rast.kernels.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** How much memory the machine can still give, for deciding whether weights may be repacked. */
final class MemoryInfo {
    /** Left free after packing: activations, KV caches, the JVM and the rest of the system. */
    static final long RESERVE_BYTES = 1L << 30;

    private MemoryInfo() {}

    /**
     * Linux's estimate of memory available without swapping ({@code MemAvailable} in /proc/meminfo: free memory
     * plus page cache it can drop, such as clean pages of a mapped checkpoint), in bytes; -1 when unknown.
     */
    static long availableBytes() {
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
}
