package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.engine.sample.SamplingParams;
import dev.rast.run.SampleRunner;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The sampling stage and stop conditions, shared by generate and eval. The numeric options are boxed: each command
 * fills in its own defaults ({@link #withDefaults}), since eval's are the paper's (n 32, T 1.0, top-p 0.95, 16,384
 * tokens) and generate's are a quick single sample.
 */
final class SamplingOptions {
    record Defaults(int n, double temperature, double topP, int maxTokens) {}

    static final Defaults GENERATE = new Defaults(1, 1.0, 1.0, 128);
    static final Defaults EVAL = new Defaults(32, 1.0, 0.95, 16384);

    @Option(names = "--n", paramLabel = "N", description = "Samples per prompt, decoded together as one batch (default: generate 1, eval 32; at most 65536).")
    Integer n;

    @Option(names = "--temperature", paramLabel = "T", split = ",", description = "0 = greedy (default: 1.0); rast eval takes a list (0.6,1.0) to sweep it.")
    List<Double> temperatures;

    /** The temperature of a command that does not sweep (set by {@link #withDefaults}). */
    Double temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "Keep the K most likely tokens; 0 = off (default).")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", description = "Nucleus sampling mass; 1 = off (default: generate 1.0, eval 0.95).")
    Double topP;

    @Option(names = "--min-p", paramLabel = "P", defaultValue = "0", description = "Drop tokens below P × the top probability; 0 = off (default).")
    double minP;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Random seed; same seed, same samples (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--max-tokens", paramLabel = "N", description = "Most tokens per sample (default: generate 128, eval 16384).")
    Integer maxTokens;

    @Option(names = "--stop", paramLabel = "STR", description = "Stop when the text contains STR (repeatable; STR is not output).")
    List<String> stop = new ArrayList<>();

    @Option(names = "--ignore-eos", description = "Do not stop at end-of-sequence ids.")
    boolean ignoreEos;

    /** Fills the options the user left out with the command's defaults; call once, before reading the fields. */
    SamplingOptions withDefaults(Defaults d) {
        if (n == null) n = d.n();
        if (temperatures == null || temperatures.isEmpty()) temperatures = List.of(d.temperature());
        temperature = temperatures.getFirst();
        if (topP == null) topP = d.topP();
        if (maxTokens == null) maxTokens = d.maxTokens();
        return this;
    }

    SamplingParams params() {
        if (temperatures.size() > 1)
            throw new BadInputException("--temperature " + temperatures.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(","))
                    + ": several values sweep the temperature, which only rast eval does; give one value");
        return params(temperature);
    }

    /** The sampling stage at temperature {@code t} (one point of a sweep). */
    SamplingParams params(double t) {
        if (n < 1) throw new BadInputException("--n must be at least 1, is " + n);
        if (n > SampleRunner.MAX_SAMPLES_PER_PROMPT)
            throw new BadInputException("--n " + n + " is more than " + SampleRunner.MAX_SAMPLES_PER_PROMPT + ", the most samples per prompt rast makes");
        if (maxTokens < 1) throw new BadInputException("--max-tokens must be at least 1, is " + maxTokens);
        return new SamplingParams(t, topK, topP, minP, seed);
    }
}
