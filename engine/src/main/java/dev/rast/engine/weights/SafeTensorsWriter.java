package dev.rast.engine.weights;

import dev.rast.engine.files.AtomicFiles;
import dev.rast.engine.json.Json;
import dev.rast.engine.tensor.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a .safetensors file tensor by tensor, streaming the bytes (a 15 GB model never sits in memory). Declare
 * every tensor first ({@link #add}), then {@link #write} fills each in order through a callback.
 */
public final class SafeTensorsWriter {
    /** Fills {@code buf} (little-endian, {@code buf.remaining()} bytes) with the next chunk of a tensor. */
    @FunctionalInterface
    public interface Filler {
        void fill(ByteBuffer buf, long elementOffset);
    }

    private record Entry(String name, DType dtype, int[] shape, Filler filler) {
        long bytes() {
            long n = dtype.bytes();
            for (int d : shape) n *= d;
            return n;
        }
    }

    private final List<Entry> entries = new ArrayList<>();

    public SafeTensorsWriter add(String name, DType dtype, int[] shape, Filler filler) {
        entries.add(new Entry(name, dtype, shape.clone(), filler));
        return this;
    }

    public long totalBytes() { return entries.stream().mapToLong(Entry::bytes).sum(); }

    /** Writes the file; {@code progress} gets bytes written so far (may be null). */
    public void write(Path path, java.util.function.LongConsumer progress) throws IOException {
        StringBuilder h = new StringBuilder(Json.write(Json.Layout.COMPACT, g -> {
            g.writeStartObject();
            g.writeObjectFieldStart("__metadata__");
            g.writeStringField("format", "pt");
            g.writeEndObject();
            long off = 0;
            for (Entry e : entries) {
                g.writeObjectFieldStart(e.name());
                g.writeStringField("dtype", e.dtype().safetensorsName());
                g.writeFieldName("shape");
                g.writeArray(e.shape(), 0, e.shape().length);
                g.writeFieldName("data_offsets");
                g.writeArray(new long[] {off, off + e.bytes()}, 0, 2);
                g.writeEndObject();
                off += e.bytes();
            }
            g.writeEndObject();
        }));
        while ((h.length() + 8) % 8 != 0) h.append(' '); // data section 8-byte aligned, as the reference writer does
        byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
        // A file that exists is whole: an interrupted or failed write leaves the old one (or none), never a part.
        AtomicFiles.write(path, ch -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
            writeFully(ch, len);
            writeFully(ch, ByteBuffer.wrap(header));
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 22).order(ByteOrder.LITTLE_ENDIAN);
            long written = 0;
            for (Entry e : entries) {
                long left = e.bytes(), element = 0;
                while (left > 0) {
                    int chunk = (int) Math.min(left, buf.capacity());
                    buf.clear().limit(chunk);
                    e.filler().fill(buf, element);
                    if (buf.position() != chunk) throw new IllegalStateException("filler for " + e.name() + " wrote " + buf.position() + " of " + chunk);
                    buf.flip();
                    writeFully(ch, buf);
                    left -= chunk;
                    element += chunk / e.dtype().bytes();
                    written += chunk;
                    if (progress != null) progress.accept(written);
                }
            }
        }, AtomicFiles.Durability.RENAMED);
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException { AtomicFiles.writeFully(ch, b); }
}
