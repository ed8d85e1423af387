package dev.rast.engine.model;

import dev.rast.engine.EnumOption;
import dev.rast.engine.tensor.DType;

/**
 * What a model's KV caches store. {@code AUTO} follows the checkpoint, as Hugging Face and vLLM do: BF16 for a model
 * whose attention weights are BF16 (Qwen2.5 and Llama-3.1 as published), F32 otherwise (SimpleRL-Zoo's F32
 * checkpoints, F16 ones: F16 keys would lose range, BF16 ones precision the checkpoint has).
 *
 * <p>Why BF16 is worth it: a cache grows by {@code 2 · layers · kvDim} values per token and per model, so at the
 * paper's settings (32 samples of up to 16,384 tokens, a 7B base with a 1.5B pair) the caches, not the weights, bound
 * how many samples fit; and a long sequence's decode step reads its whole cache, so halving the bytes halves the time
 * attention takes once the context outgrows the weights. The cost is rounding keys and values to 8 significant bits,
 * which is what the checkpoint's own BF16 arithmetic does to them in Hugging Face.
 */
public enum KvCacheDtype {
    AUTO, F32, BF16;

    /** The dtype caches store for a model whose key projection is stored as {@code keyWeights}. */
    public DType resolve(DType keyWeights) {
        return switch (this) {
            case F32 -> DType.F32;
            case BF16 -> DType.BF16;
            case AUTO -> keyWeights == DType.BF16 ? DType.BF16 : DType.F32;
        };
    }

    /** auto, f32 or bf16 (any case); anything else is refused naming {@code option}. */
    public static KvCacheDtype parse(String option, String value) { return EnumOption.parse(values(), option, value); }
}
