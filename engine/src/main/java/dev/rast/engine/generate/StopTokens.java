package dev.rast.engine.generate;

import dev.rast.engine.BadInputException;
import dev.rast.engine.config.ModelConfig;
import dev.rast.engine.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** End-of-sequence ids: generation_config.json's eos_token_id when present (as HF generate uses), else config.json's. */
public final class StopTokens {
    private StopTokens() {}

    public static Set<Integer> read(Path modelDir, ModelConfig config) {
        Path gen = modelDir.resolve("generation_config.json");
        if (Files.exists(gen)) {
            try {
                if (Json.parse(Files.readAllBytes(gen), gen) instanceof java.util.Map<?, ?> m && m.containsKey("eos_token_id")) {
                    // Present, even as null: it replaces config.json's (null: no end-of-sequence id).
                    Object v = m.get("eos_token_id");
                    Set<Integer> out = new LinkedHashSet<>();
                    for (Object o : v instanceof List<?> l ? l : java.util.Collections.singletonList(v)) {
                        if (o == null) continue;
                        if (!(o instanceof Long id)) throw new BadInputException(gen + ": field 'eos_token_id' must be token ids, is " + v);
                        out.add((int) (long) id);
                    }
                    return out;
                }
            } catch (IOException e) {
                throw new BadInputException(gen + ": cannot read: " + e.getMessage(), e);
            }
        }
        return new LinkedHashSet<>(config.eosTokenIds());
    }
}
