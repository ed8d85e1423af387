package dev.rast.engine.model;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.config.ModelConfig;
import dev.rast.engine.tensor.Tensor;

/** A decoder-only language model bound to a backend: tokens in, logits out, state in a {@link KvCache}. */
public interface CausalLM extends AutoCloseable {
    ModelConfig config();

    Backend backend();

    /** A cache for one sequence of up to {@code capacity} tokens, storing {@link #kvCacheDtype()}, in {@link #kvPool()}. */
    KvCache newCache(int capacity);

    /** The block pool that caches from {@link #newCache} take their memory from (one per model and KV dtype). */
    KvPool kvPool();

    /** Caps the KV pool made from now on (before the first cache) at {@code blocks} blocks of {@link KvPool#BLOCK_SIZE}. */
    void maxKvBlocks(int blocks);

    /** The dtype the weights are computed in (the key projection's, as loaded: the checkpoint's unless --dtype converted). */
    dev.rast.engine.tensor.DType weightDtype();

    /** What caches made by {@link #newCache} store: F32 or BF16 ({@link KvCacheDtype#AUTO} until told otherwise). */
    dev.rast.engine.tensor.DType kvCacheDtype();

    /** Sets what caches made from now on store; caches already made keep theirs. */
    void kvCacheDtype(KvCacheDtype choice);

    /** Bytes one token takes in a cache from {@link #newCache}: keys and values of every layer. */
    default long kvCacheBytesPerToken() { return 2L * config().numLayers() * config().kvDim() * kvCacheDtype().bytes(); }

    /**
     * Runs every chunk of the batch at its sequence's next positions (a prompt: one chunk of many tokens; a batched
     * decode step: many chunks of one token), appends their keys and values to each chunk's cache, and returns F32
     * logits {@code [batch.logitRows(), vocab]}: for each chunk in order, its last {@code logitRows} tokens.
     * Skipping the LM head for the other tokens is what makes prefill cheap. The returned tensor is a workspace
     * view, valid until the next call.
     */
    Tensor forward(Batch batch);

    /** One sequence: {@code tokens} appended to {@code cache}, logits {@code [logitRows, vocab]} of the last tokens. */
    default Tensor forward(int[] tokens, KvCache cache, int logitRows) {
        return forward(Batch.of(cache, tokens, logitRows));
    }

    /** One decode step of several sequences: {@code tokens[i]} appended to {@code caches[i]}; logits {@code [B, vocab]}. */
    default Tensor decode(int[] tokens, KvCache[] caches) {
        return forward(Batch.decode(tokens, caches));
    }

    /** Bytes of weights one decode step reads: every layer, the final norm and the LM head (for GB/s figures). */
    long weightBytes();

    /** The weight tensors one decode step reads (so that a benchmark can time a bare read of the same memory). */
    java.util.List<dev.rast.engine.tensor.Tensor> decodeWeights();

    @Override
    void close();
}
