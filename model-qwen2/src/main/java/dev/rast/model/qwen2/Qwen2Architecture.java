package dev.rast.model.qwen2;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.config.ModelConfig;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.DecoderModel;
import dev.rast.engine.model.DecoderWeights;
import dev.rast.engine.model.ModelArchitecture;
import dev.rast.engine.model.RopeTable;
import dev.rast.engine.weights.Checkpoint;
import dev.rast.engine.weights.WeightLoader;
import java.util.List;

/**
 * Qwen2ForCausalLM (Qwen2, Qwen2.5 and their fine-tunes such as SimpleRL-Zoo): the Llama-family decoder of
 * {@link DecoderModel} with biases on q, k and v, always (and none on o_proj or the MLP).
 */
public final class Qwen2Architecture implements ModelArchitecture {
    @Override public List<String> architectures() { return List.of("Qwen2ForCausalLM"); }

    @Override
    public CausalLM load(ModelConfig config, Checkpoint checkpoint, Backend backend) {
        float[] frequencies = RopeTable.inverseFrequencies(config);
        DecoderWeights w = DecoderWeights.load(config, new WeightLoader(checkpoint, backend), true);
        return new DecoderModel(config, checkpoint, backend, w, frequencies);
    }
}
