package dev.rast.engine.generate;

/**
 * What {@link Generator}'s loop drives: numbered sequences that one or more models advance together, each
 * sequence with its own KV cache per model. The loop decides which sequences exist and which step next; an
 * implementation decides how the models run them (the {@code rast} module's {@code Lockstep} runs a base model and
 * expert pairs in lockstep; one model is the plain case).
 */
public interface Sequences extends AutoCloseable {
    /** A new sequence: every model prefills {@code prompt} into a cache of up to {@code capacity} tokens. Returns its number. */
    int start(int[] prompt, int capacity);

    /** A new sequence that continues from where {@code sequence} is (caches and logits copied). Returns its number. */
    int fork(int sequence);

    /** One decode step: sequence {@code sequences[i]} takes token {@code tokens[i]} in every model, as one batch. */
    void step(int[] sequences, int[] tokens);

    /** Every model's logits row of {@code sequence} after its start, fork or last step, in model order; may be modified in place. */
    float[][] logits(int sequence);

    /** Frees {@code sequence}'s caches; its number is not reused. */
    void release(int sequence);

    @Override
    void close();
}
