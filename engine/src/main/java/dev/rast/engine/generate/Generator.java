package dev.rast.engine.generate;

import dev.rast.engine.model.KvPool;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import java.util.function.IntConsumer;

/**
 * The decode loop: every model of a {@link Sequences} set prefills a prompt once, its n samples fork from it, and each step decodes all
 * unfinished sequences together until max tokens, an end-of-sequence id, or the listener ends them; finished ones
 * leave the batch and, with several prompts, the next samples take their places (continuous batching). Per sequence and step: the models' logits rows → {@link Fusion} → {@link TokenChooser}.
 * With one model and no fusion this is plain generation; greedy argmax is the default chooser.
 */
public final class Generator {
    /**
     * Picks sequence {@code sequence}'s next token from its logits row (a host F32 row it may modify in place).
     * Called from several threads at once for different sequences: keep per-thread scratch (e.g. a ThreadLocal).
     */
    @FunctionalInterface
    public interface TokenChooser {
        int choose(int sequence, float[] logits);
    }

    /**
     * Called concurrently for different sequences. Combines the models' rows of one sequence ({@code rows[m]}: model m's logits, in the order the models were
     * given) into the row the next token is chosen from. It may write into one of the rows and return it.
     */
    @FunctionalInterface
    public interface Fusion {
        float[] fuse(int sequence, float[][] rows);

        /** One model: its row as it is. */
        Fusion FIRST = (sequence, rows) -> rows[0];
    }

    /**
     * Chooses the next tokens of all live sequences at once, from logits the {@link Sequences} holds wherever it
     * holds them (e.g. on a GPU: fusion and sampling there, only the ids come back). {@code ids[i]} is the number of
     * the sample (as a {@link TokenChooser} sees it), {@code sequences[i]} its sequence in {@code models}. Replaces
     * both the {@link Fusion} and the {@link TokenChooser}. Called on the generate thread.
     */
    @FunctionalInterface
    public interface BatchChooser {
        int[] choose(Sequences models, int[] ids, int[] sequences);
    }

    /** Told each chosen token as it is chosen; returns true to end that sequence now (e.g. a stop string matched). */
    @FunctionalInterface
    public interface TokenListener {
        boolean accept(int sequence, int token);
    }

    /** Argmax, lowest index on ties (as torch.argmax). */
    public static final TokenChooser GREEDY = (sequence, logits) -> argmax(logits);

    /** From this many live sequences on, tokens are chosen in parallel (below, the fork/join costs more than it saves). */
    private static final int PARALLEL_CHOICE = 4;

    private final Supplier<? extends Sequences> sequences;
    private final Fusion fusion;

    /**
     * Each {@link #generate} call opens a fresh set of sequences from {@code sequences} (e.g. models in lockstep:
     * base, expert, expert's base) and combines their rows with {@code fusion} each step.
     */
    public Generator(Supplier<? extends Sequences> sequences, Fusion fusion) {
        this.sequences = sequences;
        this.fusion = fusion;
    }

    /**
     * One prompt, how many samples of it to generate, at most how many tokens each ({@code maxTokens} 0: the
     * generate call's), and which models its sequences run in ({@code models}: bit m for model m of the
     * {@link Sequences}; {@link Sequences#ALL_MODELS} for all). A model outside the mask never runs for it, and its
     * rows reach the fusion as null.
     */
    public record Request(int[] prompt, int samples, int maxTokens, long models) {
        public Request {
            if (prompt.length == 0) throw new IllegalArgumentException("prompt is empty");
            if (samples < 1) throw new IllegalArgumentException("samples must be at least 1, is " + samples);
            if (maxTokens < 0) throw new IllegalArgumentException("maxTokens must be >= 0, is " + maxTokens);
            if (models == 0) throw new IllegalArgumentException("a request must use at least one model");
        }

        public Request(int[] prompt, int samples, int maxTokens) { this(prompt, samples, maxTokens, Sequences.ALL_MODELS); }

        public Request(int[] prompt, int samples) { this(prompt, samples, 0); }
    }

    /**
     * Where requests come from while a batch runs (e.g. a server's queue): asked for the next request whenever the
     * batch has a free place, between steps, on the thread that called generate.
     */
    @FunctionalInterface
    public interface Admission {
        /** The next request, or null when none is waiting now (generate returns once nothing is live and none waits). */
        Request next();
    }

    /**
     * Generates {@code n} continuations of {@code prompt}, at most {@code maxTokens} each, all decoding together.
     * Returns, per sequence, the chosen ids (without the prompt; an end-of-sequence id that stopped it is included).
     * {@code listener} may be null.
     */
    public int[][] generate(int[] prompt, int n, int maxTokens, Set<Integer> stopIds, TokenChooser chooser,
                            TokenListener listener) {
        List<List<Integer>> tokens = new ArrayList<>();
        for (int s = 0; s < n; s++) tokens.add(new ArrayList<>());
        generate(List.of(new Request(prompt, n)), n, maxTokens, stopIds, chooser, (s, token) -> {
            tokens.get(s).add(token);
            return listener != null && listener.accept(s, token);
        });
        int[][] out = new int[n][];
        for (int s = 0; s < n; s++) out[s] = tokens.get(s).stream().mapToInt(Integer::intValue).toArray();
        return out;
    }

    /**
     * Samples of several prompts with continuous batching: at most {@code maxBatch} sequences decode together, and
     * as soon as some finish, the next samples take their places, so the batch stays full while the long samples
     * of a prompt run on. A prompt is prefilled once, when its first sample is admitted; its other samples fork
     * from that. Sequence numbers (for the chooser, the fusion and the listener) count the samples of all requests
     * in order: request 0's samples first. Samples are admitted in that order too. The chosen ids reach the caller
     * only through {@code listener} (an end-of-sequence id that stops a sample included): nothing is kept here, as a
     * long evaluation makes tens of thousands of samples.
     */
    public void generate(List<Request> requests, int maxBatch, int maxTokens, Set<Integer> stopIds,
                         TokenChooser chooser, TokenListener listener) {
        generate(requests, maxBatch, maxTokens, stopIds, perSequence(chooser), listener);
    }

    /** As above, all live sequences' tokens chosen by one {@link BatchChooser} call per step. */
    public void generate(List<Request> requests, int maxBatch, int maxTokens, Set<Integer> stopIds,
                         BatchChooser chooser, TokenListener listener) {
        if (maxTokens < 0) throw new IllegalArgumentException("maxTokens must be >= 0, is " + maxTokens);
        if (maxBatch < 1) throw new IllegalArgumentException("maxBatch must be at least 1, is " + maxBatch);
        if (maxTokens == 0) return;
        var next = requests.iterator();
        generate(() -> next.hasNext() ? next.next() : null, maxBatch, maxTokens, 0, stopIds, chooser, listener);
    }

    /**
     * As above, with requests admitted as they come (continuous batching across requests): whenever the batch has a
     * free place, between steps, {@code admission} is asked for the next request, and its samples join the running
     * ones. Sequence numbers count the samples of the requests in the order they were admitted. Returns when no
     * sequence is live and {@code admission} has none. Each prompt is prefilled whole when it is admitted.
     */
    public void generate(Admission admission, int maxBatch, int maxTokens, Set<Integer> stopIds,
                         TokenChooser chooser, TokenListener listener) {
        generate(admission, maxBatch, maxTokens, 0, stopIds, chooser, listener);
    }

    /**
     * As above, with chunked prefill when {@code prefillChunk} > 0: an admitted prompt is prefilled at most
     * {@code prefillChunk} tokens a step (all prompts waiting share that budget, first admitted first), in the same
     * batched pass as the running sequences' decode step, so they keep streaming while a long prompt goes in. When
     * its last chunk is in, the request's samples fork from it and join. {@code prefillChunk} 0: each prompt whole,
     * in a pass of its own, as it is admitted.
     *
     * <p>The places of the batch ({@code maxBatch}) count the running sequences and the samples of admitted requests
     * that have not joined yet; a request is admitted only while a place is free.
     */
    public void generate(Admission admission, int maxBatch, int maxTokens, int prefillChunk, Set<Integer> stopIds,
                         TokenChooser chooser, TokenListener listener) {
        generate(admission, maxBatch, maxTokens, prefillChunk, stopIds, perSequence(chooser), listener);
    }

    /**
     * As above, all live sequences' tokens chosen by one {@link BatchChooser} call per step (this generator's
     * {@link Fusion} is not used).
     */
    public void generate(Admission admission, int maxBatch, int maxTokens, int prefillChunk, Set<Integer> stopIds,
                         BatchChooser chooser, TokenListener listener) {
        if (maxTokens < 0) throw new IllegalArgumentException("maxTokens must be >= 0, is " + maxTokens);
        if (maxBatch < 1) throw new IllegalArgumentException("maxBatch must be at least 1, is " + maxBatch);
        if (prefillChunk < 0) throw new IllegalArgumentException("prefillChunk must be >= 0, is " + prefillChunk);
        preemptions = 0;
        try (Sequences models = sequences.get()) {
            List<Live> active = new ArrayList<>();
            ArrayDeque<Admitted> admitted = new ArrayDeque<>(); // prefilling, or prefilled and waiting for places
            ArrayDeque<Live> preempted = new ArrayDeque<>();   // their blocks given back, to be recomputed
            Request waiting = null;                             // admitted by the caller, waiting for KV blocks
            int nextId = 0, notJoined = 0;
            while (true) {
                // Preempted samples come back first, oldest first, once their prompt and tokens so far fit again:
                // one prefill of all of them gives the logits the next decode step would have given.
                while (!preempted.isEmpty() && active.size() + notJoined < maxBatch) {
                    Live p = preempted.peek();
                    int[] history = p.history();
                    if (!models.fits(history.length, 1, p.request.models())) break;
                    preempted.poll();
                    p.sequence = models.start(history, p.capacity(), p.request.models());
                    active.add(p);
                }
                while (preempted.isEmpty() && active.size() + notJoined < maxBatch) {
                    Request r = waiting != null ? waiting : admission.next();
                    waiting = null;
                    if (r == null) break;
                    int limit = r.maxTokens() > 0 ? r.maxTokens() : maxTokens;
                    if (limit == 0) { // nothing to generate: its numbers are spent, no sequence is opened
                        nextId += r.samples();
                        continue;
                    }
                    if (!models.fits(r.prompt().length, r.samples(), r.models())) { // wait for blocks to free up
                        if (active.isEmpty() && admitted.isEmpty())
                            throw new IllegalStateException("KV cache memory too small: a prompt of " + r.prompt().length
                                    + " tokens with " + r.samples() + " samples does not fit the empty pools");
                        waiting = r;
                        break;
                    }
                    int capacity = (int) Math.min(Integer.MAX_VALUE, (long) r.prompt().length + limit);
                    Admitted a = new Admitted(r, nextId, limit);
                    if (prefillChunk == 0) {
                        a.sequence = models.start(r.prompt(), capacity, r.models());
                        a.filled = r.prompt().length;
                    } else a.sequence = models.open(capacity, r.models());
                    admitted.add(a);
                    nextId += r.samples();
                    notJoined += r.samples();
                }
                // Prefilled requests' samples take free places, first admitted first; the last sample of a prompt
                // takes its prefilled sequence, the others fork from it.
                while (!admitted.isEmpty() && admitted.peek().prefilled() && active.size() < maxBatch) {
                    Admitted a = admitted.peek();
                    boolean last = a.joined == a.request.samples() - 1;
                    active.add(new Live(last ? a.sequence : models.fork(a.sequence), a.firstId + a.joined, a.limit, a.request));
                    a.joined++;
                    notJoined--;
                    if (last) admitted.poll();
                }
                if (active.isEmpty() && admitted.isEmpty() && preempted.isEmpty() && waiting == null) break;
                active = chooseAndListen(active, models, stopIds, chooser, listener);
                // The pools must hold this step's new positions: if they cannot, the latest joined sample gives its
                // blocks back (preemption by recompute) until they can.
                while (!active.isEmpty() && !models.fits(decodeWork(active))) preempt(active, models, preempted);
                List<Sequences.Work> work = decodeWork(active);
                // Prompt chunks join the step only if their blocks fit next to the decode tokens'.
                List<Sequences.Work> chunks = new ArrayList<>();
                List<Admitted> chunked = new ArrayList<>();
                int budget = prefillChunk;
                for (Admitted a : admitted) {
                    if (budget == 0) break;
                    int len = a.request.prompt().length;
                    if (a.filled == len) continue;
                    int take = Math.min(budget, len - a.filled);
                    chunks.add(new Sequences.Work(a.sequence, Arrays.copyOfRange(a.request.prompt(), a.filled, a.filled + take), a.filled + take == len));
                    chunked.add(a);
                    budget -= take;
                }
                if (!chunks.isEmpty()) {
                    List<Sequences.Work> all = new ArrayList<>(work);
                    all.addAll(chunks);
                    if (models.fits(all)) {
                        work = all;
                        for (int i = 0; i < chunked.size(); i++) chunked.get(i).filled += chunks.get(i).tokens().length;
                    }
                }
                boolean ran = false;
                while (!work.isEmpty()) {
                    try {
                        models.step(work);
                        ran = true;
                        break;
                    } catch (KvPool.Full full) { // a pool could not grow as far as fits() assumed: preempt, retry
                        if (active.isEmpty()) throw full;
                        if (work.size() > active.size()) // the prompt chunks were in it: they wait
                            for (int i = 0; i < chunked.size(); i++) chunked.get(i).filled -= chunks.get(i).tokens().length;
                        preempt(active, models, preempted);
                        work = decodeWork(active);
                    }
                }
                if (!ran && (!admitted.isEmpty() || !preempted.isEmpty())) { // nothing could run: nothing will free a block
                    boolean prefilledWaiting = admitted.stream().anyMatch(Admitted::prefilled);
                    if (!prefilledWaiting && (preempted.isEmpty() || !models.fits(preempted.peek().history().length, 1, preempted.peek().request.models())))
                        throw new IllegalStateException("KV cache memory too small: the waiting prompts and samples do not fit the pools"
                                + " even with nothing else running");
                }
            }
        }
    }

    /** How many samples the last {@link #generate} call preempted (gave their KV blocks back, recomputed later). */
    public int preemptions() { return preemptions; }

    private int preemptions;

    /**
     * The latest joined sample gives its KV blocks back and goes to the front of the preempted queue: victims go in
     * the reverse of their joining order, so the queue stays in joining order and they resume oldest first.
     */
    private void preempt(List<Live> active, Sequences models, ArrayDeque<Live> preempted) {
        Live victim = active.removeLast();
        models.release(victim.sequence);
        preempted.addFirst(victim);
        preemptions++;
    }

    private static List<Sequences.Work> decodeWork(List<Live> active) {
        List<Sequences.Work> work = new ArrayList<>(active.size() + 1);
        for (Live s : active) work.add(new Sequences.Work(s.sequence, new int[] {s.last}, true));
        return work;
    }

    /**
     * Fusion and sampling of the live sequences by {@code chooser} (the host path: in parallel from a few on, each
     * sequence with its own logits rows and RNG, so the result does not depend on the order); listeners then run in
     * sequence order. Returns the sequences
     * that go on; the others are released.
     */
    private List<Live> chooseAndListen(List<Live> active, Sequences models, Set<Integer> stopIds, BatchChooser chooser,
                                       TokenListener listener) {
        int live = active.size();
        if (live == 0) return active;
        int[] ids = new int[live], sequences = new int[live];
        for (int i = 0; i < live; i++) {
            ids[i] = active.get(i).id;
            sequences[i] = active.get(i).sequence;
        }
        int[] chosen = chooser.choose(models, ids, sequences);
        if (chosen.length != live) throw new IllegalStateException(chosen.length + " tokens chosen for " + live + " sequences");
        List<Live> continuing = new ArrayList<>(live);
        for (int i = 0; i < live; i++) {
            Live s = active.get(i);
            int token = chosen[i];
            s.add(token);
            boolean stop = listener != null && listener.accept(s.id, token);
            if (stop || stopIds.contains(token) || s.count == s.limit) models.release(s.sequence);
            else continuing.add(s);
        }
        return continuing;
    }

    /** A request admitted: its prompt's sequence, how much of the prompt is in, how many of its samples have joined. */
    private static final class Admitted {
        final Request request;
        final int firstId, limit;
        int sequence, filled, joined;

        Admitted(Request request, int firstId, int limit) {
            this.request = request;
            this.firstId = firstId;
            this.limit = limit;
        }

        boolean prefilled() { return filled == request.prompt().length; }
    }

    /** The host path: per sequence, its rows → {@link Fusion} → {@code chooser}. */
    private BatchChooser perSequence(TokenChooser chooser) {
        return (models, ids, sequences) -> {
            int[] chosen = new int[ids.length];
            if (ids.length >= PARALLEL_CHOICE)
                IntStream.range(0, ids.length).parallel().forEach(i -> chosen[i] = choose(ids[i], sequences[i], models, chooser));
            else
                for (int i = 0; i < ids.length; i++) chosen[i] = choose(ids[i], sequences[i], models, chooser);
            return chosen;
        };
    }

    private int choose(int id, int sequence, Sequences models, TokenChooser chooser) {
        return chooser.choose(id, fusion.fuse(id, models.logits(sequence)));
    }

    /**
     * A sample being decoded: its number among all requests' samples, its sequence in the set (a new one after a
     * preemption), its token limit, its request, and its tokens so far (the last is the next step's input).
     */
    private static final class Live {
        final int id, limit;
        final Request request;
        int sequence, last, count;
        int[] tokens = new int[16];

        Live(int sequence, int id, int limit, Request request) {
            this.sequence = sequence;
            this.id = id;
            this.limit = limit;
            this.request = request;
        }

        void add(int token) {
            if (count == tokens.length) tokens = Arrays.copyOf(tokens, 2 * count);
            tokens[count++] = token;
            last = token;
        }

        /** The prompt and every token chosen so far: what a resumed sample prefills. */
        int[] history() {
            int[] p = request.prompt(), h = Arrays.copyOf(p, p.length + count);
            System.arraycopy(tokens, 0, h, p.length, count);
            return h;
        }

        int capacity() { return (int) Math.min(Integer.MAX_VALUE, (long) request.prompt().length + limit); }
    }

    /** One greedy continuation (n = 1); {@code onToken} (may be null) sees each id as it is chosen. */
    public int[] greedy(int[] prompt, int maxTokens, Set<Integer> stopIds, IntConsumer onToken) {
        TokenListener l = onToken == null ? null : (s, token) -> { onToken.accept(token); return false; };
        return generate(prompt, 1, maxTokens, stopIds, GREEDY, l)[0];
    }

    /** Index of the largest value; the lowest index wins ties, as torch.argmax does. */
    public static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
