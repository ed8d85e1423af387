package dev.rast.serve;

import dev.rast.engine.BadInputException;
import dev.rast.engine.generate.Generator;
import dev.rast.engine.generate.Sequences;
import dev.rast.engine.model.KvBlocks;
import dev.rast.engine.model.KvPool;
import dev.rast.engine.sample.Sampler;
import dev.rast.engine.sample.SamplingParams;
import dev.rast.engine.sample.SequenceRandom;
import dev.rast.engine.sample.StopStrings;
import dev.rast.run.Lockstep;
import dev.rast.run.ModelSet;
import dev.rast.text.tokenizer.StreamingDecoder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;
import java.util.random.RandomGenerator;

/**
 * Runs the samples of jobs as one continuous batch of the engine's {@link Generator}, jobs joining between steps as
 * places and KV-cache memory free up, their prompts prefilled in chunks of at most {@code prefillChunk} tokens a step
 * beside the running sequences' decode. Each sequence runs only in the models its job uses (the base, and the pairs
 * with λ ≠ 0), is fused with its own job's pairs and λ (or not at all), sampled with its job's settings and seed, and
 * stopped by its job's max tokens, stop strings and end-of-sequence rule. Sample s of a job draws from
 * {@code SequenceRandom.of(seed, s)}, as {@code rast generate} does, so a request gives the tokens
 * {@code rast generate} gives with the same seed.
 *
 * <p>On a backend that can fuse and sample where its tensors are ({@link Lockstep#deviceCapable}: CUDA), the rows stay
 * on the device as in {@code rast generate}: each step's live sequences are grouped by what their jobs ask (the pairs
 * and λ used, the sampling settings), each group fused and sampled in one {@link Lockstep#choose} call, and only the
 * ids and log-probabilities come back, with the fused rows of the sequences whose job wants the most likely
 * alternatives (top_logprobs). The draws are the host path's: one {@code nextDouble()} per token from the sample's
 * own generator, so the tokens are the host path's (see DeviceLogits for where F32 sums could differ).
 */
final class BatchRun {
    private final ModelSet models;
    private final BooleanSupplier abort;
    private final int prefillChunk;
    private final long kvBudget;
    private final long[] kvBytesPerToken;
    private final LongConsumer stepTime;
    private final boolean onDevice;
    private final AtomicLongArray modelTokens;
    /** Blocks every model's KV pool holds ({@link KvBlocks#cap} of the budget; 0: no budget), and those reserved. */
    private final long kvBlocks;
    private final AtomicLongArray reservedBlocks;
    private volatile long kvUsed;
    private volatile int running;

    /**
     * {@code abort}: true when running samples must end now (finish_reason "abort") and no job may join;
     * {@code kvBudget}: KV-cache bytes that admitted jobs may reserve (≤ 0: no limit); {@code stepTime}: told each
     * step's nanoseconds.
     */
    BatchRun(ModelSet models, BooleanSupplier abort, int prefillChunk, long kvBudget, boolean hostSampling, LongConsumer stepTime) {
        this.models = models;
        this.abort = abort;
        this.prefillChunk = prefillChunk;
        this.kvBudget = kvBudget;
        this.stepTime = stepTime;
        this.kvBytesPerToken = bytesPerToken(models);
        this.kvBlocks = kvBudget > 0 ? KvBlocks.cap(models.models(), kvBudget) : 0;
        this.reservedBlocks = new AtomicLongArray(models.models().size());
        this.modelTokens = new AtomicLongArray(models.models().size());
        this.onDevice = !hostSampling && Lockstep.deviceCapable(models.models());
    }

    /** Whether this server fuses and samples on the device (see the class comment). */
    boolean samplesOnDevice() { return onDevice; }

    /** Each model's KV-cache bytes per token, in the set's order. */
    static long[] bytesPerToken(ModelSet models) {
        return models.models().stream().mapToLong(m -> m.kvCacheBytesPerToken()).toArray();
    }

    /** Sequences decoding now (read by other threads for /metrics). */
    int running() { return running; }

    long kvUsed() { return kvUsed; }

    /** KV bytes the admitted jobs reserve: each model's reserved blocks at its bytes per block. */
    long kvReserved() {
        long bytes = 0;
        for (int m = 0; m < reservedBlocks.length(); m++) bytes += reservedBlocks.get(m) * KvPool.BLOCK_SIZE * kvBytesPerToken[m];
        return bytes;
    }

    long kvBudget() { return kvBudget; }

    long modelTokens(int model) { return modelTokens.get(model); }

    /** Whether {@code job} could ever be admitted: its KV blocks at full length fit the pools. */
    boolean everFits(Job job) { return kvBudget <= 0 || job.kvBlocks() <= kvBlocks; }

    /** Whether {@code job}'s blocks at full length fit what is not reserved, in every model it uses. */
    private boolean fitsNow(Job job) {
        if (kvBudget <= 0) return true;
        long mask = job.models();
        for (int m = 0; m < reservedBlocks.length(); m++)
            if ((mask & (1L << m)) != 0 && reservedBlocks.get(m) + job.kvBlocks() > kvBlocks) return false;
        return true;
    }

    /** Adds {@code blocks} to the reservation of every model of {@code job}. */
    private void reserve(Job job, long blocks) {
        long mask = job.models();
        for (int m = 0; m < reservedBlocks.length(); m++) if ((mask & (1L << m)) != 0) reservedBlocks.addAndGet(m, blocks);
    }

    /**
     * Decodes {@code first} and the jobs queued in {@code queue} (taken from its head, in order, when the batch has
     * a free place and the head job's KV caches fit what is not reserved; a head job that does not fit waits, and so
     * do those behind it), until nothing is live and none may join. {@code maxBatch}: most sequences decoding
     * together. If generation fails, every job admitted and not finished gets the error.
     */
    void run(Job first, Queue<Job> queue, int maxBatch) {
        // Sequence numbers count samples in admission order (see Generator): a job's slots are numbered as it is
        // admitted. Slots change only on this thread between steps; choosers read them during a step.
        Map<Integer, Slot> slots = new HashMap<>();
        Set<Job> live = new LinkedHashSet<>();
        Job[] waiting = {first};
        int[] nextId = {0};
        Generator.Admission admission = () -> {
            Job job = waiting[0];
            if (job == null) {
                if (abort.getAsBoolean()) return null;
                job = queue.peek();
                while (job != null && job.cancelled) { // its client went away while it waited: nothing to run
                    queue.poll();
                    job = queue.peek();
                }
                if (job == null) return null;
                if (!fitsNow(job)) return null; // waits for memory
                queue.poll();
            }
            waiting[0] = null;
            reserve(job, job.kvBlocks());
            for (int s = 0; s < job.n; s++) slots.put(nextId[0]++, new Slot(job, s));
            live.add(job);
            running = slots.size();
            return new Generator.Request(job.prompt, job.n, job.maxTokens, job.models());
        };
        Set<Integer> eos = models.eosIds();
        Generator.Fusion fusion = (g, rows) -> {
            Job job = slots.get(g).job;
            if (job.fusion == null) return rows[0];
            // The rows of the pairs it uses, as RastFusion takes them: M, E₁, B₁, E₂, B₂, ...
            float[][] used = new float[1 + 2 * job.pairs.length][];
            used[0] = rows[0];
            for (int i = 0; i < job.pairs.length; i++) {
                used[1 + 2 * i] = rows[1 + 2 * job.pairs[i]];
                used[2 + 2 * i] = rows[2 + 2 * job.pairs[i]];
            }
            return job.fusion.fuseInPlace(used);
        };
        Generator.TokenChooser chooser = (g, row) -> slots.get(g).choose(row);
        // End-of-sequence ids are a per-job rule (ignore_eos), so the generator is given none and the listener decides.
        Generator.TokenListener listener = (g, token) -> {
            Slot slot = slots.get(g);
            if (!slot.accept(token, eos, abort.getAsBoolean())) return false;
            slots.remove(g);
            reserve(slot.job, -slot.job.kvBlocks() / slot.job.n);
            running = slots.size();
            if (--slot.job.unfinished == 0) live.remove(slot.job);
            return true;
        };
        try {
            Generator generator = new Generator(() -> new Metered(new Lockstep(models.models(), modelTokens, onDevice)), fusion);
            if (onDevice) generator.generate(admission, maxBatch, 0, prefillChunk, Set.of(), deviceChooser(slots), listener);
            else generator.generate(admission, maxBatch, 0, prefillChunk, Set.of(), chooser, listener);
        } catch (RuntimeException | Error e) {
            if (waiting[0] != null) live.add(waiting[0]);
            ApiError error = e instanceof BadInputException ? ApiError.invalid(null, e.getMessage())
                    : new ApiError(500, "server_error", null, null, "generation failed: " + e);
            for (Job job : live) job.events.add(new Job.Failed(error));
            if (e instanceof Error err && !(e instanceof OutOfMemoryError)) throw err;
        } finally {
            running = 0;
            for (int m = 0; m < reservedBlocks.length(); m++) reservedBlocks.set(m, 0);
            kvUsed = 0;
        }
    }

    /** What sequences share a device choice: the same pairs and λ, the same sampling settings (seeds aside: the draws come from the host). */
    private record Group(List<Integer> pairs, List<Float> lambdas, SamplingParams params) {
        static Group of(Job job) {
            List<Float> l = new ArrayList<>();
            for (int i = 0; i < job.pairs.length; i++) l.add(job.fusion.lambda(i));
            SamplingParams p = job.params;
            return new Group(java.util.Arrays.stream(job.pairs).boxed().toList(), l,
                    new SamplingParams(p.temperature(), p.topK(), p.topP(), p.minP(), 0));
        }
    }

    /**
     * The device path's chooser: the live sequences grouped by {@link Group}, one {@link Lockstep#choose} per group,
     * each token's draw from its slot's generator (none when greedy, as the host Sampler), the fused rows downloaded
     * only for jobs that want alternatives.
     */
    private Generator.BatchChooser deviceChooser(Map<Integer, Slot> slots) {
        int mVocab = models.base().config().vocabSize();
        return (set, ids, sequences) -> {
            Lockstep lockstep = ((Metered) set).inner;
            Map<Group, List<Integer>> groups = new java.util.LinkedHashMap<>();
            for (int i = 0; i < ids.length; i++) groups.computeIfAbsent(Group.of(slots.get(ids[i]).job), g -> new ArrayList<>()).add(i);
            int[] chosen = new int[ids.length];
            for (var e : groups.entrySet()) {
                Group g = e.getKey();
                List<Integer> at = e.getValue();
                int n = at.size();
                int[] seqs = new int[n], pairs = g.pairs().stream().mapToInt(Integer::intValue).toArray();
                float[] lambdas = new float[pairs.length];
                for (int p = 0; p < pairs.length; p++) lambdas[p] = g.lambdas().get(p);
                double[] u = new double[n], lp = new double[n];
                float[][] rows = new float[n][];
                for (int j = 0; j < n; j++) {
                    Slot slot = slots.get(ids[at.get(j)]);
                    seqs[j] = sequences[at.get(j)];
                    if (!g.params().isGreedy()) u[j] = slot.rng.nextDouble();
                    if (slot.job.topLogprobs > 0) rows[j] = new float[mVocab];
                }
                int[] got = lockstep.choose(seqs, pairs, lambdas, models.sharedVocab(pairs), g.params(), u, lp, rows);
                for (int j = 0; j < n; j++) {
                    Slot slot = slots.get(ids[at.get(j)]);
                    chosen[at.get(j)] = got[j];
                    slot.logprobs.add(rows[j] == null ? new Logprobs.Token(got[j], lp[j], new int[0], new double[0])
                            : Logprobs.of(rows[j], got[j], lp[j], slot.job.topLogprobs));
                }
            }
            return chosen;
        };
    }

    /** The model set's sequences, each step timed and the caches' bytes taken after it. */
    private final class Metered implements Sequences {
        private final Lockstep inner;

        Metered(Lockstep inner) { this.inner = inner; }

        @Override public int open(int capacity, long mask) { return inner.open(capacity, mask); }

        @Override public int fork(int sequence) { return inner.fork(sequence); }

        @Override
        public void step(List<Work> work) {
            long t0 = System.nanoTime();
            inner.step(work);
            stepTime.accept(System.nanoTime() - t0);
            kvUsed = inner.cacheBytes();
        }

        @Override public float[][] logits(int sequence) { return inner.logits(sequence); }

        @Override
        public void release(int sequence) {
            inner.release(sequence);
            kvUsed = inner.cacheBytes();
        }

        @Override public void close() { inner.close(); }
    }

    /** One sample of a job while it decodes. */
    private final class Slot {
        final Job job;
        final int sample;
        final RandomGenerator rng;
        final List<Integer> tokens = new ArrayList<>();
        final List<Logprobs.Token> logprobs = new ArrayList<>();
        final StreamingDecoder decoder;
        final StopStrings stops;
        Sampler sampler;
        /** Tokens before this one went out with a piece of text. */
        int reported;

        Slot(Job job, int sample) {
            this.job = job;
            this.sample = sample;
            rng = SequenceRandom.of(job.params.seed(), sample);
            // Without a tokenizer (prompts of token ids) there is no text: tokens only, no stop strings.
            decoder = models.tokenizer() == null ? null : models.tokenizer().streamingDecoder(true);
            stops = new StopStrings(job.stops);
        }

        // A slot's chooser runs on one thread at a time (the generator chooses each sequence once per step).
        int choose(float[] row) {
            if (sampler == null) sampler = new Sampler(job.params);
            Sampler.Choice c = sampler.sample(row, rng);
            logprobs.add(Logprobs.of(row, c.token(), c.logprob(), job.topLogprobs));
            return c.token();
        }

        boolean accept(int token, Set<Integer> eos, boolean aborting) {
            tokens.add(token);
            boolean isEos = !job.ignoreEos && eos.contains(token);
            if (decoder != null) emit(stops.feed(decoder.push(token)));
            boolean stopped = stops.stopped();
            boolean length = tokens.size() >= job.maxTokens;
            boolean abort = job.cancelled || aborting;
            if (!(stopped || isEos || length || abort)) return false;
            if (!stopped && decoder != null) {
                emit(stops.feed(decoder.flush()));
                if (!stops.stopped()) emit(stops.flush());
            }
            String reason = stops.stopped() || isEos ? "stop" : length ? "length" : "abort";
            job.events.add(new Job.Finished(job.firstChoice + sample, tokens.stream().mapToInt(Integer::intValue).toArray(),
                    logprobs.toArray(Logprobs.Token[]::new), reason));
            return true;
        }

        private void emit(String chunk) {
            if (chunk.isEmpty()) return;
            int[] ids = tokens.subList(reported, tokens.size()).stream().mapToInt(Integer::intValue).toArray();
            Logprobs.Token[] lp = logprobs.subList(reported, tokens.size()).toArray(Logprobs.Token[]::new);
            reported = tokens.size();
            job.events.add(new Job.Text(job.firstChoice + sample, chunk, ids, lp));
        }
    }
}
