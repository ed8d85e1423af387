package dev.rast.engine.sample;

import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * The random generator of sequence {@code index} of a request seeded with {@code seed}:
 *
 * <pre>
 *   root   = new SplittableRandom(seed)
 *   seed_i = the (i+1)-th root.nextLong()          (i = 0, 1, ...)
 *   rng_i  = new SplittableRandom(seed_i)
 * </pre>
 *
 * Each sequence owns its generator and draws exactly one {@code nextDouble()} per sampled token, so what sequence i
 * produces depends only on (seed, i) and its own logits: not on the thread count, on scheduling, or on how many
 * sequences decode together (sample i of a batch of n equals a lone run of sequence i). SplittableRandom is SplitMix64,
 * the same algorithm in every JDK since 8.
 */
public final class SequenceRandom {
    private SequenceRandom() {}

    public static RandomGenerator of(long seed, int index) {
        if (index < 0) throw new IllegalArgumentException("sequence index " + index + " < 0");
        SplittableRandom root = new SplittableRandom(seed);
        long s = 0;
        for (int i = 0; i <= index; i++) s = root.nextLong();
        return new SplittableRandom(s);
    }
}
