package dev.rast.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rast.engine.config.ModelConfig;
import dev.rast.engine.config.RopeScaling;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ModelConfigTest {
    static final String COMMON = "\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 4096, \"intermediate_size\": 14336,"
            + " \"num_hidden_layers\": 32, \"num_attention_heads\": 32, \"num_key_value_heads\": 8, \"vocab_size\": 128256,"
            + " \"max_position_embeddings\": 131072, \"rms_norm_eps\": 1e-05, ";

    /** Llama-3.1-8B's config as published, and as transformers 5 saves it: the same model. */
    @Test
    void bothConfigLayoutsGiveTheSameModel() {
        ModelConfig published = ModelConfig.parse(Path.of("config.json"), "{" + COMMON
                + "\"rope_theta\": 500000.0, \"torch_dtype\": \"bfloat16\", \"rope_scaling\": {\"factor\": 8.0,"
                + " \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192,"
                + " \"rope_type\": \"llama3\"}}");
        ModelConfig v5 = ModelConfig.parse(Path.of("config.json"), "{" + COMMON
                + "\"dtype\": \"bfloat16\", \"rope_parameters\": {\"rope_theta\": 500000.0, \"factor\": 8.0,"
                + " \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192,"
                + " \"rope_type\": \"llama3\"}}");
        RopeScaling want = RopeScaling.llama3(8, 1, 4, 8192);
        assertEquals(want, published.ropeScaling());
        assertEquals(want, v5.ropeScaling());
        assertEquals(500000.0, published.ropeTheta());
        assertEquals(500000.0, v5.ropeTheta());
        assertEquals(published.torchDtype(), v5.torchDtype());
        assertEquals(128, published.headDim()); // derived: 4096 / 32
    }
}
