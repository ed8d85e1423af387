package dev.rast.engine.weights;

import dev.rast.engine.BadInputException;
import dev.rast.engine.files.InputFiles;
import dev.rast.engine.json.Json;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The tensors of a model folder: {@code model.safetensors}, or the shards listed by
 * {@code model.safetensors.index.json}. Every file is validated when opened; the tensors are zero-copy views, except
 * where a {@link WeightDtype} asks for another dtype than the one stored.
 */
public final class Checkpoint implements AutoCloseable {
    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";

    private final Path dir;
    private final WeightDtype as;
    // Tensors converted to another dtype, each in an arena of its own: closed when a backend has copied the tensor
    // ({@link #release}), else with the checkpoint.
    private final Map<MemorySegment, Arena> converted = new IdentityHashMap<>();
    private final Map<String, SafeTensorsFile> files = new LinkedHashMap<>();
    private final Map<String, SafeTensorsFile> byTensor = new LinkedHashMap<>();
    /** Names {@link #require} handed out: the model uses them. */
    private final Set<String> required = ConcurrentHashMap.newKeySet();

    private Checkpoint(Path dir, WeightDtype as) {
        this.dir = dir;
        this.as = as;
    }

    /** The tensors as stored. */
    public static Checkpoint open(Path dir) { return open(dir, WeightDtype.AUTO); }

    /** The tensors as {@code as} says: {@link #require} hands out copies converted where their dtype differs. */
    public static Checkpoint open(Path dir, WeightDtype as) {
        if (!Files.isDirectory(dir)) throw new BadInputException(dir + ": model directory does not exist");
        Checkpoint c = new Checkpoint(dir, as);
        try {
            Path index = dir.resolve(INDEX);
            // Present in any form (a dangling link, a pipe) counts as present, so that it is refused by name.
            if (Files.exists(index, LinkOption.NOFOLLOW_LINKS)) c.openSharded(index);
            else if (Files.exists(dir.resolve(SINGLE), LinkOption.NOFOLLOW_LINKS)) c.add(SafeTensorsFile.open(dir.resolve(SINGLE)));
            else throw new BadInputException(dir + ": no " + SINGLE + " or " + INDEX + " in the model directory");
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    private void openSharded(Path index) {
        Object root = Json.parse(InputFiles.read(index, InputFiles.INDEX_MAX_BYTES, "file not found"), index);
        if (!(root instanceof Map<?, ?> m) || !(m.get("weight_map") instanceof Map<?, ?> wm))
            throw new BadInputException(index + ": missing the 'weight_map' object");
        Map<String, String> wanted = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : wm.entrySet()) {
            if (!(e.getValue() instanceof String f) || f.contains("/") || f.contains("\\"))
                throw new BadInputException(index + ": weight_map entry '" + e.getKey() + "' must name a file in the folder");
            wanted.put((String) e.getKey(), f);
        }
        for (String f : new java.util.LinkedHashSet<>(wanted.values()))
            files.put(f, SafeTensorsFile.open(dir.resolve(f)));
        for (Map.Entry<String, String> e : wanted.entrySet()) {
            SafeTensorsFile f = files.get(e.getValue());
            if (!f.tensors().containsKey(e.getKey()))
                throw new BadInputException(f.path() + ": tensor '" + e.getKey() + "' listed in " + INDEX + " is missing");
            byTensor.put(e.getKey(), f);
        }
    }

    private void add(SafeTensorsFile f) {
        files.put(f.path().getFileName().toString(), f);
        for (String name : f.tensors().keySet()) byTensor.put(name, f);
    }

    public Path dir() { return dir; }

    public boolean has(String name) { return byTensor.containsKey(name); }

    public TensorInfo info(String name) {
        SafeTensorsFile f = byTensor.get(name);
        if (f == null) throw new BadInputException(dir + ": tensor '" + name + "' is missing from the checkpoint");
        return f.tensors().get(name);
    }

    /**
     * The tensor called {@code name}, which must exist with exactly {@code shape}; {@code why} says where the
     * expected shape comes from (e.g. "hidden_size=896"), for the error message.
     */
    public Tensor require(String name, String why, int... shape) {
        TensorInfo t = info(name);
        required.add(name);
        if (!Arrays.equals(t.shape(), shape))
            throw new BadInputException(t.file() + ": tensor '" + name + "' has shape " + t.shapeString()
                    + ", expected " + Arrays.toString(shape) + (why.isEmpty() ? "" : " (" + why + ")"));
        Tensor stored = byTensor.get(name).tensor(name);
        DType want = as.resolve(t.dtype(), shape.length);
        if (want == t.dtype()) return stored;
        Arena arena = Arena.ofShared();
        Tensor copy = WeightCast.to(want, arena, stored);
        synchronized (converted) { converted.put(copy.data(), arena); }
        return copy;
    }

    /**
     * Frees the memory of {@code t} if {@link #require} converted it (a backend that copies weights, as a GPU's
     * does, has no more use for it); a tensor mapped from the file is left alone.
     */
    public void release(Tensor t) {
        Arena a;
        synchronized (converted) { a = converted.remove(t.data()); }
        if (a != null) a.close();
    }

    /**
     * Tensors of the files that no {@link #require} asked for, in file order: weights the model leaves unused (a
     * config.json with fewer layers than the checkpoint has), which Hugging Face warns about. Rotary inverse
     * frequencies, which older checkpoints store as buffers and every loader recomputes, are not counted.
     */
    public List<String> unusedTensors() {
        List<String> out = new ArrayList<>();
        for (String name : byTensor.keySet())
            if (!required.contains(name) && !name.endsWith("rotary_emb.inv_freq")) out.add(name);
        return out;
    }

    /** Bytes held by converted tensors not yet released. */
    public long convertedBytes() {
        synchronized (converted) { return converted.keySet().stream().mapToLong(MemorySegment::byteSize).sum(); }
    }

    /** The dtype {@link #require} hands tensor {@code name} out in: as stored, unless a {@link WeightDtype} says otherwise. */
    public DType loadedDtype(String name) { return as.resolve(info(name).dtype(), info(name).shape().length); }

    @Override
    public void close() {
        for (SafeTensorsFile f : files.values()) f.close();
        files.clear();
        synchronized (converted) {
            for (Arena a : converted.values()) a.close();
            converted.clear();
        }
    }
}
