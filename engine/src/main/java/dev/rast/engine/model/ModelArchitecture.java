package dev.rast.engine.model;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.config.ModelConfig;
import dev.rast.engine.weights.Checkpoint;
import java.util.List;

/** A model family, found with {@link java.util.ServiceLoader}: which HF classes it runs and how to load them. */
public interface ModelArchitecture {
    /** Hugging Face class names from config.json's "architectures", e.g. "Qwen2ForCausalLM". */
    List<String> architectures();

    /** Binds the checkpoint's weights to the backend; validates every tensor's presence and shape first. */
    CausalLM load(ModelConfig config, Checkpoint checkpoint, Backend backend);
}
