package dev.rast.synth;

import dev.rast.engine.BadInputException;
import dev.rast.engine.json.Json;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Shapes of real checkpoints, for random-weight models that cost what the real ones cost to run (benchmarks,
 * demos) without a download. Values are those of the published config.json files.
 */
public record SynthArch(String name, String architecture, String modelType, int hidden, int intermediate, int layers,
                        int heads, int kvHeads, int headDim, int vocab, boolean tied, double ropeTheta, double rmsEps,
                        int maxPositions, boolean llama3Rope, double ropeFactor, int bos, int eos) {

    public static final List<SynthArch> ALL = List.of(
            qwen("qwen2.5-0.5b", 896, 4864, 24, 14, 2, 151936, true),
            qwen("qwen2.5-1.5b", 1536, 8960, 28, 12, 2, 151936, true),
            qwen("qwen2.5-7b", 3584, 18944, 28, 28, 4, 152064, false),
            llama("llama-3.2-1b", 2048, 8192, 16, 32, 8, true, 32),
            llama("llama-3.1-8b", 4096, 14336, 32, 32, 8, false, 8),
            // Small enough to build in a second, with the real Qwen2.5 vocabulary so real tokenizers fit it.
            new SynthArch("tiny", "Qwen2ForCausalLM", "qwen2", 64, 176, 2, 4, 2, 16, 151936, true, 1_000_000, 1e-6,
                    32768, false, 0, 151643, 151643));

    private static SynthArch qwen(String name, int h, int ff, int layers, int heads, int kv, int vocab, boolean tied) {
        return new SynthArch(name, "Qwen2ForCausalLM", "qwen2", h, ff, layers, heads, kv, h / heads, vocab, tied,
                1_000_000, 1e-6, 32768, false, 0, 151643, 151643);
    }

    private static SynthArch llama(String name, int h, int ff, int layers, int heads, int kv, boolean tied, double factor) {
        return new SynthArch(name, "LlamaForCausalLM", "llama", h, ff, layers, heads, kv, h / heads, 128256, tied,
                500000, 1e-5, 131072, true, factor, 128000, 128001);
    }

    public static SynthArch byName(String name) {
        for (SynthArch a : ALL) if (a.name.equals(name.toLowerCase(Locale.ROOT))) return a;
        throw new BadInputException("--arch '" + name + "' is not known (choose one of: "
                + String.join(", ", ALL.stream().map(SynthArch::name).toList()) + ")");
    }

    public boolean qkvBias() { return architecture.equals("Qwen2ForCausalLM"); }

    /** config.json in the layout the Hub publishes (rope_theta, rope_scaling, torch_dtype). */
    public String configJson(String torchDtype) {
        Map<String, Object> rope = null;
        if (llama3Rope) {
            rope = new LinkedHashMap<>();
            rope.put("factor", ropeFactor);
            rope.put("high_freq_factor", 4.0);
            rope.put("low_freq_factor", 1.0);
            rope.put("original_max_position_embeddings", 8192);
            rope.put("rope_type", "llama3");
        }
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of(architecture));
        c.put("model_type", modelType);
        c.put("_comment", "random weights written by 'rast synth --arch " + name + "': real shapes, no real knowledge");
        c.put("hidden_size", hidden);
        c.put("intermediate_size", intermediate);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", kvHeads);
        if (modelType.equals("llama")) {
            c.put("head_dim", headDim);
            c.put("attention_bias", false);
            c.put("mlp_bias", false);
        }
        c.put("hidden_act", "silu");
        c.put("vocab_size", vocab);
        c.put("max_position_embeddings", maxPositions);
        c.put("rms_norm_eps", rmsEps);
        c.put("rope_theta", ropeTheta);
        c.put("rope_scaling", rope);
        c.put("tie_word_embeddings", tied);
        if (modelType.equals("qwen2")) c.put("use_sliding_window", false);
        c.put("bos_token_id", bos);
        c.put("eos_token_id", eos);
        c.put("torch_dtype", torchDtype);
        c.put("transformers_version", "4.45.0");
        return Json.pretty(c);
    }
}
