package dev.rast.run;

import dev.rast.engine.generate.Generator;
import dev.rast.engine.sample.Sampler;
import dev.rast.engine.sample.SamplingParams;
import dev.rast.engine.sample.SequenceRandom;
import dev.rast.engine.sample.StopStrings;
import dev.rast.engine.tokenizer.StreamingDecoder;
import dev.rast.engine.tokenizer.Tokenizer;
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

    private final ModelSet models;
    private final SamplingParams params;
    private final int maxTokens;
    private final List<String> stops;
    private final boolean ignoreEos;
    /** Samplers keep scratch rows, so one per thread: the generator chooses tokens of several sequences at once. */
    private final ThreadLocal<Sampler> sampler;

    public SampleRunner(ModelSet models, SamplingParams params, int maxTokens, List<String> stops, boolean ignoreEos) {
        this.models = models;
        this.params = params;
        this.maxTokens = maxTokens;
        this.stops = List.copyOf(stops);
        this.ignoreEos = ignoreEos;
        this.sampler = ThreadLocal.withInitial(() -> new Sampler(params));
    }

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
        Sample[] done = new Sample[n];
        runAll(List.of(prompt), new int[][] {java.util.stream.IntStream.range(0, n).toArray()}, new long[] {seed}, n,
                listener, onToken, (p, s, sample) -> {
            done[s] = sample;
            if (onFinish != null) onFinish.finished(s, sample);
        });
        return List.of(done);
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
        int total = 0;
        for (int p = 0; p < prompts.size(); p++) {
            if (samples[p].length == 0) continue;
            requests.add(new Generator.Request(prompts.get(p), samples[p].length));
            total += samples[p].length;
        }
        int[] promptOf = new int[total], sampleOf = new int[total];
        RandomGenerator[] rng = new RandomGenerator[total];
        for (int p = 0, g = 0; p < prompts.size(); p++) {
            for (int s : samples[p]) {
                promptOf[g] = p;
                sampleOf[g] = s;
                rng[g++] = SequenceRandom.of(seeds[p], s);
            }
        }
        @SuppressWarnings("unchecked") List<Double>[] logprobs = new List[total];
        @SuppressWarnings("unchecked") List<Integer>[] chosen = new List[total];
        StreamingDecoder[] decoders = new StreamingDecoder[total];
        StopStrings[] stopMatchers = new StopStrings[total];
        StringBuilder[] text = new StringBuilder[total];
        for (int g = 0; g < total; g++) {
            logprobs[g] = new ArrayList<>();
            chosen[g] = new ArrayList<>();
            if (tok != null) {
                decoders[g] = tok.streamingDecoder(true);
                stopMatchers[g] = new StopStrings(stops);
                text[g] = new StringBuilder();
            }
        }
        Set<Integer> eos = ignoreEos ? Set.of() : models.eosIds();
        Generator.TokenChooser chooser = (g, row) -> {
            Sampler.Choice c = sampler.get().sample(row, rng[g]);
            logprobs[g].add(c.logprob());
            return c.token();
        };
        Generator.TokenListener onChosen = (g, token) -> {
            if (onToken != null) onToken.run();
            chosen[g].add(token);
            boolean stopString = false;
            if (decoders[g] != null) {
                emit(g, stopMatchers[g].feed(decoders[g].push(token)), text, listener);
                stopString = stopMatchers[g].stopped();
            }
            boolean isEos = eos.contains(token);
            // The generator ends a sequence on exactly these three conditions; finish it here so the caller can save
            // it now rather than when the slowest sample ends.
            if (stopString || isEos || chosen[g].size() == maxTokens) {
                if (decoders[g] != null && !stopString) {
                    emit(g, stopMatchers[g].feed(decoders[g].flush()), text, listener);
                    if (!stopMatchers[g].stopped()) emit(g, stopMatchers[g].flush(), text, listener);
                    stopString = stopMatchers[g].stopped();
                }
                String reason = stopString ? "stop" : isEos ? "eos" : "length";
                Sample done = new Sample(chosen[g].stream().mapToInt(Integer::intValue).toArray(),
                        logprobs[g].stream().mapToDouble(Double::doubleValue).toArray(),
                        text[g] == null ? null : text[g].toString(), reason);
                // Drop this sample's state: a long evaluation has tens of thousands of samples.
                chosen[g] = null;
                logprobs[g] = null;
                decoders[g] = null;
                stopMatchers[g] = null;
                text[g] = null;
                rng[g] = null;
                onFinish.finished(promptOf[g], sampleOf[g], done);
            }
            return stopString;
        };
        new Generator(models.models(), models.fusion()).generate(requests, maxBatch, maxTokens, eos, chooser, onChosen);
    }

    private static void emit(int s, String chunk, StringBuilder[] text, TextListener listener) {
        if (chunk.isEmpty()) return;
        text[s].append(chunk);
        if (listener != null) listener.text(s, chunk);
    }

    public SamplingParams params() { return params; }
}
