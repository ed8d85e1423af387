package dev.rast.engine.weights;

import dev.rast.engine.BadInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The checkpoint files mapped into memory, so that a fault on one can be traced to the file that changed.
 *
 * <p>A mapped file that another process truncates makes every later read of a page past its new end a bus error,
 * which the JVM reports as {@code InternalError: a fault occurred in an unsafe memory access operation}, in whichever
 * thread read the page and with no word of the file. The command line's error boundary asks here which mapped file
 * is now shorter than when it was mapped. A file closed after it changed is remembered too (a few of them): the run
 * closes its models on the way out, before the boundary sees the error.
 */
public final class MappedFiles {
    private MappedFiles() {}

    /** One mapping: the file and its size when mapped. */
    record Mapping(Path file, long bytes) {}

    private static final Set<Mapping> OPEN = ConcurrentHashMap.newKeySet();
    private static final int CLOSED_KEPT = 16;
    private static final Deque<Mapping> CLOSED_CHANGED = new ArrayDeque<>();

    static Mapping opened(Path file, long bytes) {
        Mapping m = new Mapping(file, bytes);
        OPEN.add(m);
        return m;
    }

    static void closed(Mapping m) {
        OPEN.remove(m);
        if (change(m) == null) return;
        synchronized (CLOSED_CHANGED) {
            CLOSED_CHANGED.addFirst(m);
            while (CLOSED_CHANGED.size() > CLOSED_KEPT) CLOSED_CHANGED.removeLast();
        }
    }

    /** Whether {@code t} is the JVM's report of a fault while reading mapped memory (or caused by one). */
    public static boolean isMappingFault(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause())
            if (c instanceof InternalError && String.valueOf(c.getMessage()).contains("unsafe memory access")) return true;
        return false;
    }

    /**
     * The error to report for a mapping fault: it names each mapped file that is now shorter than when it was mapped,
     * or says that no changed file was found.
     */
    public static BadInputException explain(Throwable fault) {
        List<String> changes = new ArrayList<>();
        List<Mapping> all = new ArrayList<>(OPEN);
        synchronized (CLOSED_CHANGED) { all.addAll(CLOSED_CHANGED); }
        for (Mapping m : all) {
            String c = change(m);
            if (c != null && !changes.contains(c)) changes.add(c);
        }
        if (changes.isEmpty())
            return new BadInputException("a memory-mapped model file could not be read (" + fault.getMessage()
                    + "); was a checkpoint file truncated or rewritten while the run used it?", fault);
        return new BadInputException(String.join("; ", changes) + ": another process truncated or rewrote it while the run"
                + " read it; run again once the file is complete", fault);
    }

    /** "FILE was N bytes when mapped, is now M bytes" when the file is shorter than the mapping, else null. */
    private static String change(Mapping m) {
        long now;
        try {
            now = Files.size(m.file());
        } catch (NoSuchFileException e) {
            return null; // deleted: the mapping keeps the old file's pages, no fault comes from it
        } catch (IOException e) {
            return m.file() + " can no longer be read (" + e.getMessage() + ")";
        }
        return now < m.bytes() ? m.file() + " was " + m.bytes() + " bytes when mapped, is now " + now + " bytes" : null;
    }
}
