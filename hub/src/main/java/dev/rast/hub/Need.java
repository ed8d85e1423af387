package dev.rast.hub;

import dev.rast.engine.BadInputException;
import dev.rast.engine.json.Json;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What a command needs of a snapshot, to tell a complete one (used as it is, offline) from a partial one (an
 * interrupted download, or one made for other files): a model needs its config.json and every safetensors file its
 * index names (or, without an index, at least one); a tokenizer needs tokenizer.json; a config (rast plan) needs
 * config.json alone.
 */
public enum Need {
    MODEL, TOKENIZER, CONFIG;

    /** What a download for this need fetches: the engine's files, or config.json alone for {@link #CONFIG}. */
    public FileSelection files() { return this == CONFIG ? FileSelection.of(java.util.List.of("config.json")) : FileSelection.engine(); }

    /** What the snapshot lacks; empty when it is complete. A link to a missing blob counts as missing. */
    public List<String> missing(Path snapshot) {
        List<String> out = new ArrayList<>();
        if (this == TOKENIZER) {
            if (!Files.isRegularFile(snapshot.resolve("tokenizer.json"))) out.add("tokenizer.json");
            return out;
        }
        if (!Files.isRegularFile(snapshot.resolve("config.json"))) out.add("config.json");
        if (this == CONFIG) return out;
        Path index = snapshot.resolve("model.safetensors.index.json");
        if (Files.isRegularFile(index)) {
            try {
                Object root = Json.parse(Files.readAllBytes(index), index);
                Object map = root instanceof java.util.Map<?, ?> m ? m.get("weight_map") : null;
                if (map instanceof java.util.Map<?, ?> shards)
                    for (Object shard : shards.values()) {
                        String f = String.valueOf(shard);
                        if (!out.contains(f) && !f.contains("..") && !Files.isRegularFile(snapshot.resolve(f))) out.add(f);
                    }
            } catch (IOException | BadInputException e) {
                out.add("a readable model.safetensors.index.json");
            }
        } else if (!hasSafetensors(snapshot)) {
            out.add("*.safetensors");
        }
        return out;
    }

    private static boolean hasSafetensors(Path dir) {
        if (!Files.isDirectory(dir)) return false;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.safetensors")) {
            for (Path p : ds) if (Files.isRegularFile(p)) return true;
        } catch (IOException e) {
            return false;
        }
        return false;
    }
}
