package dev.rast.engine.tokenizer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-pair encoding of one pre-tokenized word (already in byte-level characters) into vocabulary ids.
 *
 * <p>Start from one symbol per character and repeatedly merge the adjacent pair with the lowest merge rank,
 * the leftmost one when ranks tie — the order Hugging Face's priority queue gives. Words repeat a lot in text, so
 * results are cached.
 */
final class Bpe {
    private static final int CACHE_LIMIT = 200_000;

    private final Map<String, Integer> vocab;
    private final MergeTable merges;
    private final boolean ignoreMerges;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param ignoreMerges when true (Llama 3), a word that is itself in the vocabulary becomes that one token
     *     without running the merges, which can differ from what the merges would build
     */
    Bpe(Map<String, Integer> vocab, MergeTable merges, boolean ignoreMerges) {
        this.vocab = vocab;
        this.merges = merges;
        this.ignoreMerges = ignoreMerges;
    }

    int[] encode(String word) {
        int[] hit = cache.get(word);
        if (hit != null) return hit;
        int[] ids = compute(word);
        if (cache.size() >= CACHE_LIMIT) cache.clear();
        cache.put(word, ids);
        return ids;
    }

    private int[] compute(String word) {
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) return new int[] {whole};
        }
        int n = word.length();
        int[] sym = new int[n];
        int count = 0;
        for (int i = 0; i < n; i++) {
            Integer id = vocab.get(String.valueOf(word.charAt(i)));
            // Byte-level vocabularies hold all 256 byte characters (checked at load), so this always succeeds.
            sym[count++] = id;
        }
        while (count > 1) {
            int bestRank = Integer.MAX_VALUE, bestPos = -1, bestId = -1;
            for (int i = 0; i + 1 < count; i++) {
                int e = merges.find(sym[i], sym[i + 1]);
                if (e >= 0 && merges.rank(e) < bestRank) {
                    bestRank = merges.rank(e);
                    bestPos = i;
                    bestId = merges.merged(e);
                }
            }
            if (bestPos < 0) break;
            sym[bestPos] = bestId;
            System.arraycopy(sym, bestPos + 2, sym, bestPos + 1, count - bestPos - 2);
            count--;
        }
        return java.util.Arrays.copyOf(sym, count);
    }
}
