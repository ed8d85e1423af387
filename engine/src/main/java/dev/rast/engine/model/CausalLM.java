package dev.rast.engine.model;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.config.ModelConfig;
import dev.rast.engine.tensor.Tensor;

/** A decoder-only language model bound to a backend: tokens in, logits out, state in a {@link KvCache}. */
public interface CausalLM extends AutoCloseable {
    ModelConfig config();

    Backend backend();

    /** A cache for one sequence of up to {@code capacity} tokens. */
    KvCache newCache(int capacity);

    /**
     * Runs {@code tokens} at positions {@code cache.length()}.. (a prompt: many tokens; a decode step: one), appends
     * their keys and values to the cache, and returns F32 logits {@code [logitRows, vocab]} for the last
     * {@code logitRows} tokens. Skipping the LM head for the other tokens is what makes prefill cheap. The
     * returned tensor is a workspace view, valid until the next call.
     */
    Tensor forward(int[] tokens, KvCache cache, int logitRows);

    /** Bytes of weights one decode step reads: every layer, the final norm and the LM head (for GB/s figures). */
    long weightBytes();

    @Override
    void close();
}
