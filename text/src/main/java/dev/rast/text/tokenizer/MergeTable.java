package dev.rast.text.tokenizer;

/**
 * BPE merges as an open-addressing hash table from a pair of token ids to (rank, merged id). A boxed
 * {@code HashMap<Long, ...>} would allocate on every lookup of the encode loop; this does not.
 */
final class MergeTable {
    private final long[] keys;
    private final int[] ranks;
    private final int[] merged;
    private final int mask;
    private int size;

    MergeTable(int expected) {
        int cap = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        keys = new long[cap];
        ranks = new int[cap];
        merged = new int[cap];
        java.util.Arrays.fill(keys, -1L);
        mask = cap - 1;
    }

    private static long key(int left, int right) { return ((long) left << 32) | (right & 0xFFFFFFFFL); }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        int i = (int) (h >>> 40) & mask;
        while (keys[i] != -1L && keys[i] != key) i = (i + 1) & mask;
        return i;
    }

    /**
     * Adds a merge. A pair listed twice takes its last entry's rank, as in HF (which collects the merges into a
     * hash map, so a later duplicate overwrites an earlier one).
     */
    void put(int left, int right, int rank, int mergedId) {
        long k = key(left, right);
        int i = slot(k);
        if (keys[i] == k) {
            ranks[i] = rank;
            merged[i] = mergedId;
            return;
        }
        keys[i] = k;
        ranks[i] = rank;
        merged[i] = mergedId;
        size++;
    }

    /** Index of the pair's entry, or -1. */
    int find(int left, int right) {
        int i = slot(key(left, right));
        return keys[i] == -1L ? -1 : i;
    }

    int rank(int entry) { return ranks[entry]; }

    int merged(int entry) { return merged[entry]; }

    int size() { return size; }
}
