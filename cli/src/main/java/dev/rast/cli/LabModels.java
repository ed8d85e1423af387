package dev.rast.cli;

import dev.rast.engine.BadInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pocket lab's checkpoints (M, B, E = B after RL, M_RL = M after RL; BF16 Qwen2 folders) and its held-out test
 * split, shipped as resources of this jar (built by scripts/lab/build.sh; docs/lab.md). They travel inside the jar
 * so that the launcher and the runtime image find them the same way, with no download; model code reads folders,
 * so {@link #extract} copies them once into a cache folder named after a hash of their bytes (a rebuilt lab gets a
 * new folder, never a stale one).
 */
public final class LabModels {
    private LabModels() {}

    /** The four checkpoints, in the order the demo reports them. */
    public static final List<String> MODELS = List.of("M", "B", "E", "M_RL");
    static final List<String> MODEL_FILES = List.of("config.json", "generation_config.json", "model.safetensors",
            "tokenizer.json", "tokenizer_config.json");
    public static final String TEST_SPLIT = "test.jsonl";
    private static final String ROOT = "/dev/rast/cli/lab/";

    /** An extracted lab: a folder holding M/, B/, E/, M_RL/ and test.jsonl. */
    public record Lab(Path dir) {
        public Path model(String name) { return dir.resolve(name); }

        public Path testSplit() { return dir.resolve(TEST_SPLIT); }
    }

    /** The lab under {@code cache}, copied there from the jar unless a complete copy of these exact bytes is there. */
    public static Lab extract(Path cache) {
        Map<String, byte[]> files = read();
        Path dir = cache.resolve("lab-" + hash(files));
        if (Files.isRegularFile(dir.resolve(TEST_SPLIT))) return new Lab(dir); // written last, inside the renamed folder
        Path tmp = cache.resolve(dir.getFileName() + ".partial");
        try {
            Files.createDirectories(cache);
            deleteTree(tmp);
            for (var f : files.entrySet()) {
                Path p = tmp.resolve(f.getKey());
                Files.createDirectories(p.getParent());
                Files.write(p, f.getValue());
            }
            // Renamed only when complete, so an interrupted copy is redone rather than used half-written.
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | UnsupportedOperationException e) {
            if (Files.isRegularFile(dir.resolve(TEST_SPLIT))) return new Lab(dir); // another run finished it first
            throw new BadInputException("cannot copy the lab models into " + dir + " (choose another folder with --cache): "
                    + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        return new Lab(dir);
    }

    /** Every lab file from the jar, by relative path, the test split last. */
    private static Map<String, byte[]> read() {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String m : MODELS)
            for (String f : MODEL_FILES) files.put(m + "/" + f, resource(m + "/" + f));
        files.put(TEST_SPLIT, resource(TEST_SPLIT));
        return files;
    }

    private static byte[] resource(String name) {
        try (InputStream in = LabModels.class.getResourceAsStream(ROOT + name)) {
            if (in == null) throw new IllegalStateException("the lab resource " + ROOT + name + " is missing from the jar");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the lab resource " + ROOT + name, e);
        }
    }

    private static String hash(Map<String, byte[]> files) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (var f : files.entrySet()) {
                md.update(f.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                md.update((byte) 0);
                md.update(f.getValue());
            }
            return HexFormat.of().formatHex(md.digest(), 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (var walk = Files.walk(p)) {
            for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }
}
