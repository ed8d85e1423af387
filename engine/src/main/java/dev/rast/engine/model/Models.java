package dev.rast.engine.model;

import dev.rast.engine.BadInputException;
import dev.rast.engine.backend.Backend;
import dev.rast.engine.config.ModelConfig;
import dev.rast.engine.weights.Checkpoint;
import dev.rast.engine.weights.WeightDtype;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** Loads a Hugging Face model folder with the architecture its config.json names. */
public final class Models {
    private Models() {}

    public static List<ModelArchitecture> architectures() {
        List<ModelArchitecture> out = new ArrayList<>();
        ServiceLoader.load(ModelArchitecture.class).forEach(out::add);
        return out;
    }

    public static ModelArchitecture find(ModelConfig config) {
        List<String> known = new ArrayList<>();
        for (ModelArchitecture a : architectures()) {
            if (a.architectures().contains(config.architecture())) return a;
            known.addAll(a.architectures());
        }
        throw new BadInputException(config.file() + ": field 'architectures' names '" + config.architecture()
                + "', which is not supported (supported: " + String.join(", ", known) + ")");
    }

    public static CausalLM load(Path dir, Backend backend) { return load(dir, backend, WeightDtype.AUTO); }

    /** Loads with the weights in {@code dtype} ({@link WeightDtype#AUTO}: as stored). */
    public static CausalLM load(Path dir, Backend backend, WeightDtype dtype) {
        ModelConfig config = ModelConfig.load(dir);
        ModelArchitecture arch = find(config);
        Checkpoint ckpt = Checkpoint.open(dir, dtype);
        try {
            return arch.load(config, ckpt, backend);
        } catch (RuntimeException e) {
            ckpt.close();
            throw e;
        }
    }
}
