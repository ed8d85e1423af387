package dev.rast.text.tokenizer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-pair encoding of one pre-tokenized word (already in byte-level characters) into vocabulary ids.
 *
 * <p>Start from one symbol per character and repeatedly merge the adjacent pair with the lowest merge rank,
 * the leftmost one when ranks tie — the order Hugging Face's priority queue gives. Words repeat a lot in text, so
 * results of words under 256 characters are cached.
 */
final class Bpe {
    private static final int CACHE_LIMIT = 200_000;
    /** Words at least this long are not cached (HF's limit). */
    private static final int CACHED_LENGTH = 256;

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
        if (word.length() < CACHED_LENGTH) { // as HF: long words are rare and would crowd the cache
            if (cache.size() >= CACHE_LIMIT) cache.clear();
            cache.put(word, ids);
        }
        return ids;
    }

    /**
     * The merges in order of (rank, position) through a heap of candidate pairs, as HF's merge_word does: each merge
     * costs a log, so a word of n characters takes O(n log n), not the O(n²) of rescanning every pair after each
     * merge (a 100,000-letter word, which the pre-tokenizer keeps whole, took tens of seconds that way). Symbols are
     * a linked list over the word's positions; a heap entry whose pair has since changed is skipped when it comes up.
     */
    private int[] compute(String word) {
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) return new int[] {whole};
        }
        int n = word.length();
        int[] sym = new int[n], next = new int[n], prev = new int[n];
        for (int i = 0; i < n; i++) {
            // Byte-level vocabularies hold all 256 byte characters (checked at load), so this always succeeds.
            sym[i] = vocab.get(String.valueOf(word.charAt(i)));
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        LongHeap heap = new LongHeap(n);
        for (int i = 0; i + 1 < n; i++) push(heap, sym, i, i + 1);
        int count = n;
        while (!heap.isEmpty()) {
            long top = heap.pop();
            int rank = (int) (top >>> 32), pos = (int) top, right = next[pos];
            if (sym[pos] < 0 || right < 0) continue; // pos was merged away, or is now last
            int e = merges.find(sym[pos], sym[right]);
            if (e < 0 || merges.rank(e) != rank) continue; // the pair at pos has changed since this entry
            sym[pos] = merges.merged(e);
            sym[right] = -1;
            next[pos] = next[right];
            if (next[pos] >= 0) prev[next[pos]] = pos;
            count--;
            if (prev[pos] >= 0) push(heap, sym, prev[pos], pos);
            if (next[pos] >= 0) push(heap, sym, pos, next[pos]);
        }
        int[] out = new int[count];
        for (int i = 0, k = 0; i >= 0 && k < count; i = next[i]) out[k++] = sym[i];
        return out;
    }

    /** Queues the pair (a, b) of adjacent symbols when it has a merge, keyed by (rank, a's position). */
    private void push(LongHeap heap, int[] sym, int a, int b) {
        int e = merges.find(sym[a], sym[b]);
        if (e >= 0) heap.push(((long) merges.rank(e) << 32) | a);
    }

    /** A binary min-heap of longs (no boxing: a long word pushes a few entries per character). */
    private static final class LongHeap {
        private long[] a;
        private int size;

        LongHeap(int capacity) { a = new long[Math.max(4, capacity)]; }

        boolean isEmpty() { return size == 0; }

        void push(long x) {
            if (size == a.length) a = java.util.Arrays.copyOf(a, 2 * a.length);
            int i = size++;
            while (i > 0 && a[(i - 1) >>> 1] > x) {
                a[i] = a[(i - 1) >>> 1];
                i = (i - 1) >>> 1;
            }
            a[i] = x;
        }

        long pop() {
            long top = a[0], x = a[--size];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= size) break;
                if (c + 1 < size && a[c + 1] < a[c]) c++;
                if (a[c] >= x) break;
                a[i] = a[c];
                i = c;
            }
            a[i] = x;
            return top;
        }
    }
}
