package dev.rast.engine.generate;

import dev.rast.engine.model.CausalLM;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.function.IntConsumer;

/**
 * The decode loop: every model prefills the prompt once, n sequences fork from it, and each step decodes all
 * unfinished sequences together (finished ones drop out of the batch) until max tokens, an end-of-sequence id, or
 * the listener ends them. Per sequence and step: the models' logits rows → {@link Fusion} → {@link TokenChooser}.
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

    /** Told each chosen token as it is chosen; returns true to end that sequence now (e.g. a stop string matched). */
    @FunctionalInterface
    public interface TokenListener {
        boolean accept(int sequence, int token);
    }

    /** Argmax, lowest index on ties (as torch.argmax). */
    public static final TokenChooser GREEDY = (sequence, logits) -> argmax(logits);

    /** From this many live sequences on, tokens are chosen in parallel (below, the fork/join costs more than it saves). */
    private static final int PARALLEL_CHOICE = 4;

    private final List<CausalLM> models;
    private final Fusion fusion;

    public Generator(CausalLM model) { this(List.of(model), Fusion.FIRST); }

    /** Models advancing in lockstep (e.g. base, expert, expert's base), combined by {@code fusion} each step. */
    public Generator(List<CausalLM> models, Fusion fusion) {
        if (models.isEmpty()) throw new IllegalArgumentException("no models");
        this.models = List.copyOf(models);
        this.fusion = fusion;
    }

    /**
     * Generates {@code n} continuations of {@code prompt}, at most {@code maxTokens} each. Returns, per sequence, the
     * chosen ids (without the prompt; an end-of-sequence id that stopped it is included). {@code listener} may be
     * null.
     */
    public int[][] generate(int[] prompt, int n, int maxTokens, Set<Integer> stopIds, TokenChooser chooser,
                            TokenListener listener) {
        if (prompt.length == 0) throw new IllegalArgumentException("prompt is empty");
        if (maxTokens < 0) throw new IllegalArgumentException("maxTokens must be >= 0, is " + maxTokens);
        int[][] out = new int[n][maxTokens];
        int[] count = new int[n];
        if (maxTokens == 0) return new int[n][0];
        try (Lockstep models = new Lockstep(this.models, n)) {
            models.prefill(prompt, prompt.length + maxTokens);
            int[] active = new int[n];
            for (int s = 0; s < n; s++) active[s] = s;
            int live = n;
            while (live > 0) {
                // Choose a token for every live sequence; those that finish leave the batch.
                int[] next = new int[live];
                int kept = 0;
                // Fusion and sampling of the live sequences run in parallel (each sequence has its own logits rows
                // and RNG, so the result does not depend on the order); listeners then run in sequence order.
                int[] chosen = new int[live];
                if (live >= PARALLEL_CHOICE)
                    IntStream.range(0, live).parallel().forEach(i -> chosen[i] = chooser.choose(active[i], fusion.fuse(active[i], models.logits(active[i]))));
                else
                    for (int i = 0; i < live; i++) chosen[i] = chooser.choose(active[i], fusion.fuse(active[i], models.logits(active[i])));
                for (int i = 0; i < live; i++) {
                    int s = active[i];
                    int token = chosen[i];
                    out[s][count[s]++] = token;
                    boolean stop = listener != null && listener.accept(s, token);
                    if (stop || stopIds.contains(token) || count[s] == maxTokens) continue;
                    active[kept] = s;
                    next[kept++] = token;
                }
                live = kept;
                if (live > 0) models.step(Arrays.copyOf(active, live), Arrays.copyOf(next, live));
            }
        }
        int[][] result = new int[n][];
        for (int s = 0; s < n; s++) result[s] = Arrays.copyOf(out[s], count[s]);
        return result;
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
