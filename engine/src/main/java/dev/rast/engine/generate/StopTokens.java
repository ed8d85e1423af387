package dev.rast.engine.generate;

import dev.rast.engine.BadInputException;
import dev.rast.engine.config.ModelConfig;
import dev.rast.engine.files.InputFiles;
import dev.rast.engine.json.Json;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** End-of-sequence ids: generation_config.json's eos_token_id when present (as HF generate uses), else config.json's. */
public final class StopTokens {
    private StopTokens() {}

    public static final String GENERATION_CONFIG = "generation_config.json";

    public static Set<Integer> read(Path modelDir, ModelConfig config) {
        Path gen = modelDir.resolve(GENERATION_CONFIG);
        if (!Files.exists(gen, LinkOption.NOFOLLOW_LINKS)) return new LinkedHashSet<>(config.eosTokenIds());
        Map<String, Object> m = Json.parseObject(InputFiles.read(gen, InputFiles.CONFIG_MAX_BYTES, "file not found"), gen);
        if (!m.containsKey("eos_token_id")) return new LinkedHashSet<>(config.eosTokenIds());
        // Present, even as null: it replaces config.json's (null: no end-of-sequence id).
        Object v = m.get("eos_token_id");
        Set<Integer> out = new LinkedHashSet<>();
        for (Object o : v instanceof List<?> l ? l : Collections.singletonList(v)) {
            if (o == null) continue;
            if (!(o instanceof Long id) || id < 0 || id > Integer.MAX_VALUE)
                throw new BadInputException(gen + ": field 'eos_token_id' must be token ids (integers from 0), is " + v);
            out.add((int) (long) id);
        }
        return out;
    }
}
