package dev.rast.engine;

import java.util.Locale;

/**
 * Checks that arrays sized by the user's numbers (samples, prompt length, runs) fit in the Java heap before they are
 * made: a command then refuses in one line naming the flag, instead of stopping with an out-of-memory error after
 * it has started (or, for sizes past what an array can hold, failing in a way that names nothing).
 */
public final class JavaHeap {
    private JavaHeap() {}

    /** Bytes the heap can still give: its maximum less what is in use (garbage collected first when that is short). */
    public static long available() {
        Runtime rt = Runtime.getRuntime();
        return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    }

    /**
     * Refuses {@code bytes} more than the heap can give: "WHAT needs 8.0 GB of Java heap, 3.9 GB is free (at most
     * 4.0 GB): ADVICE, or give the JVM more with RAST_JAVA_OPTS=-Xmx...". {@code bytes} may exceed what any array
     * could hold (a product of large numbers, computed in long or double).
     */
    public static void require(double bytes, String what, String advice) {
        if (bytes <= available()) return;
        System.gc(); // garbage still counted as used: collect once before refusing
        long free = available();
        if (bytes <= free) return;
        throw new BadInputException(String.format(Locale.ROOT, "%s needs %s of Java heap, %s is free (at most %s): %s, "
                + "or give the JVM more with RAST_JAVA_OPTS=-Xmx...", what, size(bytes), size(free), size(Runtime.getRuntime().maxMemory()), advice));
    }

    /** "8.0 GB", "512 MB", "3 KB". */
    public static String size(double bytes) {
        if (bytes >= 1e9) return String.format(Locale.ROOT, "%.1f GB", bytes / 1e9);
        if (bytes >= 1e6) return String.format(Locale.ROOT, "%.0f MB", bytes / 1e6);
        return String.format(Locale.ROOT, "%.0f KB", Math.max(bytes, 0) / 1e3);
    }
}
