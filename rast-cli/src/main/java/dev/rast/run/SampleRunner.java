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
 * n samples of one prompt with a {@link ModelSet}: every model prefills once, the n sequences decode as one batch,
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
        Tokenizer tok = models.tokenizer();
        RandomGenerator[] rng = new RandomGenerator[n];
        List<List<Double>> logprobs = new ArrayList<>();
        List<List<Integer>> chosen = new ArrayList<>();
        StreamingDecoder[] decoders = new StreamingDecoder[n];
        StopStrings[] stopMatchers = new StopStrings[n];
        StringBuilder[] text = new StringBuilder[n];
        Sample[] done = new Sample[n];
        for (int s = 0; s < n; s++) {
            rng[s] = SequenceRandom.of(seed, s);
            logprobs.add(new ArrayList<>());
            chosen.add(new ArrayList<>());
            if (tok != null) {
                decoders[s] = tok.streamingDecoder(true);
                stopMatchers[s] = new StopStrings(stops);
                text[s] = new StringBuilder();
            }
        }
        Set<Integer> eos = ignoreEos ? Set.of() : models.eosIds();
        Generator.TokenChooser chooser = (s, row) -> {
            Sampler.Choice c = sampler.get().sample(row, rng[s]);
            logprobs.get(s).add(c.logprob());
            return c.token();
        };
        Generator.TokenListener onChosen = (s, token) -> {
            if (onToken != null) onToken.run();
            chosen.get(s).add(token);
            boolean stopString = false;
            if (decoders[s] != null) {
                emit(s, stopMatchers[s].feed(decoders[s].push(token)), text, listener);
                stopString = stopMatchers[s].stopped();
            }
            boolean isEos = eos.contains(token);
            // The generator ends a sequence on exactly these three conditions; finish it here so the caller can save
            // it now rather than when the slowest sample of the prompt ends.
            if (stopString || isEos || chosen.get(s).size() == maxTokens) {
                if (decoders[s] != null && !stopString) {
                    emit(s, stopMatchers[s].feed(decoders[s].flush()), text, listener);
                    if (!stopMatchers[s].stopped()) emit(s, stopMatchers[s].flush(), text, listener);
                    stopString = stopMatchers[s].stopped();
                }
                String reason = stopString ? "stop" : isEos ? "eos" : "length";
                done[s] = new Sample(chosen.get(s).stream().mapToInt(Integer::intValue).toArray(),
                        logprobs.get(s).stream().mapToDouble(Double::doubleValue).toArray(),
                        text[s] == null ? null : text[s].toString(), reason);
                if (onFinish != null) onFinish.finished(s, done[s]);
            }
            return stopString;
        };
        new Generator(models.models(), models.fusion()).generate(prompt, n, maxTokens, eos, chooser, onChosen);
        return List.of(done);
    }

    private static void emit(int s, String chunk, StringBuilder[] text, TextListener listener) {
        if (chunk.isEmpty()) return;
        text[s].append(chunk);
        if (listener != null) listener.text(s, chunk);
    }

    public SamplingParams params() { return params; }
}
