package dev.rast.engine.model;

import java.util.List;

/**
 * The arithmetic of KV-cache memory in blocks, in one place: {@code rast plan}'s prediction and the pools a run's
 * scheduler admits sequences into both come from here, so they cannot disagree.
 *
 * <p>A run whose sequences use every model takes one block of each model per {@link KvPool#BLOCK_SIZE} positions,
 * so a budget of B bytes gives every model's pool ⌊B / (BLOCK_SIZE · Σ KV bytes per token)⌋ blocks, and a sequence of
 * p positions holds ⌈p / BLOCK_SIZE⌉ of them: ⌊blocks / ⌈p / BLOCK_SIZE⌉⌋ such sequences fit at once.
 */
public final class KvBlocks {
    private KvBlocks() {}

    /** Blocks per model from {@code budget} bytes, for models whose KV bytes per token sum to {@code bytesPerToken}. */
    public static long blocks(long budget, long bytesPerToken) {
        return budget <= 0 ? 0 : budget / (bytesPerToken * KvPool.BLOCK_SIZE);
    }

    /** Blocks a sequence of {@code positions} positions holds in each model. */
    public static long perSequence(long positions) { return Math.ceilDiv(positions, KvPool.BLOCK_SIZE); }

    /** Sequences of {@code positions} positions that {@code blocks} blocks per model hold at once. */
    public static long sequences(long blocks, long positions) { return blocks / perSequence(positions); }

    /** Caps every model's pool at {@link #blocks} of {@code budget} (before their first caches are made). */
    public static long cap(List<? extends CausalLM> models, long budget) {
        long perToken = 0;
        for (CausalLM m : models) perToken += m.kvCacheBytesPerToken();
        long b = Math.min(Integer.MAX_VALUE, blocks(budget, perToken));
        if (b < 1) throw new IllegalArgumentException("a KV budget of " + budget + " bytes holds no block of "
                + KvPool.BLOCK_SIZE + " positions (" + perToken * KvPool.BLOCK_SIZE + " bytes in these models)");
        for (CausalLM m : models) m.maxKvBlocks((int) b);
        return b;
    }
}
