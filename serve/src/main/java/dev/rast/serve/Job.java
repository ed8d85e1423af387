package dev.rast.serve;

import dev.rast.engine.sample.SamplingParams;
import dev.rast.fusion.RastFusion;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * One accepted request as the scheduler runs it: the prompt's ids, its n samples and how each is chosen and stopped,
 * and the RAST fusion of its pairs (null: the base alone). The scheduler reports progress as {@link Event}s on
 * {@link #events}, which the request's HTTP thread reads.
 */
final class Job {
    final int[] prompt;
    final int n, maxTokens;
    final SamplingParams params;
    final List<String> stops;
    final boolean ignoreEos;
    final RastFusion fusion;
    final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    /** Set when the client went away: its samples end at the next step. */
    volatile boolean cancelled;
    /** Samples not yet finished (the scheduler thread's count). */
    int unfinished;

    Job(int[] prompt, int n, int maxTokens, SamplingParams params, List<String> stops, boolean ignoreEos, RastFusion fusion) {
        this.prompt = prompt;
        this.n = n;
        this.maxTokens = maxTokens;
        this.params = params;
        this.stops = List.copyOf(stops);
        this.ignoreEos = ignoreEos;
        this.fusion = fusion;
        this.unfinished = n;
    }

    /** What a job's samples produce, in order per sample. */
    sealed interface Event {}

    /** Final text of sample {@code sample} (after stop-string hold-back). */
    record Text(int sample, String chunk) implements Event {}

    /**
     * Sample {@code sample} ended: its ids, the log-probability each was drawn with, and why ("stop", "length" or
     * "abort").
     */
    record Finished(int sample, int[] tokens, double[] logprobs, String reason) implements Event {}

    /** The generation failed; every sample not finished is lost. */
    record Failed(ApiError error) implements Event {}
}
