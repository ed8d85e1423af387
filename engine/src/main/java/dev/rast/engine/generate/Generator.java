package dev.rast.engine.generate;

import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.KvCache;
import dev.rast.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * The decode loop: prefill the prompt once, then one token per step until max tokens or an end-of-sequence id.
 * Greedy (argmax) for now; the sampling stage plugs in where {@link #argmax} is called.
 */
public final class Generator {
    private final CausalLM model;

    public Generator(CausalLM model) { this.model = model; }

    /** Returns the generated ids (without the prompt), calling {@code onToken} as each is chosen. */
    public int[] greedy(int[] prompt, int maxTokens, Set<Integer> stopIds, IntConsumer onToken) {
        if (prompt.length == 0) throw new IllegalArgumentException("prompt is empty");
        int vocab = model.config().vocabSize();
        float[] logits = new float[vocab];
        int[] out = new int[maxTokens];
        int n = 0;
        try (KvCache cache = model.newCache(prompt.length + maxTokens)) {
            Tensor l = model.forward(prompt, cache, 1);
            while (n < maxTokens) {
                model.backend().download(l, MemorySegment.ofArray(logits));
                int next = argmax(logits);
                out[n++] = next;
                if (onToken != null) onToken.accept(next);
                if (stopIds.contains(next) || n == maxTokens) break;
                l = model.forward(new int[] {next}, cache, 1);
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** Index of the largest value; the lowest index wins ties, as torch.argmax does. */
    public static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
