package dev.rast.engine.weights;

import dev.rast.engine.BadInputException;
import dev.rast.engine.files.InputFiles;
import dev.rast.engine.json.Json;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One .safetensors file: an 8-byte little-endian header length, a JSON header, then the raw tensor bytes.
 *
 * <p>The whole header is validated before any tensor byte is touched (a hostile or truncated file must give a
 * clear error, never a SIGBUS on a mapped page past the end of the file). Only then is the file memory-mapped;
 * tensors are zero-copy slices of that mapping, kept in their stored dtype.
 */
public final class SafeTensorsFile implements AutoCloseable {
    /** Upper bound on the header, as the reference implementation enforces. */
    public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    /** dtype names safetensors defines that we do not compute with: refused by name, not as "unknown". */
    private static final Set<String> KNOWN_UNSUPPORTED = Set.of(
            "F64", "I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8", "BOOL", "F8_E4M3", "F8_E5M2", "F8_E8M0",
            "F6_E2M3", "F6_E3M2", "F4", "C64");

    private final Path path;
    private final Map<String, TensorInfo> tensors;
    private final long dataStart;
    private final Arena arena;
    private final MemorySegment mapped;
    private final MappedFiles.Mapping mapping;

    private SafeTensorsFile(Path path, Map<String, TensorInfo> tensors, long dataStart, Arena arena, MemorySegment mapped) {
        this.path = path;
        this.tensors = tensors;
        this.dataStart = dataStart;
        this.arena = arena;
        this.mapped = mapped;
        this.mapping = MappedFiles.opened(path, mapped.byteSize());
    }

    public static SafeTensorsFile open(Path path) {
        InputFiles.requireRegular(path, "file not found");
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw bad(path, "file is " + size + " bytes, too short for the 8-byte header length");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen < 0 || headerLen > MAX_HEADER_BYTES)
                throw bad(path, "header length " + Long.toUnsignedString(headerLen) + " exceeds the 100 MB limit");
            if (headerLen > size - 8)
                throw bad(path, "header length " + headerLen + " runs past the end of the file (" + size + " bytes)");
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, 8);
            String headerText;
            try {
                headerText = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(hb.flip()).toString();
            } catch (CharacterCodingException e) {
                throw bad(path, "header is not valid UTF-8");
            }
            long dataStart = 8 + headerLen;
            Map<String, TensorInfo> tensors = parseHeader(path, headerText, size - dataStart);
            // Everything checked: now it is safe to map.
            Arena arena = Arena.ofShared();
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new SafeTensorsFile(path, tensors, dataStart, arena, mapped);
        } catch (NoSuchFileException e) {
            throw new BadInputException(path + ": file not found");
        } catch (IOException e) {
            throw new BadInputException(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long at) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, at + buf.position());
            if (n < 0) throw new IOException("unexpected end of file");
        }
    }

    private static BadInputException bad(Path path, String what) {
        return new BadInputException(path + ": " + what);
    }

    private static Map<String, TensorInfo> parseHeader(Path path, String text, long dataSize) {
        Object root = Json.parse(text, path + " header");
        if (!(root instanceof Map<?, ?> map)) throw bad(path, "header is not a JSON object");
        Map<String, TensorInfo> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals("__metadata__")) continue;
            out.put(name, parseEntry(path, name, e.getValue(), dataSize));
        }
        // Spans must not overlap: sort by start and compare neighbours. Empty tensors occupy no bytes.
        List<TensorInfo> sorted = new ArrayList<>(out.values());
        sorted.removeIf(t -> t.begin() == t.end());
        sorted.sort(Comparator.comparingLong(TensorInfo::begin));
        for (int i = 1; i < sorted.size(); i++) {
            TensorInfo a = sorted.get(i - 1), b = sorted.get(i);
            if (b.begin() < a.end())
                throw bad(path, "tensor '" + b.name() + "' bytes [" + b.begin() + ", " + b.end() + ") overlap tensor '"
                        + a.name() + "' bytes [" + a.begin() + ", " + a.end() + ")");
        }
        return out;
    }

    private static TensorInfo parseEntry(Path path, String name, Object v, long dataSize) {
        String where = "tensor '" + name + "'";
        if (!(v instanceof Map<?, ?> m)) throw bad(path, where + ": header entry is not an object");
        if (!(m.get("dtype") instanceof String dt)) throw bad(path, where + ": missing or non-string 'dtype'");
        DType dtype = DType.fromSafetensors(dt).orElseThrow(() -> bad(path, where + ": "
                + (KNOWN_UNSUPPORTED.contains(dt) ? "dtype " + dt + " is not supported (F32, F16, BF16 are)"
                        : "unknown dtype '" + dt + "'")));
        if (!(m.get("shape") instanceof List<?> sl)) throw bad(path, where + ": missing or non-array 'shape'");
        int[] shape = new int[sl.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(sl.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE)
                throw bad(path, where + ": shape " + sl + " has an invalid dimension");
            shape[i] = (int) (long) d;
        }
        long expected = byteSize(shape, dtype);
        if (expected < 0)
            throw bad(path, where + ": shape " + sl + " × " + dtype.bytes() + " bytes (" + dtype
                    + ") is more bytes than a file can hold (over 2^63)");
        if (!(m.get("data_offsets") instanceof List<?> ol) || ol.size() != 2
                || !(ol.get(0) instanceof Long begin) || !(ol.get(1) instanceof Long end))
            throw bad(path, where + ": 'data_offsets' must be two integers");
        if (begin < 0 || end < begin)
            throw bad(path, where + ": data_offsets [" + begin + ", " + end + "] are invalid");
        if (end > dataSize)
            throw bad(path, where + ": data_offsets [" + begin + ", " + end + "] run past the end of the data ("
                    + dataSize + " bytes)");
        if (end - begin != expected)
            throw bad(path, where + ": byte span " + (end - begin) + " != shape " + sl + " × " + dtype.bytes()
                    + " bytes (" + dtype + ") = " + expected);
        return new TensorInfo(path, name, dtype, shape, begin, end);
    }

    /**
     * Bytes of a tensor of {@code shape} in {@code dtype}, or −1 when that exceeds a long: a header may declare any
     * dimensions, and a product that wrapped around could match a small (even empty) byte span.
     */
    static long byteSize(int[] shape, DType dtype) {
        for (int d : shape) if (d == 0) return 0;
        try {
            long n = dtype.bytes();
            for (int d : shape) n = Math.multiplyExact(n, d);
            return n;
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    public Path path() { return path; }

    public Map<String, TensorInfo> tensors() { return tensors; }

    /** A zero-copy view of a tensor, in its stored dtype. */
    public Tensor tensor(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) throw bad(path, "tensor '" + name + "' not found");
        return new Tensor(t.dtype(), t.shape(), mapped.asSlice(dataStart + t.begin(), t.end() - t.begin()));
    }

    @Override
    public void close() {
        arena.close();
        MappedFiles.closed(mapping);
    }
}
