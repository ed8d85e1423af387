package dev.rast.engine.files;

import dev.rast.engine.BadInputException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * One run at a time per output: an exclusive OS lock ({@link FileChannel#tryLock}) on a lock file beside the output
 * or in the run folder, held for the whole run. A second run into the same output is refused at once, in one line
 * that says who holds it: the holder writes its pid, when it took the lock and its command into the file.
 *
 * <p>The lock belongs to the process: the OS releases it when the process ends however it ends (kill -9 included),
 * so a lock file left behind holds nothing and is not removed (removing it while another run waits on it would let
 * two runs lock two different files of one name).
 */
public final class RunLock implements AutoCloseable {
    /** The lock file in a run folder. */
    public static final String IN_FOLDER = "rast.lock";

    private static final int MAX_HOLDER_CHARS = 300;

    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Locks the output file {@code output} through {@code OUTPUT.lock} beside it; {@code flag} names the option to change. */
    public static RunLock beside(Path output, String command, String flag) {
        return acquire(output.resolveSibling(output.getFileName() + ".lock"), output, command, flag);
    }

    /** Locks the run folder {@code dir} (which must exist) through {@code dir/rast.lock}. */
    public static RunLock inFolder(Path dir, String command, String flag) {
        return acquire(dir.resolve(IN_FOLDER), dir, command, flag);
    }

    private static RunLock acquire(Path lockFile, Path guarded, String command, String flag) {
        Path folder = lockFile.toAbsolutePath().getParent();
        if (!java.nio.file.Files.isDirectory(folder))
            throw new BadInputException(guarded + ": the folder " + folder + " does not exist (give " + flag + " in an existing folder)");
        FileChannel ch;
        try {
            ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new BadInputException(guarded + ": cannot create its lock file " + lockFile + ": " + IoErrors.reason(e));
        }
        try {
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null; // held by this very process (another command run in the same JVM)
            }
            if (lock == null) {
                String holder = holder(ch);
                ch.close();
                throw new BadInputException(guarded + " is in use by another run (" + (holder.isEmpty() ? "its lock file is empty" : holder)
                        + "; lock file " + lockFile + "): wait for it to end, or use another " + flag);
            }
            sign(ch, "pid " + ProcessHandle.current().pid() + ", started " + Instant.now().truncatedTo(ChronoUnit.SECONDS) + ", " + command);
            return new RunLock(ch, lock);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new BadInputException(guarded + ": cannot lock " + lockFile + ": " + IoErrors.reason(e));
        }
    }

    /**
     * Writes who holds the lock. Only messages read it: on a full disk the run goes on with the lock held and the
     * file empty (a second run is refused all the same, without the holder's name).
     */
    private static void sign(FileChannel ch, String holder) {
        try {
            ch.truncate(0);
            AtomicFiles.writeFully(ch.position(0), ByteBuffer.wrap((holder + "\n").getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            // see above: the lock, not the text, keeps other runs out
        }
    }

    /** What the holder wrote: its first line, at most a few hundred characters (the error line escapes the rest). */
    private static String holder(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(MAX_HOLDER_CHARS * 4);
        while (b.hasRemaining() && ch.read(b, b.position()) > 0) { }
        String text = new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).strip();
        int nl = text.indexOf('\n');
        if (nl >= 0) text = text.substring(0, nl);
        return text.length() > MAX_HOLDER_CHARS ? text.substring(0, MAX_HOLDER_CHARS) + "..." : text;
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // the run is refused anyway; closing is only tidying up
        }
    }

    /** Releases the lock; the file stays (see the class comment). */
    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException e) {
            // the channel's close below releases it as well
        }
        closeQuietly(channel);
    }
}
