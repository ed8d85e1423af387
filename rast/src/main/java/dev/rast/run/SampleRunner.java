package dev.rast.run;

import dev.rast.engine.generate.Generator;
import dev.rast.engine.sample.Sampler;
import dev.rast.engine.sample.SamplingParams;
import dev.rast.engine.sample.SequenceRandom;
import dev.rast.engine.sample.StopStrings;
import dev.rast.text.tokenizer.StreamingDecoder;
import dev.rast.text.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * n samples of one prompt, or of many with continuous batching, with a {@link ModelSet}: every model prefills a
 * prompt once and its n sequences decode as a batch,
 * each step's rows are fused (RAST) and sampled (temperature → top-k → top-p → min-p → draw), and each sequence stops
 * at an end-of-sequence id, a stop string in its decoded text, or max tokens.
 *
 * <p>Seeds: sample s of a prompt draws from {@code SequenceRandom.of(seed, s)}, so a sample's tokens do not depend
 * on n, on which other samples run beside it, or on the thread count.
 */
public final class SampleRunner {
    /** Receives decoded text as it becomes final (after stop-string hold-back). */
    @FunctionalInterface
    public interface TextListener {
        void text(int sample, String chunk);
    }

    /**
     * The most samples of one prompt a run makes. pass@k studies go to a few thousand; more is a mistyped number
     * that would only fill the memory with bookkeeping before the first token.
     */
    public static final int MAX_SAMPLES_PER_PROMPT = 1 << 16;

    /** Heap per sample of a run for its bookkeeping: which prompt and sample it is, what it lacks, its state slot. */
    private static final int BOOKKEEPING_BYTES = 24;

    private final ModelSet models;
    private final SamplingParams params;
    private final int maxTokens;
    private final List<String> stops;
    private final boolean ignoreEos;
    /** Samplers keep scratch rows, so one per thread: the generator chooses tokens of several sequences at once. */
    private final ThreadLocal<Sampler> sampler;
    /**
     * Fusion and sampling on the device when the models' backend can ({@link Lockstep#deviceCapable}): the default;
     * {@code -Drast.sampling=host} (or {@link #hostSampling}) forces the host path (rows downloaded each step).
     */
    private boolean deviceSampling = !"host".equals(System.getProperty("rast.sampling", "device"));

    /**
     * Stop strings are matched in decoded text: without a tokenizer there is none, and they would be ignored without
     * a word, so they are refused (as is an empty one, which would end every sample before its first token).
     */
    public SampleRunner(ModelSet models, SamplingParams params, int maxTokens, List<String> stops, boolean ignoreEos) {
        new StopStrings(stops); // refuses an empty stop string
        if (!stops.isEmpty()) models.requireTokenizer("--stop (stop strings are matched in the decoded text)");
        this.models = models;
        this.params = params;
        this.maxTokens = maxTokens;
        this.stops = List.copyOf(stops);
        this.ignoreEos = ignoreEos;
        this.sampler = ThreadLocal.withInitial(() -> new Sampler(params));
    }

    /** {@code true}: fuse and sample on the host even where the backend could do it on the device. */
    public SampleRunner hostSampling(boolean host) {
        this.deviceSampling = !host;
        return this;
    }

    /** Whether a run fuses and samples on the device (the backend can, and the host path is not forced). */
    public boolean samplesOnDevice() { return deviceSampling && Lockstep.deviceCapable(models.models()); }

    /** Told each sample as soon as it is finished (samples of one prompt finish at different steps). */
    @FunctionalInterface
    public interface FinishListener {
        void finished(int sample, Sample result);
    }

    /**
     * Generates {@code n} samples of {@code prompt}. {@code listener} (may be null) sees final text as it is
     * produced; {@code onToken} (may be null) is told once per generated token, for progress.
     */
    public List<Sample> run(int[] prompt, int n, long seed, TextListener listener, Runnable onToken) {
        return run(prompt, n, seed, listener, onToken, null);
    }

    /** As above; {@code onFinish} (may be null) receives each sample the moment it ends. */
    public List<Sample> run(int[] prompt, int n, long seed, TextListener listener, Runnable onToken, FinishListener onFinish) {
        return run(prompt, n, n, seed, listener, onToken, onFinish);
    }

    /** As above, with at most {@code maxBatch} of the n samples decoding at once (the next start as others end). */
    public List<Sample> run(int[] prompt, int n, int maxBatch, long seed, TextListener listener, Runnable onToken, FinishListener onFinish) {
        Sample[] done = new Sample[n];
        runAll(List.of(prompt), new int[][] {java.util.stream.IntStream.range(0, n).toArray()}, new long[] {seed}, maxBatch,
                listener, onToken, (p, s, sample) -> {
            done[s] = sample;
            if (onFinish != null) onFinish.finished(s, sample);
        });
        return List.of(done);
    }

    /**
     * A warning when the KV caches of {@code sequences} sequences of up to {@code tokens} tokens each (every model of
     * the set, each with its cache dtype) would not fit in the memory the backend has free now, else null. Caches
     * grow with the tokens, so a run only fails if its samples run long: the warning says when that would happen and
     * which --batch fits, before the run rather than at its out-of-memory stop.
     */
    static String kvMemoryWarning(ModelSet models, int sequences, long tokens) {
        long perToken = 0;
        List<String> kinds = new ArrayList<>();
        for (var m : models.models()) {
            perToken += m.kvCacheBytesPerToken();
            kinds.add(m.kvCacheDtype().name().toLowerCase(java.util.Locale.ROOT));
        }
        return kvMemoryWarning(perToken, String.join(", ", kinds), sequences, tokens, models.base().backend().freeMemoryBytes());
    }

    /** The figures behind {@link #kvMemoryWarning(ModelSet, int, long)}; {@code free} &lt; 0: unknown, no warning. */
    static String kvMemoryWarning(long bytesPerToken, String dtypes, int sequences, long tokens, long free) {
        long need = bytesPerToken * tokens * sequences;
        long usable = free - KV_RESERVE_BYTES;
        if (free < 0 || need <= usable) return null;
        long perSequence = bytesPerToken * tokens;
        long fits = Math.max(0, usable / perSequence);
        return String.format(java.util.Locale.ROOT,
                "warning: KV caches (%s) take %.1f KB per token: %d sequence%s of up to %,d tokens would need %.1f GB, "
                        + "%.1f GB is free; %s",
                dtypes, bytesPerToken / 1e3, sequences, sequences == 1 ? "" : "s", tokens, need / 1e9, free / 1e9,
                fits >= 1 ? "if samples run that long the run stops out of memory (" + fits + " sequences at once would fit: --batch "
                        + fits + ", or a lower --n for one prompt" + (dtypes.contains("f32") ? "; or --kv-cache-dtype bf16" : "") + ")"
                        : "even one sequence may not fit (lower --max-tokens" + (dtypes.contains("f32") ? " or use --kv-cache-dtype bf16" : "") + ")");
    }

    /** Left aside from the free memory for activations and everything else. */
    public static final long KV_RESERVE_BYTES = 512L << 20;

    /**
     * Refuses a run of {@code prompts} prompts × {@code n} samples whose bookkeeping alone would not fit in the Java
     * heap (before any of it is made); {@code what} names the prompts ("4000 problems").
     */
    public static void checkPlan(long prompts, int n, String what) {
        double samples = (double) prompts * n;
        if (samples > Integer.MAX_VALUE)
            throw new dev.rast.engine.BadInputException(String.format(java.util.Locale.ROOT,
                    "%s × --n %d = %.0f samples, more than one run makes (%d): lower --n, or split the input", what, n, samples, Integer.MAX_VALUE));
        dev.rast.engine.JavaHeap.require(samples * BOOKKEEPING_BYTES, String.format(java.util.Locale.ROOT,
                "the bookkeeping of %s × --n %d samples", what, n), "lower --n, or split the input");
    }

    /**
     * Refuses a batch whose logits rows would not fit in the Java heap: each live sequence keeps one host row per
     * model, its whole vocabulary in F32 (600 KB a model for Qwen2.5's), so --n 5000 of one prompt needs GBs.
     */
    static void checkLiveRows(ModelSet models, long live) {
        long rowBytes = 0;
        for (var m : models.models()) rowBytes += 4L * m.config().vocabSize();
        dev.rast.engine.JavaHeap.require((double) live * rowBytes, live + " sequences decoding at once (their logits rows, "
                + dev.rast.engine.JavaHeap.size(rowBytes) + " each)", "lower --batch (or --n)");
    }

    /** Told each sample of a prompt the moment it ends. */
    @FunctionalInterface
    public interface PromptFinishListener {
        void finished(int prompt, int sample, Sample result);
    }

    /**
     * Samples {@code samples[p]} (sample numbers, e.g. all of 0..n−1, or the ones a resumed run still lacks) of every
     * prompt p, with continuous batching (at most {@code maxBatch} sequences decode together; see
     * {@link Generator}). Sample s of prompt p draws from {@code SequenceRandom.of(seeds[p], s)}, so it comes out as
     * when its prompt runs alone, whichever other samples are made. Each sample goes to {@code onFinish} as it ends
     * and is not kept here. {@code listener} (may be null) sees final text, numbered by the samples' position in
     * the order given (prompt by prompt).
     */
    public void runAll(List<int[]> prompts, int[][] samples, long[] seeds, int maxBatch, TextListener listener,
                       Runnable onToken, PromptFinishListener onFinish) {
        Tokenizer tok = models.tokenizer();
        List<Generator.Request> requests = new ArrayList<>();
        long totalSamples = 0;
        for (int p = 0; p < prompts.size(); p++) {
            if (samples[p].length == 0) continue;
            requests.add(new Generator.Request(prompts.get(p), samples[p].length));
            totalSamples += samples[p].length;
        }
        if (totalSamples > Integer.MAX_VALUE)
            throw new dev.rast.engine.BadInputException(totalSamples + " samples in one run, more than " + Integer.MAX_VALUE
                    + ": lower --n, or split the input");
        dev.rast.engine.JavaHeap.require((double) totalSamples * BOOKKEEPING_BYTES, totalSamples + " samples' bookkeeping",
                "lower --n, or split the input");
        int total = (int) totalSamples;
        checkLiveRows(models, Math.min(maxBatch, total));
        int longest = 0;
        for (int[] p : prompts) longest = Math.max(longest, p.length);
        String warning = kvMemoryWarning(models, Math.min(maxBatch, total), (long) longest + maxTokens);
        if (warning != null) System.err.println(warning);
        int[] promptOf = new int[total], sampleOf = new int[total];
        for (int p = 0, g = 0; p < prompts.size(); p++) {
            for (int s : samples[p]) {
                promptOf[g] = p;
                sampleOf[g++] = s;
            }
        }
        // A sample's state exists from its first token to its last: a long evaluation has tens of thousands of
        // samples, of which only a batch is live. The chooser of sample g runs before its listener, one thread at
        // a time, so it is the one that makes it.
        Pending[] pending = new Pending[total];
        Set<Integer> eos = ignoreEos ? Set.of() : models.eosIds();
        Generator.TokenChooser chooser = (g, row) -> {
            Pending s = pending[g];
            if (s == null) pending[g] = s = new Pending(SequenceRandom.of(seeds[promptOf[g]], sampleOf[g]), tok);
            Sampler.Choice c = sampler.get().sample(row, s.rng);
            s.logprobs.add(c.logprob());
            return c.token();
        };
        Generator.TokenListener onChosen = (g, token) -> {
            if (onToken != null) onToken.run();
            Pending s = pending[g];
            s.tokens.add(token);
            boolean stopString = false;
            if (s.decoder != null) {
                s.emit(g, s.stopMatcher.feed(s.decoder.push(token)), listener);
                stopString = s.stopMatcher.stopped();
            }
            boolean isEos = eos.contains(token);
            // The generator ends a sequence on exactly these three conditions; finish it here so the caller can save
            // it now rather than when the slowest sample ends.
            if (stopString || isEos || s.tokens.size() == maxTokens) {
                if (s.decoder != null && !stopString) {
                    s.emit(g, s.stopMatcher.feed(s.decoder.flush()), listener);
                    if (!s.stopMatcher.stopped()) s.emit(g, s.stopMatcher.flush(), listener);
                    stopString = s.stopMatcher.stopped();
                }
                String reason = stopString ? "stop" : isEos ? "eos" : "length";
                pending[g] = null;
                onFinish.finished(promptOf[g], sampleOf[g], new Sample(s.tokens.stream().mapToInt(Integer::intValue).toArray(),
                        s.logprobs.stream().mapToDouble(Double::doubleValue).toArray(),
                        s.text == null ? null : s.text.toString(), reason));
            }
            return stopString;
        };
        if (!samplesOnDevice()) {
            Lockstep.generator(models.models(), models.fusion()).generate(requests, maxBatch, maxTokens, eos, chooser, onChosen);
            return;
        }
        // The device path: the same generators, one draw per token as the host Sampler makes, passed to the
        // device's sampler with the fused rows; only the ids and log-probabilities come back.
        float[] lambdas = models.lambdas();
        int shared = models.sharedVocab();
        Generator.BatchChooser onDevice = (set, ids, sequences) -> {
            double[] u = new double[ids.length], lp = new double[ids.length];
            for (int i = 0; i < ids.length; i++) {
                int g = ids[i];
                Pending s = pending[g];
                if (s == null) pending[g] = s = new Pending(SequenceRandom.of(seeds[promptOf[g]], sampleOf[g]), tok);
                if (!params.isGreedy()) u[i] = s.rng.nextDouble();
            }
            int[] chosen = ((Lockstep) set).choose(sequences, lambdas, shared, params, u, lp);
            for (int i = 0; i < ids.length; i++) pending[ids[i]].logprobs.add(lp[i]);
            return chosen;
        };
        Lockstep.generator(models.models(), models.fusion(), null, true).generate(requests, maxBatch, maxTokens, eos, onDevice, onChosen);
    }

    /** What one sample gathers while it is generated: its draws, tokens, log-probabilities and decoded text. */
    private final class Pending {
        final RandomGenerator rng;
        final List<Integer> tokens = new ArrayList<>();
        final List<Double> logprobs = new ArrayList<>();
        final StreamingDecoder decoder;   // these three are null without a tokenizer
        final StopStrings stopMatcher;
        final StringBuilder text;

        Pending(RandomGenerator rng, Tokenizer tok) {
            this.rng = rng;
            decoder = tok == null ? null : tok.streamingDecoder(true);
            stopMatcher = tok == null ? null : new StopStrings(stops);
            text = tok == null ? null : new StringBuilder();
        }

        void emit(int g, String chunk, TextListener listener) {
            if (chunk.isEmpty()) return;
            text.append(chunk);
            if (listener != null) listener.text(g, chunk);
        }
    }

    public SamplingParams params() { return params; }
}
