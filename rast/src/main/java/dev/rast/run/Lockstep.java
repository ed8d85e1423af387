package dev.rast.run;

import dev.rast.engine.BadInputException;
import dev.rast.engine.backend.Backend;
import dev.rast.engine.backend.DeviceLogits;
import dev.rast.engine.sample.SamplingParams;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.generate.Generator;
import dev.rast.engine.generate.Sequences;
import dev.rast.engine.model.Batch;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.math.Finite;
import dev.rast.engine.model.KvCache;
import dev.rast.engine.model.KvBlocks;
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
 * (every model prefills it) or is {@link #fork forked} from another (its cache blocks shared, its logits copied), then every
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
 *
 * <p>Device rows ({@link #Lockstep(List, AtomicLongArray, boolean)} with {@code deviceRows}, when every model runs
 * on one backend that is a {@link DeviceLogits}): each step copies the rows into device memory the set owns (a slot
 * per live sequence, in every model) instead of downloading them, and {@link #choose} fuses and samples there, so
 * only the chosen ids and their log-probabilities reach the host. {@link #logits(int)} then downloads a sequence's
 * rows when asked (and checks them), so the {@link Sequences} contract holds either way. Rows are not checked for
 * NaN and ±∞ each step on the device path; a non-finite log-probability from the device (which any such value in a
 * row gives) has the rows downloaded and checked then, so a broken model is named as on the host path.
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
    /** The device rows (see the class comment); null: rows are downloaded to the host each step. */
    private final DeviceRows device;

    public Lockstep(List<CausalLM> models) { this(models, null); }

    /** As above, adding to {@code tokensRun[m]} the tokens model m runs in each pass ({@code tokensRun} may be null). */
    public Lockstep(List<CausalLM> models, AtomicLongArray tokensRun) { this(models, tokensRun, false); }

    /**
     * As above; {@code deviceRows}: keep the logits rows on the device and choose there (see the class comment),
     * if {@link #deviceCapable} holds for the models, else the host path.
     */
    public Lockstep(List<CausalLM> models, AtomicLongArray tokensRun, boolean deviceRows) {
        if (models.isEmpty()) throw new IllegalArgumentException("no models");
        if (models.size() > 63) throw new IllegalArgumentException("at most 63 models, got " + models.size());
        if (tokensRun != null && tokensRun.length() != models.size())
            throw new IllegalArgumentException(models.size() + " models, " + tokensRun.length() + " counters");
        this.models = List.copyOf(models);
        this.tokensRun = tokensRun;
        for (int m = 0; m < models.size(); m++) spareRows.add(new ArrayDeque<>());
        this.device = deviceRows && deviceCapable(models) ? new DeviceRows(this.models) : null;
    }

    /** Whether every model runs on one backend and it can fuse and sample where its tensors are. */
    public static boolean deviceCapable(List<CausalLM> models) {
        Backend b = models.getFirst().backend();
        for (CausalLM m : models) if (m.backend() != b) return false;
        return b instanceof DeviceLogits;
    }

    /** Whether this set keeps its logits rows on the device (see the class comment). */
    public boolean onDevice() { return device != null; }

    public int models() { return models.size(); }

    /** A generation loop over these models in lockstep, their rows combined by {@code fusion} (e.g. RAST's). */
    public static Generator generator(List<CausalLM> models, Generator.Fusion fusion) { return generator(models, fusion, null); }

    /** As above, counting the tokens each model runs into {@code tokensRun} (may be null). */
    public static Generator generator(List<CausalLM> models, Generator.Fusion fusion, AtomicLongArray tokensRun) {
        List<CausalLM> copy = List.copyOf(models);
        return new Generator(() -> new Lockstep(copy, tokensRun), fusion);
    }

    /**
     * As {@link #generator(List, Generator.Fusion, AtomicLongArray)}, keeping the rows on the device when
     * {@code deviceRows} and {@link #deviceCapable} (then a {@link Generator.BatchChooser} calls {@link #choose}).
     */
    public static Generator generator(List<CausalLM> models, Generator.Fusion fusion, AtomicLongArray tokensRun, boolean deviceRows) {
        List<CausalLM> copy = List.copyOf(models);
        return new Generator(() -> new Lockstep(copy, tokensRun, deviceRows), fusion);
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
        int seq = add(c, r);
        if (device != null) device.open(seq);
        return seq;
    }

    private long usable() { return models.size() == 63 ? Long.MAX_VALUE : (1L << models.size()) - 1; }

    /** A new sequence that continues from where {@code sequence} is: its caches share the blocks (copy on write), its logits rows are copied. */
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
        int seq = add(c, r);
        if (device != null) device.fork(sequence, seq);
        return seq;
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
        // Every model's blocks first, so that a full pool (KvPool.Full) stops the step before any model has run.
        for (Work w : work)
            for (KvCache c : live(w.sequence())) if (c != null) c.reserve(w.tokens().length);
        for (int m = 0; m < models.size(); m++) {
            CausalLM model = models.get(m);
            List<Batch.Chunk> chunks = new ArrayList<>(work.size());
            List<float[]> wanted = new ArrayList<>();
            List<Integer> wantedSequences = new ArrayList<>();
            long tokens = 0;
            for (Work w : work) {
                KvCache c = live(w.sequence())[m];
                if (c == null) continue;
                chunks.add(new Batch.Chunk(c, w.tokens(), w.logits() ? 1 : 0));
                if (w.logits()) {
                    wanted.add(rows.get(w.sequence())[m]);
                    wantedSequences.add(w.sequence());
                }
                tokens += w.tokens().length;
            }
            if (chunks.isEmpty()) continue;
            Tensor l = model.forward(new Batch(chunks.toArray(Batch.Chunk[]::new)));
            if (device != null) {
                device.store(m, l, wantedSequences);
                if (tokensRun != null) tokensRun.addAndGet(m, tokens);
                continue;
            }
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

    /** Per model: the blocks {@code work} takes from its pool (new positions, copies of shared last blocks). */
    @Override
    public boolean fits(List<Work> work) {
        for (int m = 0; m < models.size(); m++) {
            long need = 0;
            for (Work w : work) {
                KvCache c = live(w.sequence())[m];
                if (c != null) need += c.blocksToReserve(w.tokens().length);
            }
            if (need > 0 && need > models.get(m).kvPool().freeBlocks()) return false;
        }
        return true;
    }

    /**
     * Per model of {@code mask}, against the pool's free blocks: the blocks of the prompt and its first generated
     * token ({@link KvBlocks#perSequence}), and one for each other sample (the first write of a fork).
     */
    @Override
    public boolean fits(int tokens, int samples, long mask) {
        long need = KvBlocks.perSequence(tokens + 1L) + Math.max(0, samples - 1);
        for (int m = 0; m < models.size(); m++)
            if ((mask & (1L << m)) != 0 && need > models.get(m).kvPool().freeBlocks()) return false;
        return true;
    }

    /** Frees {@code sequence}'s caches (its number is not reused). */
    @Override
    public void release(int sequence) {
        free(live(sequence), rows.get(sequence));
        if (device != null) device.release(sequence);
        caches.remove(sequence);
        rows.remove(sequence);
    }

    /** Model {@code model}'s logits of {@code sequence} after its start, fork or last step (reused between steps; null if it does not use the model). */
    public float[] logits(int model, int sequence) { return logits(sequence)[model]; }

    /**
     * Every model's logits row of {@code sequence}, in model order, null for models it does not use (reused between
     * steps). With device rows, downloaded now.
     */
    @Override
    public float[][] logits(int sequence) {
        float[][] r = rows.get(sequence);
        if (device != null && r != null) {
            for (int m = 0; m < models.size(); m++) {
                if (r[m] == null) continue;
                device.download(m, sequence, r[m]);
                requireFinite(models.get(m), r[m]);
            }
        }
        return r;
    }

    /**
     * Device rows only: RAST fusion (models in the order M, E₁, B₁, ..., one λ per pair; none: M's row as it is)
     * over the first {@code shared} ids and one token per sequence by {@code params}, drawn at {@code uniforms[i]},
     * all on the device. Every sequence must use every model. Returns the ids; {@code logprobs[i]} gets
     * log_softmax(fused row)[id], as {@code Sampler.Choice.logprob}.
     */
    public int[] choose(int[] sequences, float[] lambdas, int shared, SamplingParams params, double[] uniforms, double[] logprobs) {
        if (models.size() != 1 + 2 * lambdas.length)
            throw new IllegalArgumentException(models.size() + " models for " + lambdas.length + " expert pairs");
        return choose(sequences, java.util.stream.IntStream.range(0, lambdas.length).toArray(), lambdas, shared, params,
                uniforms, logprobs, null);
    }

    /**
     * As above with some of the set's pairs: {@code pairs[i]} (0-based; models 1 + 2·pair and 2 + 2·pair) at
     * {@code lambdas[i]}, over the first {@code shared} ids (the shortest vocabulary of M and those pairs); a server's
     * request that uses only some pairs. Every sequence must use M and those pairs' models. Where
     * {@code fusedRows[i]} is not null (fusedRows may be null), sequence i's fused row (M's width, −∞ past
     * {@code shared} when there are pairs; M's row as it is when none) is downloaded into it: what a request for
     * the most likely alternatives needs, and only then.
     */
    public int[] choose(int[] sequences, int[] pairs, float[] lambdas, int shared, SamplingParams params, double[] uniforms,
                        double[] logprobs, float[][] fusedRows) {
        if (device == null) throw new IllegalStateException("this set keeps its logits on the host");
        if (pairs.length != lambdas.length) throw new IllegalArgumentException(pairs.length + " pairs, " + lambdas.length + " lambdas");
        int[] used = new int[1 + 2 * pairs.length]; // model numbers in the order M, E₁, B₁, ...
        for (int i = 0; i < pairs.length; i++) {
            if (pairs[i] < 0 || 2 + 2 * pairs[i] >= models.size())
                throw new IllegalArgumentException("pair " + pairs[i] + " of " + (models.size() - 1) / 2);
            used[1 + 2 * i] = 1 + 2 * pairs[i];
            used[2 + 2 * i] = 2 + 2 * pairs[i];
        }
        for (int s : sequences) {
            KvCache[] c = live(s);
            for (int m : used)
                if (c[m] == null) throw new IllegalArgumentException("sequence " + s + " does not use model " + m);
        }
        int[] ids = device.choose(sequences, used, lambdas, shared, params, uniforms, logprobs, fusedRows);
        // A NaN or ±∞ in a row makes its log-sum-exp, so its log-probability, non-finite: then, as on the host path,
        // name the model (logits() downloads and checks its rows), or refuse the fused row.
        for (int i = 0; i < sequences.length; i++) {
            if (Double.isFinite(logprobs[i])) continue;
            logits(sequences[i]);
            throw new IllegalArgumentException("the fused logits of sequence " + sequences[i] + " are not finite (log-probability "
                    + logprobs[i] + " of id " + ids[i] + ")");
        }
        return ids;
    }

    /** The KV cache of {@code sequence} in {@code model} (e.g. to check its length); null if it does not use the model. */
    public KvCache cache(int model, int sequence) { return live(sequence)[model]; }

    /** Bytes of the KV blocks in use in the models' pools now (what the caches have grown to; a block forks share counted once). */
    public long cacheBytes() {
        long bytes = 0;
        for (CausalLM m : models) bytes += m.kvPool().usedBlocks() * m.kvPool().bytesPerBlock();
        return bytes;
    }

    @Override
    public void close() {
        for (KvCache[] perModel : caches.values())
            for (KvCache c : perModel) if (c != null) c.close();
        caches.clear();
        if (device != null) device.close();
    }

    /**
     * The logits rows of the live sequences on the device: per model an F32 {@code [slots, vocab]} tensor, a slot per
     * sequence (the same in every model), grown by doubling; and gather buffers where {@link #choose} lines up the
     * rows of one step's sequences for the fusion and sampling kernels. A model's step scatters its rows into their
     * slots in one launch, and a choice gathers the rows of every model it uses in one launch
     * ({@link DeviceLogits#gatherRows}).
     */
    private static final class DeviceRows {
        private final List<CausalLM> models;
        private final Backend backend;
        private final DeviceLogits logits;
        private final Tensor[] slots, gathered;
        private final Map<Integer, Integer> slotOf = new HashMap<>();
        private final ArrayDeque<Integer> freeSlots = new ArrayDeque<>();
        private int nextSlot;

        DeviceRows(List<CausalLM> models) {
            this.models = models;
            this.backend = models.getFirst().backend();
            this.logits = (DeviceLogits) backend;
            this.slots = new Tensor[models.size()];
            this.gathered = new Tensor[models.size()];
        }

        private int vocab(int m) { return models.get(m).config().vocabSize(); }

        void open(int sequence) {
            Integer s = freeSlots.poll();
            if (s == null) {
                s = nextSlot++;
                int have = slots[0] == null ? 0 : slots[0].dim(0);
                if (s >= have) grow(slots, Math.max(8, 2 * have), true);
            }
            slotOf.put(sequence, s);
        }

        void fork(int from, int to) {
            open(to);
            int a = slotOf.get(from), b = slotOf.get(to);
            for (int m = 0; m < models.size(); m++) backend.copyRows(slots[m].rows(a, 1), slots[m], b);
        }

        /** Row i of model {@code model}'s logits into the slot of {@code sequences.get(i)}, all in one launch. */
        void store(int model, Tensor logitRows, List<Integer> sequences) {
            int n = sequences.size();
            if (n == 0) return;
            int[] to = new int[n];
            for (int i = 0; i < n; i++) to[i] = slotOf.get(sequences.get(i));
            logits.gatherRows(List.of(logitRows.rows(0, n)), null, List.of(slots[model]), to);
        }

        void download(int model, int sequence, float[] into) {
            backend.download(slots[model].rows(slotOf.get(sequence), 1), MemorySegment.ofArray(into));
        }

        void release(int sequence) {
            Integer s = slotOf.remove(sequence);
            if (s != null) freeSlots.push(s);
        }

        /** Replaces each model's tensor in {@code ts} by one of {@code rows} rows, keeping the old rows when {@code keep}. */
        private void grow(Tensor[] ts, int rows, boolean keep) {
            for (int m = 0; m < models.size(); m++) {
                Tensor bigger = backend.allocate(DType.F32, rows, vocab(m));
                if (ts[m] != null) {
                    if (keep) backend.copyRows(ts[m], bigger, 0);
                    backend.free(ts[m]);
                }
                ts[m] = bigger;
            }
        }

        /** {@code used}: the model numbers in the order M, E₁, B₁, ... (see Lockstep.choose). */
        int[] choose(int[] sequences, int[] used, float[] lambdas, int shared, SamplingParams params, double[] uniforms,
                     double[] logprobs, float[][] fusedRows) {
            int n = sequences.length;
            if (n == 0) return new int[0];
            if (gathered[0] == null || gathered[0].dim(0) < n) grow(gathered, Math.max(8, Integer.highestOneBit(n - 1) << 1), false);
            int[] from = new int[n];
            for (int i = 0; i < n; i++) from[i] = slotOf.get(sequences[i]);
            List<Tensor> src = new ArrayList<>(), dst = new ArrayList<>();
            for (int m : used) {
                src.add(slots[m]);
                dst.add(gathered[m].rows(0, n));
            }
            logits.gatherRows(src, from, dst, null); // one launch for every model's rows
            Tensor fused = dst.getFirst();
            if (lambdas.length > 0) {
                List<Tensor> experts = new ArrayList<>(), bases = new ArrayList<>();
                for (int p = 0; p < lambdas.length; p++) {
                    experts.add(dst.get(1 + 2 * p));
                    bases.add(dst.get(2 + 2 * p));
                }
                logits.fuse(fused, fused, experts, bases, lambdas, shared); // in place in M's rows, as fuseInPlace
            }
            int[] ids = logits.choose(fused, params, uniforms, logprobs);
            if (fusedRows != null)
                for (int i = 0; i < n; i++)
                    if (fusedRows[i] != null) backend.download(fused.rows(i, 1), MemorySegment.ofArray(fusedRows[i]));
            return ids;
        }

        void close() {
            for (Tensor[] ts : new Tensor[][] {slots, gathered})
                for (int m = 0; m < ts.length; m++) {
                    if (ts[m] != null) backend.free(ts[m]);
                    ts[m] = null;
                }
        }
    }
}
