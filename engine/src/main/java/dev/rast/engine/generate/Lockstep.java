package dev.rast.engine.generate;

import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.KvCache;
import dev.rast.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Several models advancing the same n sequences in lockstep, each model with its own KV caches: for RAST a base
 * model and expert/base pairs, for plain generation one model. Every model prefills the prompt once; the n
 * sequences then continue from forks of that cache and decode as one batch per model and step (one pass over each
 * model's weights for all of them).
 *
 * <p>After {@link #prefill} and each {@link #step}, {@link #logits(int)} holds, for a sequence, one host F32 row per
 * model (its whole vocabulary; models may differ in vocabulary size). Those rows are the only copy of the logits:
 * each model's step downloads its rows straight into them, so a fusion callback reads (and may overwrite) them
 * without further copies. On the CPU the models run one after another on the shared worker pool.
 */
public final class Lockstep implements AutoCloseable {
    private final List<CausalLM> models;
    private final int n;
    private final KvCache[][] caches;   // [model][sequence]
    private final float[][][] rows;     // [sequence][model][vocab of that model]

    public Lockstep(List<CausalLM> models, int n) {
        if (models.isEmpty()) throw new IllegalArgumentException("no models");
        if (n < 1) throw new IllegalArgumentException("n must be at least 1, is " + n);
        this.models = List.copyOf(models);
        this.n = n;
        caches = new KvCache[models.size()][n];
        rows = new float[n][models.size()][];
        for (int s = 0; s < n; s++)
            for (int m = 0; m < models.size(); m++) rows[s][m] = new float[models.get(m).config().vocabSize()];
    }

    public int models() { return models.size(); }

    public int sequences() { return n; }

    /**
     * Runs the prompt through every model once, then gives each of the n sequences its own cache of
     * {@code capacity} tokens forked from it. Every sequence's rows then hold the logits after the prompt.
     */
    public void prefill(int[] prompt, int capacity) {
        if (prompt.length == 0) throw new IllegalArgumentException("prompt is empty");
        if (caches[0][0] != null) throw new IllegalStateException("already prefilled");
        for (int m = 0; m < models.size(); m++) {
            CausalLM model = models.get(m);
            KvCache first = model.newCache(capacity);
            caches[m][0] = first;
            Tensor l = model.forward(prompt, first, 1);
            model.backend().download(l, MemorySegment.ofArray(rows[0][m]));
            for (int s = 1; s < n; s++) {
                caches[m][s] = first.fork(capacity);
                // Each sequence gets its own row: choosers and fusion may modify rows in place.
                System.arraycopy(rows[0][m], 0, rows[s][m], 0, rows[0][m].length);
            }
        }
    }

    /**
     * One decode step: sequence {@code sequences[i]} takes token {@code tokens[i]} in every model, all of them in one
     * batched forward pass per model. Only the listed sequences' rows change.
     */
    public void step(int[] sequences, int[] tokens) {
        if (sequences.length != tokens.length)
            throw new IllegalArgumentException(sequences.length + " sequences, " + tokens.length + " tokens");
        if (caches[0][0] == null) throw new IllegalStateException("step before prefill");
        if (sequences.length == 0) return;
        for (int m = 0; m < models.size(); m++) {
            CausalLM model = models.get(m);
            KvCache[] batch = new KvCache[sequences.length];
            for (int i = 0; i < batch.length; i++) batch[i] = caches[m][sequences[i]];
            Tensor l = model.decode(tokens, batch);
            for (int i = 0; i < batch.length; i++)
                model.backend().download(l.rows(i, 1), MemorySegment.ofArray(rows[sequences[i]][m]));
        }
    }

    /** Model {@code model}'s logits of {@code sequence} after the last prefill or step (reused between steps). */
    public float[] logits(int model, int sequence) { return rows[sequence][model]; }

    /** Every model's logits row of {@code sequence}, in model order (the array is reused between steps). */
    public float[][] logits(int sequence) { return rows[sequence]; }

    /** The KV cache of {@code sequence} in {@code model} (e.g. to check its length). */
    public KvCache cache(int model, int sequence) { return caches[model][sequence]; }

    @Override
    public void close() {
        for (KvCache[] perModel : caches)
            for (KvCache c : perModel) if (c != null) c.close();
    }
}
