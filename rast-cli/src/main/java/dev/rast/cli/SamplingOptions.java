package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.engine.sample.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The sampling stage and stop conditions, shared by generate and eval. */
final class SamplingOptions {
    @Option(names = "--n", paramLabel = "N", defaultValue = "1", description = "Samples per prompt, decoded together as one batch (default: ${DEFAULT-VALUE}).")
    int n;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "1.0", description = "0 = greedy (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "Keep the K most likely tokens; 0 = off (default).")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1.0", description = "Nucleus sampling mass; 1 = off (default: ${DEFAULT-VALUE}).")
    double topP;

    @Option(names = "--min-p", paramLabel = "P", defaultValue = "0", description = "Drop tokens below P × the top probability; 0 = off (default).")
    double minP;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Random seed; same seed, same samples (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "128", description = "Most tokens per sample (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--stop", paramLabel = "STR", description = "Stop when the text contains STR (repeatable; STR is not output).")
    List<String> stop = new ArrayList<>();

    @Option(names = "--ignore-eos", description = "Do not stop at end-of-sequence ids.")
    boolean ignoreEos;

    SamplingParams params() {
        if (n < 1) throw new BadInputException("--n must be at least 1, is " + n);
        if (maxTokens < 1) throw new BadInputException("--max-tokens must be at least 1, is " + maxTokens);
        return new SamplingParams(temperature, topK, topP, minP, seed);
    }
}
