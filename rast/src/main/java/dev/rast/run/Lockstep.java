package dev.rast.run;

import dev.rast.engine.BadInputException;
import dev.rast.engine.generate.Generator;
import dev.rast.engine.generate.Sequences;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.math.Finite;
import dev.rast.engine.model.KvCache;
import dev.rast.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Sequences advancing in several models at once, each model with its own KV cache per sequence: for RAST a base
 * model and expert/base pairs, for plain generation one model. A sequence {@link #start starts} from a prompt
 * (every model prefills it) or is {@link #fork forked} from another (its caches and logits copied), then every
 * {@link #step} decodes any set of sequences together: one batched pass over each model's weights for all of them,
 * whatever prompt each came from. Sequences are numbered 0, 1, 2, … in the order they are made; a
 * {@link #release released} number is not reused.
 *
 * <p>After its start or fork and after each step, {@link #logits(int)} holds, for a sequence, one host F32 row per
 * model (its whole vocabulary; models may differ in vocabulary size). Those rows are the only copy of the logits:
 * each model's step downloads its rows straight into them, so a fusion callback reads (and may overwrite) them
 * without further copies. On the CPU the models run one after another on the shared worker pool.
 */
public final class Lockstep implements Sequences {
    private final List<CausalLM> models;
    private final List<KvCache[]> caches = new ArrayList<>();    // [sequence][model]; null once released
    private final List<float[][]> rows = new ArrayList<>();      // [sequence][model][vocab of that model]
    /** Rows of released sequences, reused by new ones (a 152k vocabulary is 600 KB a row). */
    private final ArrayDeque<float[][]> spareRows = new ArrayDeque<>();

    public Lockstep(List<CausalLM> models) {
        if (models.isEmpty()) throw new IllegalArgumentException("no models");
        this.models = List.copyOf(models);
    }

    public int models() { return models.size(); }

    /** A generation loop over these models in lockstep, their rows combined by {@code fusion} (e.g. RAST's). */
    public static Generator generator(List<CausalLM> models, Generator.Fusion fusion) {
        List<CausalLM> copy = List.copyOf(models);
        return new Generator(() -> new Lockstep(copy), fusion);
    }

    /** Plain generation with one model. */
    public static Generator generator(CausalLM model) { return generator(List.of(model), Generator.Fusion.FIRST); }

    /**
     * A new sequence: every model prefills {@code prompt} into a cache that will hold up to {@code capacity} tokens.
     * Its rows then hold the logits after the prompt. Returns its number.
     */
    @Override
    public int start(int[] prompt, int capacity) {
        if (prompt.length == 0) throw new IllegalArgumentException("prompt is empty");
        KvCache[] c = new KvCache[models.size()];
        float[][] r = newRows();
        try {
            for (int m = 0; m < models.size(); m++) {
                CausalLM model = models.get(m);
                c[m] = model.newCache(capacity);
                Tensor l = model.forward(prompt, c[m], 1);
                model.backend().download(l, MemorySegment.ofArray(r[m]));
                requireFinite(model, r[m]);
            }
        } catch (RuntimeException | Error e) {
            for (KvCache k : c) if (k != null) k.close();
            spareRows.push(r);
            throw e;
        }
        return add(c, r);
    }

    /** A new sequence that continues from where {@code sequence} is: its caches and logits rows copied. */
    @Override
    public int fork(int sequence) {
        KvCache[] from = live(sequence);
        float[][] fromRows = rows.get(sequence), r = newRows();
        KvCache[] c = new KvCache[models.size()];
        try {
            for (int m = 0; m < models.size(); m++) {
                c[m] = from[m].fork(from[m].capacity());
                // Each sequence gets its own rows: choosers and fusion may modify rows in place.
                System.arraycopy(fromRows[m], 0, r[m], 0, r[m].length);
            }
        } catch (RuntimeException | Error e) { // e.g. the device is out of memory for the second model's copy
            for (KvCache k : c) if (k != null) k.close();
            spareRows.push(r);
            throw e;
        }
        return add(c, r);
    }

    private int add(KvCache[] c, float[][] r) {
        caches.add(c);
        rows.add(r);
        return caches.size() - 1;
    }

    private float[][] newRows() {
        float[][] r = spareRows.poll();
        if (r != null) return r;
        r = new float[models.size()][];
        for (int m = 0; m < models.size(); m++) r[m] = new float[models.get(m).config().vocabSize()];
        return r;
    }

    private KvCache[] live(int sequence) {
        KvCache[] c = sequence >= 0 && sequence < caches.size() ? caches.get(sequence) : null;
        if (c == null) throw new IllegalArgumentException("no live sequence " + sequence);
        return c;
    }

    /**
     * One decode step: sequence {@code sequences[i]} takes token {@code tokens[i]} in every model, all of them in one
     * batched forward pass per model. Only the listed sequences' rows change.
     */
    @Override
    public void step(int[] sequences, int[] tokens) {
        if (sequences.length != tokens.length)
            throw new IllegalArgumentException(sequences.length + " sequences, " + tokens.length + " tokens");
        if (sequences.length == 0) return;
        for (int m = 0; m < models.size(); m++) {
            CausalLM model = models.get(m);
            KvCache[] batch = new KvCache[sequences.length];
            for (int i = 0; i < batch.length; i++) batch[i] = live(sequences[i])[m];
            Tensor l = model.decode(tokens, batch);
            for (int i = 0; i < batch.length; i++) {
                float[] row = rows.get(sequences[i])[m];
                model.backend().download(l.rows(i, 1), MemorySegment.ofArray(row));
                requireFinite(model, row);
            }
        }
    }

    /**
     * A model whose logits hold NaN or ±∞ has broken weights (NaN or Inf values, or values past what F16 holds): said
     * here, naming the model, rather than by the sampler later, which knows no model. One vector pass per row.
     */
    private static void requireFinite(CausalLM model, float[] row) {
        int bad = Finite.firstNonFinite(row);
        if (bad >= 0)
            throw new BadInputException(model.config().file().getParent() + ": the model's logits are not finite (token id "
                    + bad + " is " + row[bad] + "): its weights hold NaN or infinite values, or overflow in "
                    + model.weightDtype() + "; check the checkpoint's tensors");
    }

    /** Frees {@code sequence}'s caches (its number is not reused). */
    @Override
    public void release(int sequence) {
        for (KvCache c : live(sequence)) c.close();
        caches.set(sequence, null);
        spareRows.push(rows.set(sequence, null));
    }

    /** Model {@code model}'s logits of {@code sequence} after its start, fork or last step (reused between steps). */
    public float[] logits(int model, int sequence) { return rows.get(sequence)[model]; }

    /** Every model's logits row of {@code sequence}, in model order (the array is reused between steps). */
    @Override
    public float[][] logits(int sequence) { return rows.get(sequence); }

    /** The KV cache of {@code sequence} in {@code model} (e.g. to check its length). */
    public KvCache cache(int model, int sequence) { return live(sequence)[model]; }

    @Override
    public void close() {
        for (KvCache[] perModel : caches)
            if (perModel != null) for (KvCache c : perModel) c.close();
        caches.clear();
    }
}
