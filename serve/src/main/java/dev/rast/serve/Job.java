package dev.rast.serve;

import dev.rast.engine.model.KvBlocks;
import dev.rast.engine.sample.SamplingParams;
import dev.rast.fusion.RastFusion;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * One prompt of an accepted request as the scheduler runs it: the prompt's ids, its n samples and how each is chosen
 * and stopped, and the RAST fusion of the pairs it uses (null: the base alone). The scheduler reports progress as
 * {@link Event}s on {@link #events}, which the request's HTTP thread reads; the jobs of one request (several prompts)
 * share that queue, their samples numbered as the request's choices ({@link #firstChoice} on).
 */
final class Job {
    final int[] prompt;
    final int n, maxTokens;
    final SamplingParams params;
    final List<String> stops;
    final boolean ignoreEos;
    /** The fusion of the pairs this job uses, in {@link #pairs}' order; null: the base alone. */
    final RastFusion fusion;
    /** The model set's pair numbers (0-based) this job uses: λ ≠ 0. */
    final int[] pairs;
    /** How many of the most likely alternatives to report per token (OpenAI's top_logprobs), 0: none. */
    final int topLogprobs;
    /** The request's choice number of this job's sample 0. */
    final int firstChoice;
    final LinkedBlockingQueue<Event> events;
    /** Set when the client went away: its samples end at the next step. */
    volatile boolean cancelled;
    /** Samples not yet finished (the scheduler thread's count). */
    int unfinished;

    Job(int[] prompt, int n, int maxTokens, SamplingParams params, List<String> stops, boolean ignoreEos, RastFusion fusion,
        int[] pairs, int topLogprobs, int firstChoice, LinkedBlockingQueue<Event> events) {
        this.prompt = prompt;
        this.n = n;
        this.maxTokens = maxTokens;
        this.params = params;
        this.stops = List.copyOf(stops);
        this.ignoreEos = ignoreEos;
        this.fusion = fusion;
        this.pairs = pairs.clone();
        this.topLogprobs = topLogprobs;
        this.firstChoice = firstChoice;
        this.events = events;
        this.unfinished = n;
    }

    /** The models this job's sequences run in, as the generator's mask: bit 0 the base, bits 1+2i and 2+2i pair i's. */
    long models() {
        long mask = 1;
        for (int p : pairs) mask |= (1L << (1 + 2 * p)) | (1L << (2 + 2 * p));
        return mask;
    }

    /** KV blocks its samples may take at most in each model it uses: n sequences of prompt + max tokens ({@link KvBlocks}). */
    long kvBlocks() { return n * KvBlocks.perSequence((long) prompt.length + maxTokens); }

    /** What a job's samples produce, in order per choice. */
    sealed interface Event {}

    /**
     * Final text of choice {@code choice} (after stop-string hold-back), and the tokens it completes (with their
     * log-probabilities, for streamed logprobs; the tokens whose text is held back come with a later piece).
     */
    record Text(int choice, String chunk, int[] tokens, Logprobs.Token[] logprobs) implements Event {}

    /**
     * Choice {@code choice} ended: its ids, each one's log-probability (and alternatives), and why ("stop", "length"
     * or "abort").
     */
    record Finished(int choice, int[] tokens, Logprobs.Token[] logprobs, String reason) implements Event {}

    /** The generation failed; every choice not finished is lost. */
    record Failed(ApiError error) implements Event {}
}
