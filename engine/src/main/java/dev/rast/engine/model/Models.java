package dev.rast.engine.model;

import dev.rast.engine.BadInputException;
import dev.rast.engine.Printable;
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

    /**
     * Tensors the model does not use mean config.json and the weights disagree (e.g. num_hidden_layers lower than
     * the checkpoint's layers): the run goes on, as Hugging Face's does, with a warning on stderr.
     */
    static void warnUnused(Path dir, ModelConfig config, List<String> unused) {
        if (unused.isEmpty()) return;
        System.err.println(Printable.line("warning: " + dir + ": " + unused.size() + " tensor" + (unused.size() == 1 ? " is" : "s are")
                + " in the checkpoint but not used by the model as config.json describes it (num_hidden_layers "
                + config.numLayers() + "), e.g. '" + unused.getFirst() + "'"));
    }

    public static CausalLM load(Path dir, Backend backend) { return load(dir, backend, WeightDtype.AUTO); }

    /** Loads with the weights in {@code dtype} ({@link WeightDtype#AUTO}: as stored). */
    public static CausalLM load(Path dir, Backend backend, WeightDtype dtype) {
        ModelConfig config = ModelConfig.load(dir);
        ModelArchitecture arch = find(config);
        Checkpoint ckpt = Checkpoint.open(dir, dtype);
        try {
            CausalLM model = arch.load(config, ckpt, backend);
            warnUnused(dir, config, ckpt.unusedTensors());
            return model;
        } catch (RuntimeException e) {
            ckpt.close();
            throw e;
        }
    }
}
