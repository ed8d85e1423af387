package dev.rast.engine.files;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Whole files written so that a reader, or a later run, sees either the old file or the new one, never a part: the
 * content goes to a temporary file beside the target, which is then renamed over it (an atomic replace on one file
 * system). A write that fails (a full disk, an exception in the writer) leaves the target as it was and removes the
 * temporary file; only a process killed mid-write can leave a stray {@code .NAME.*.tmp} beside it, never a torn
 * target.
 *
 * <p>{@link Durability#SYNCED} also forces the content to the disk before the rename and the folder entry after
 * it, for files a run must find whole after a power loss (a run folder's settings); {@link Durability#RENAMED} skips
 * the two syncs, for files that are cheap to make again (reports, plots, synthesized models).
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Whether the new content must survive a crash of the machine, or only be whole whenever it is there. */
    public enum Durability { RENAMED, SYNCED }

    /** Writes the bytes of the new file into a channel positioned at its start. */
    @FunctionalInterface
    public interface Content {
        void writeTo(FileChannel out) throws IOException;
    }

    /** Replaces {@code file} with {@code text} in UTF-8. */
    public static void write(Path file, String text, Durability durability) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        write(file, out -> writeFully(out, bytes), durability);
    }

    /** Replaces {@code file} with the rest of {@code in}. */
    public static void copy(InputStream in, Path file, Durability durability) throws IOException {
        write(file, out -> in.transferTo(Channels.newOutputStream(out)), durability);
    }

    /**
     * Replaces {@code file} with what {@code content} writes, creating its folder if needed. On any failure the file
     * is left as it was.
     */
    public static void write(Path file, Content content, Durability durability) throws IOException {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Files.createDirectories(dir);
        Path tmp = null;
        boolean done = false;
        try {
            FileChannel out = null;
            while (out == null) {
                // Created as any new file is (the umask decides its permissions), unlike Files.createTempFile's
                // owner-only ones, which the rename would give the target.
                tmp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
                try {
                    out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                } catch (FileAlreadyExistsException e) {
                    tmp = null; // taken by another writer: draw another name
                }
            }
            try (FileChannel ch = out) {
                content.writeTo(ch);
                if (durability == Durability.SYNCED) ch.force(true);
            }
            move(tmp, target);
            done = true;
        } finally {
            if (!done && tmp != null) Files.deleteIfExists(tmp);
        }
        if (durability == Durability.SYNCED) syncFolder(dir);
    }

    /** Writes all of {@code b}: a channel may take less than asked in one write. */
    public static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    private static void move(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            // A file system without an atomic rename (never a local disk on Linux or macOS): still no torn target,
            // only a moment without one.
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Makes the rename itself durable. Forcing a folder opened for reading works on Linux and macOS; where the
     * platform refuses it there is nothing more a Java program can do, and the content itself was forced.
     */
    private static void syncFolder(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // not possible on this platform (e.g. Windows)
        }
    }
}
