package dev.rast.engine.sample;

import dev.rast.engine.BadInputException;

/**
 * How the next token is chosen from the (fused) logits. The stages run in Hugging Face's order: temperature, top-k,
 * top-p, min-p, then a draw; {@code temperature == 0} means greedy (argmax) and the other settings are then moot.
 *
 * @param temperature logits are divided by it; 0 = greedy
 * @param topK        keep the k largest logits (and every logit tied with the k-th); 0 = off
 * @param topP        keep the smallest most-probable set whose probability reaches topP; 1 = off
 * @param minP        keep tokens whose probability is at least minP × the top token's; 0 = off
 * @param seed        root of every sequence's random generator (see {@link SequenceRandom})
 */
public record SamplingParams(double temperature, int topK, double topP, double minP, long seed) {
    public static final double MIN_TEMPERATURE = 1e-4;

    public SamplingParams {
        // Below 1e-4, logits / temperature can overflow f32, and the draw is greedy in all but name anyway.
        if (!(temperature == 0 || temperature >= MIN_TEMPERATURE) || Double.isInfinite(temperature))
            throw new BadInputException("temperature must be 0 (greedy) or a finite number >= " + MIN_TEMPERATURE
                    + ", is " + temperature);
        if (topK < 0) throw new BadInputException("top-k must be >= 0 (0 = off), is " + topK);
        if (!(topP > 0 && topP <= 1)) throw new BadInputException("top-p must be in (0, 1] (1 = off), is " + topP);
        if (!(minP >= 0 && minP <= 1)) throw new BadInputException("min-p must be in [0, 1] (0 = off), is " + minP);
    }

    /** Argmax decoding. */
    public static SamplingParams greedy() { return new SamplingParams(0, 0, 1, 0, 0); }

    /** Plain sampling from softmax(logits / temperature), no truncation. */
    public static SamplingParams temperature(double temperature, long seed) {
        return new SamplingParams(temperature, 0, 1, 0, seed);
    }

    public boolean isGreedy() { return temperature == 0; }
}
