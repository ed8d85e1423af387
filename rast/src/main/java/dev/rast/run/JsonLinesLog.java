package dev.rast.run;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Predicate;

/**
 * An append-only JSON-lines file that a run can be interrupted in the middle of writing and resumed from (the sample
 * files of {@code rast eval} and {@code rast generate --input}). Each line goes out in one write. On opening, a last
 * line without its newline (the run stopped mid-write) is repaired before anything is appended: cut off when it is
 * not a whole row, kept and given its newline when it is (a long row can go out in several writes, and the stop came
 * before the newline). Lines are then appended through O_APPEND. A last line that cannot be a torn row (not starting with '{', or over 256 MB) is refused, not cut:
 * the file is then something else. Readers of such a file ignore an unparsable last line for the same reason.
 */
public final class JsonLinesLog implements AutoCloseable {
    /** The longest last line treated as a torn row (rows are at most a few MB: 16k tokens, their text, logprobs). */
    private static final long MAX_TAIL = 256L << 20;

    private final FileChannel ch;

    private JsonLinesLog(FileChannel ch) { this.ch = ch; }

    /**
     * The lines of such a file, decoded leniently: a write cut inside a multi-byte character reads as a torn last
     * line, not as an error. The last element is what follows the final newline ("" when the file ends with one).
     */
    public static String[] readLines(Path file) throws IOException {
        return new String(java.nio.file.Files.readAllBytes(file), StandardCharsets.UTF_8).split("\n", -1);
    }

    /** Opens (creating) {@code file} for appending; {@code isRow} tells a whole row from a torn one. */
    public static JsonLinesLog open(Path file, Predicate<String> isRow) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            repairTail(ch, isRow);
        }
        // Appends go through O_APPEND: each line lands at the end of the file whatever else writes to it.
        return new JsonLinesLog(FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND));
    }

    /** Cuts a torn last line, or gives a whole one its lost newline; refuses a tail that cannot be a torn row. */
    private static void repairTail(FileChannel ch, Predicate<String> isRow) throws IOException {
        long size = ch.size(), keep = lineStart(ch, size);
        if (keep < size) {
            // A torn row is part of one line we wrote; refuse to cut anything that cannot be one.
            if (size - keep > MAX_TAIL)
                throw new IOException("its last line has no newline and is " + (size - keep) + " bytes long: not a JSON-lines file this run wrote");
            ByteBuffer tail = ByteBuffer.allocate((int) (size - keep));
            while (tail.hasRemaining() && ch.read(tail, keep + tail.position()) >= 0) { }
            String line = new String(tail.array(), StandardCharsets.UTF_8);
            if (!line.isBlank() && isRow.test(line)) {
                ch.position(size); // only the newline was lost: keep the row
                write(ch, "\n");
                return;
            }
            if (!line.isBlank() && !line.startsWith("{"))
                throw new IOException("its last line has no newline and is not a JSON object: not a JSON-lines file this run wrote");
            ch.truncate(keep);
        }
    }

    /** Where the last line starts: just after the last newline before {@code size}, or 0. Reads back in blocks. */
    private static long lineStart(FileChannel ch, long size) throws IOException {
        ByteBuffer block = ByteBuffer.allocate(1 << 16);
        long end = size;
        while (end > 0) {
            long from = Math.max(0, end - block.capacity());
            block.clear().limit((int) (end - from));
            while (block.hasRemaining() && ch.read(block, from + block.position()) >= 0) { }
            for (int i = block.position() - 1; i >= 0; i--)
                if (block.get(i) == '\n') return from + i + 1;
            end = from;
        }
        return 0;
    }

    /** Appends {@code line} (no newline in it) and its newline in one write. */
    public synchronized void append(String line) throws IOException {
        write(ch, line + "\n");
    }

    private static void write(FileChannel ch, String s) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) ch.write(b);
    }

    @Override
    public void close() throws IOException { ch.close(); }
}
