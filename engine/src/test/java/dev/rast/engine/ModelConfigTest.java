package dev.rast.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rast.engine.config.ModelConfig;
import dev.rast.engine.config.RopeScaling;
import dev.rast.engine.model.RopeTable;
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

    /**
     * Meta's llama3 rule, evaluated by hand for Llama-3.1 (theta 5e5, head_dim 128, factor 8, low 1, high 4,
     * original 8192): wavelength λ_i = 2π·θ^(2i/128). λ < 2048 → unchanged; λ > 8192 → divided by 8;
     * between → (1−s)·f/8 + s·f with s = (8192/λ − 1)/3.
     */
    @Test
    void llama3ScalingFollowsMetasRule() {
        float[] inv = RopeTable.inverseFrequencies(128, 500000, RopeScaling.llama3(8, 1, 4, 8192));
        assertEquals(1.0f, inv[0], 0f); // λ = 2π: high frequency, kept
        double f20 = Math.pow(500000, -40.0 / 128); // λ ≈ 378: kept
        assertEquals(f20, inv[20], 1e-6 * f20);
        double f63 = Math.pow(500000, -126.0 / 128); // λ ≈ 2.6e6: slowed 8x
        assertEquals(f63 / 8, inv[63], 1e-6 * f63);
        double f45 = Math.pow(500000, -90.0 / 128), lambda = 2 * Math.PI / f45; // λ ≈ 6.5e4 > 8192: slowed
        assertEquals(f45 / 8, inv[45], 1e-6 * f45);
        double f31 = Math.pow(500000, -62.0 / 128), l31 = 2 * Math.PI / f31; // λ ≈ 3680: in the blended band
        double s = (8192 / l31 - 1) / 3;
        assertEquals((1 - s) * f31 / 8 + s * f31, inv[31], 1e-6 * f31);
        assertEquals(true, l31 > 2048 && l31 < 8192 && lambda > 8192);
    }
}
