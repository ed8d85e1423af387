package dev.rast.engine.generate;

import java.util.List;

/**
 * What {@link Generator}'s loop drives: numbered sequences that one or more models advance together, each
 * sequence with its own KV cache in each model it uses. The loop decides which sequences exist and which step next;
 * an implementation decides how the models run them (the {@code rast} module's {@code Lockstep} runs a base model
 * and expert pairs in lockstep; one model is the plain case).
 *
 * <p>A sequence may use only some of the models (bit m of its {@code models} mask: model m): a step runs each model
 * for the sequences that use it and no others, and a sequence's logits rows of models it does not use are null.
 */
public interface Sequences extends AutoCloseable {
    /** The mask of a sequence that uses every model. */
    long ALL_MODELS = -1L;

    /**
     * New tokens of one sequence in one {@link #step}: one chosen token (a decode step) or a chunk of its prompt;
     * {@code logits}: whether its logits rows are wanted after the chunk's last token (a prompt's last chunk, a decode
     * step), else they keep what they held.
     */
    record Work(int sequence, int[] tokens, boolean logits) {
        public Work {
            if (tokens.length == 0) throw new IllegalArgumentException("no tokens for sequence " + sequence);
        }
    }

    /**
     * A new sequence with empty caches of up to {@code capacity} tokens in the models of {@code models} (bit m: model
     * m; {@link #ALL_MODELS} for all). It has no logits until a step gives it tokens. Returns its number.
     */
    int open(int capacity, long models);

    /** A new sequence in every model, its whole {@code prompt} prefilled. Returns its number. */
    default int start(int[] prompt, int capacity) { return start(prompt, capacity, ALL_MODELS); }

    /** A new sequence in the models of {@code models}, its whole {@code prompt} prefilled in one step of its own. */
    default int start(int[] prompt, int capacity, long models) {
        int s = open(capacity, models);
        try {
            step(List.of(new Work(s, prompt, true)));
        } catch (RuntimeException | Error e) {
            release(s);
            throw e;
        }
        return s;
    }

    /** A new sequence that continues from where {@code sequence} is (cache blocks shared, logits copied). Returns its number. */
    int fork(int sequence);

    /** One decode step: sequence {@code sequences[i]} takes token {@code tokens[i]} in every model it uses, as one batch. */
    default void step(int[] sequences, int[] tokens) {
        if (sequences.length != tokens.length)
            throw new IllegalArgumentException(sequences.length + " sequences, " + tokens.length + " tokens");
        Work[] w = new Work[sequences.length];
        for (int i = 0; i < w.length; i++) w[i] = new Work(sequences[i], new int[] {tokens[i]}, true);
        step(List.of(w));
    }

    /**
     * One step of any mix of work: each model runs one batched pass over the work of the sequences that use it
     * (decode tokens and prompt chunks together), at most one work item per sequence.
     */
    void step(List<Work> work);

    /**
     * Whether the models' KV-cache pools have the blocks {@code work} needs now (each item's new tokens, and the copy
     * of a shared, partly filled last block it writes into), in every model. The default: pools without a cap.
     */
    default boolean fits(List<Work> work) { return true; }

    /**
     * Whether a new sequence of {@code tokens} tokens and its first generated token, in the models of {@code models},
     * with {@code samples} samples in all (the others forked from it, each to take a block of its own on its first
     * write), fits the pools next to what they hold.
     */
    default boolean fits(int tokens, int samples, long models) { return true; }

    /**
     * Every model's logits row of {@code sequence} after its last step with logits (or its fork), in model order;
     * null for a model it does not use. The rows may be modified in place.
     */
    float[][] logits(int sequence);

    /** Frees {@code sequence}'s caches; its number is not reused. */
    void release(int sequence);

    @Override
    void close();
}
