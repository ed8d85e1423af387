package dev.rast.plan;

import dev.rast.engine.config.ModelConfig;
import dev.rast.engine.tensor.DType;

/**
 * What one model of a run takes in memory, from its config alone: parameters (counted from the shapes, as the
 * checkpoint stores them), weight bytes in the dtype they are computed in, and KV-cache bytes per token.
 *
 * <p>Parameters of a Llama-family decoder: the embedding V·H, and the LM head V·H again unless tied; per layer
 * q (H·qDim), k and v (H·kvDim each), o (qDim·H), their biases (qDim + 2·kvDim) when the family has them (Qwen2
 * always, Llama with attention_bias), gate, up and down (3·H·I) and two RMSNorm weights (2·H); a final norm (H).
 * KV cache: keys and values of every layer, 2 · layers · kvHeads · headDim values per token.
 */
public record ModelFootprint(String role, String name, ModelConfig config, DType weights, DType kvCache) {
    public long parameters() { return parameters(config); }

    /** The parameters of a model with config {@code c}, counted as the class comment says. */
    public static long parameters(ModelConfig c) {
        long H = c.hiddenSize(), q = c.qDim(), kv = c.kvDim(), I = c.intermediateSize(), V = c.vocabSize();
        boolean bias = c.attentionBias() || c.architecture().startsWith("Qwen2");
        long layer = H * q + 2 * H * kv + q * H + (bias ? q + 2 * kv : 0) + 3 * H * I + 2 * H;
        return V * H * (c.tieWordEmbeddings() ? 1 : 2) + c.numLayers() * layer + H;
    }

    /** Quantized weights count their blocks' scales ({@link DType#bytesPerElement}); norms and biases, few, as the matrices. */
    public long weightBytes() { return (long) Math.ceil(parameters() * weights.bytesPerElement()); }

    public long kvBytesPerToken() { return 2L * config.numLayers() * config.kvDim() * kvCache.bytes(); }
}
