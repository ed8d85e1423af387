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
 * before the newline). Readers of such a file ignore an unparsable last line for the same reason.
 */
public final class JsonLinesLog implements AutoCloseable {
    private final FileChannel ch;

    private JsonLinesLog(FileChannel ch) { this.ch = ch; }

    /** Opens (creating) {@code file} for appending; {@code isRow} tells a whole row from a torn one. */
    public static JsonLinesLog open(Path file, Predicate<String> isRow) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
        try {
            long size = ch.size(), keep = size;
            ByteBuffer one = ByteBuffer.allocate(1);
            while (keep > 0) { // back to just after the last newline
                one.clear();
                ch.read(one, keep - 1);
                if (one.get(0) == '\n') break;
                keep--;
            }
            if (keep < size) {
                ByteBuffer tail = ByteBuffer.allocate(Math.toIntExact(size - keep));
                while (tail.hasRemaining() && ch.read(tail, keep + tail.position()) >= 0) { }
                String line = new String(tail.array(), StandardCharsets.UTF_8);
                if (!line.isBlank() && isRow.test(line)) {
                    ch.position(size); // only the newline was lost: keep the row
                    write(ch, "\n");
                    return new JsonLinesLog(ch);
                }
                ch.truncate(keep);
            }
            ch.position(keep);
            return new JsonLinesLog(ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
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
