package dev.rast.model.llama3;

import dev.rast.engine.BadInputException;
import dev.rast.engine.backend.Backend;
import dev.rast.engine.config.ModelConfig;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.DecoderModel;
import dev.rast.engine.model.DecoderWeights;
import dev.rast.engine.model.ModelArchitecture;
import dev.rast.engine.weights.Checkpoint;
import dev.rast.engine.weights.WeightLoader;
import java.util.List;

/**
 * LlamaForCausalLM (Llama 3, 3.1, 3.2, 3.3 and fine-tunes): the decoder of {@link DecoderModel}, with q/k/v biases
 * only when the config sets attention_bias, and rotary frequencies scaled by {@link Llama3RopeScaling}.
 */
public final class LlamaArchitecture implements ModelArchitecture {
    @Override public List<String> architectures() { return List.of("LlamaForCausalLM"); }

    @Override
    public CausalLM load(ModelConfig config, Checkpoint checkpoint, Backend backend) {
        if (Boolean.TRUE.equals(config.raw().get("mlp_bias")))
            throw new BadInputException(config.file() + ": field 'mlp_bias' is true; MLP biases are not supported");
        float[] frequencies = Llama3RopeScaling.inverseFrequencies(config);
        DecoderWeights w = DecoderWeights.load(config, new WeightLoader(checkpoint, backend), config.attentionBias());
        return new DecoderModel(config, checkpoint, backend, w, frequencies);
    }
}
