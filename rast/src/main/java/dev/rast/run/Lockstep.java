package dev.rast.run;

import dev.rast.engine.BadInputException;
import dev.rast.engine.generate.Generator;
import dev.rast.engine.generate.Sequences;
import dev.rast.engine.model.Batch;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.math.Finite;
import dev.rast.engine.model.KvCache;
import dev.rast.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

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
 *
 * <p>A sequence may use only some of the models (its mask, see {@link Sequences}): a base-only request in a server
 * with expert pairs, or a request with a subset of the pairs. Each model then runs only for the sequences that use
 * it, and has no cache and no row for the others. A step may mix decode tokens and chunks of prompts (chunked
 * prefill): each model still makes one batched pass for all of them.
 */
public final class Lockstep implements Sequences {
    private final List<CausalLM> models;
    // Live sequences only (a server makes millions over its life): caches [model] (null: unused model), and rows
    // [model][vocab of that model] (null: unused model).
    private final Map<Integer, KvCache[]> caches = new HashMap<>();
    private final Map<Integer, float[][]> rows = new HashMap<>();
    private int nextSequence;
    /** Rows of released sequences, per model, reused by new ones (a 152k vocabulary is 600 KB a row). */
    private final List<ArrayDeque<float[]>> spareRows = new ArrayList<>();
    /** Tokens each model has run (prompt and decode), counted for whoever watches (a server's /metrics); may be null. */
    private final AtomicLongArray tokensRun;

    public Lockstep(List<CausalLM> models) { this(models, null); }

    /** As above, adding to {@code tokensRun[m]} the tokens model m runs in each pass ({@code tokensRun} may be null). */
    public Lockstep(List<CausalLM> models, AtomicLongArray tokensRun) {
        if (models.isEmpty()) throw new IllegalArgumentException("no models");
        if (models.size() > 63) throw new IllegalArgumentException("at most 63 models, got " + models.size());
        if (tokensRun != null && tokensRun.length() != models.size())
            throw new IllegalArgumentException(models.size() + " models, " + tokensRun.length() + " counters");
        this.models = List.copyOf(models);
        this.tokensRun = tokensRun;
        for (int m = 0; m < models.size(); m++) spareRows.add(new ArrayDeque<>());
    }

    public int models() { return models.size(); }

    /** A generation loop over these models in lockstep, their rows combined by {@code fusion} (e.g. RAST's). */
    public static Generator generator(List<CausalLM> models, Generator.Fusion fusion) { return generator(models, fusion, null); }

    /** As above, counting the tokens each model runs into {@code tokensRun} (may be null). */
    public static Generator generator(List<CausalLM> models, Generator.Fusion fusion, AtomicLongArray tokensRun) {
        List<CausalLM> copy = List.copyOf(models);
        return new Generator(() -> new Lockstep(copy, tokensRun), fusion);
    }

    /** Plain generation with one model. */
    public static Generator generator(CausalLM model) { return generator(List.of(model), Generator.Fusion.FIRST); }

    /**
     * A new sequence with empty caches of up to {@code capacity} tokens in the models of {@code mask} (bit m: model
     * m). Its rows hold nothing until a step gives it tokens. Returns its number.
     */
    @Override
    public int open(int capacity, long mask) {
        if ((mask & usable()) == 0) throw new IllegalArgumentException("a sequence must use at least one model");
        KvCache[] c = new KvCache[models.size()];
        float[][] r = new float[models.size()][];
        try {
            for (int m = 0; m < models.size(); m++) {
                if ((mask & (1L << m)) == 0) continue;
                c[m] = models.get(m).newCache(capacity);
                r[m] = newRow(m);
            }
        } catch (RuntimeException | Error e) {
            free(c, r);
            throw e;
        }
        return add(c, r);
    }

    private long usable() { return models.size() == 63 ? Long.MAX_VALUE : (1L << models.size()) - 1; }

    /** A new sequence that continues from where {@code sequence} is: its caches and logits rows copied. */
    @Override
    public int fork(int sequence) {
        KvCache[] from = live(sequence);
        float[][] fromRows = rows.get(sequence);
        float[][] r = new float[models.size()][];
        KvCache[] c = new KvCache[models.size()];
        try {
            for (int m = 0; m < models.size(); m++) {
                if (from[m] == null) continue;
                c[m] = from[m].fork(from[m].capacity());
                // Each sequence gets its own rows: choosers and fusion may modify rows in place.
                r[m] = newRow(m);
                System.arraycopy(fromRows[m], 0, r[m], 0, r[m].length);
            }
        } catch (RuntimeException | Error e) { // e.g. the device is out of memory for the second model's copy
            free(c, r);
            throw e;
        }
        return add(c, r);
    }

    private void free(KvCache[] c, float[][] r) {
        for (int m = 0; m < c.length; m++) {
            if (c[m] != null) c[m].close();
            if (r[m] != null) spareRows.get(m).push(r[m]);
        }
    }

    private int add(KvCache[] c, float[][] r) {
        int s = nextSequence++;
        caches.put(s, c);
        rows.put(s, r);
        return s;
    }

    private float[] newRow(int model) {
        float[] r = spareRows.get(model).poll();
        return r != null ? r : new float[models.get(model).config().vocabSize()];
    }

    private KvCache[] live(int sequence) {
        KvCache[] c = caches.get(sequence);
        if (c == null) throw new IllegalArgumentException("no live sequence " + sequence);
        return c;
    }

    /**
     * One step: each work item's tokens appended to its sequence in every model it uses, each model in one batched
     * forward pass over the items of the sequences that use it (a model no item uses does not run). Items that want
     * logits get their rows; the others' rows are left as they were.
     */
    @Override
    public void step(List<Work> work) {
        if (work.isEmpty()) return;
        for (int m = 0; m < models.size(); m++) {
            CausalLM model = models.get(m);
            List<Batch.Chunk> chunks = new ArrayList<>(work.size());
            List<float[]> wanted = new ArrayList<>();
            long tokens = 0;
            for (Work w : work) {
                KvCache c = live(w.sequence())[m];
                if (c == null) continue;
                chunks.add(new Batch.Chunk(c, w.tokens(), w.logits() ? 1 : 0));
                if (w.logits()) wanted.add(rows.get(w.sequence())[m]);
                tokens += w.tokens().length;
            }
            if (chunks.isEmpty()) continue;
            Tensor l = model.forward(new Batch(chunks.toArray(Batch.Chunk[]::new)));
            for (int i = 0; i < wanted.size(); i++) {
                float[] row = wanted.get(i);
                model.backend().download(l.rows(i, 1), MemorySegment.ofArray(row));
                requireFinite(model, row);
            }
            if (tokensRun != null) tokensRun.addAndGet(m, tokens);
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
        free(live(sequence), rows.get(sequence));
        caches.remove(sequence);
        rows.remove(sequence);
    }

    /** Model {@code model}'s logits of {@code sequence} after its start, fork or last step (reused between steps; null if it does not use the model). */
    public float[] logits(int model, int sequence) { return rows.get(sequence)[model]; }

    /** Every model's logits row of {@code sequence}, in model order, null for models it does not use (reused between steps). */
    @Override
    public float[][] logits(int sequence) { return rows.get(sequence); }

    /** The KV cache of {@code sequence} in {@code model} (e.g. to check its length); null if it does not use the model. */
    public KvCache cache(int model, int sequence) { return live(sequence)[model]; }

    /** Bytes the live sequences' caches take now, in every model (what they have grown to, not their capacity). */
    public long cacheBytes() {
        long bytes = 0;
        for (KvCache[] perModel : caches.values())
            for (KvCache c : perModel) if (c != null) bytes += c.allocatedBytes();
        return bytes;
    }

    @Override
    public void close() {
        for (KvCache[] perModel : caches.values())
            for (KvCache c : perModel) if (c != null) c.close();
        caches.clear();
    }
}
