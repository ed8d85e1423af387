package dev.rast.engine.weights;

import dev.rast.engine.EnumOption;
import dev.rast.engine.tensor.DType;

/**
 * The dtype a model's weights are computed in, whatever the checkpoint stores ({@code --dtype}). {@code AUTO} keeps
 * each tensor as stored (mapped in place, no copy). {@code BF16} rounds F32 and F16 tensors to BF16 as they load, as
 * Hugging Face's {@code torch_dtype=torch.bfloat16} and vLLM's {@code --dtype bfloat16} do: SimpleRL-Zoo's checkpoints
 * are F32, so an expert pair reads half the bytes a decode step reads and, on a GPU, takes half the device memory. (On
 * the CPU the converted copy stays beside the backend's packed one: the same process memory as an F32 model's packed
 * copy, without its mapped file in the page cache.) {@code F32} widens BF16
 * and F16 tensors (exact; twice the bytes), for checking how much the rounding moves a result.
 *
 * <p>{@code Q8_0} and {@code Q4_0} quantize every matrix (rank 2: the projections, the embedding table and an untied
 * LM head) into llama.cpp's blocks of 32 ({@link dev.rast.engine.tensor.QuantBlocks}) as it loads; vectors (norm
 * weights, biases) stay as stored, as llama.cpp keeps them in float.
 */
public enum WeightDtype {
    AUTO, F32, BF16, Q8_0, Q4_0;

    /** What a matrix stored as {@code stored} is computed in. */
    public DType resolve(DType stored) { return resolve(stored, 2); }

    /** What a tensor of {@code rank} dimensions stored as {@code stored} is computed in. */
    public DType resolve(DType stored, int rank) {
        return switch (this) {
            case AUTO -> stored;
            case F32 -> DType.F32;
            case BF16 -> DType.BF16;
            case Q8_0 -> rank == 2 ? DType.Q8_0 : stored;
            case Q4_0 -> rank == 2 ? DType.Q4_0 : stored;
        };
    }

    /** auto, f32, bf16, q8_0 or q4_0 (any case); anything else is refused naming {@code option}. */
    public static WeightDtype parse(String option, String value) { return EnumOption.parse(values(), option, value); }
}
