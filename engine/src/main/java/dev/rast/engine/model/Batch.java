package dev.rast.engine.model;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.backend.PagedKv;
import dev.rast.engine.tensor.Tensor;
import java.util.Arrays;
import java.util.IdentityHashMap;

/**
 * The work of one forward pass: a list of (sequence, new tokens) chunks. A prompt prefill is one chunk of many
 * tokens; a batched decode step is many chunks of one token each. All chunks' tokens are stacked into one
 * activation matrix, so every weight matrix is read once per pass for all of them; only attention (and the KV
 * cache writes) look at each chunk separately.
 *
 * <p>Row layout: chunk i occupies rows [{@link #rowStart}(i), rowStart(i) + chunkRows[i]) of every activation, and
 * its tokens sit at positions {@code cache.length()}... of its sequence. The logits a forward pass returns hold, for
 * each chunk in order, the rows of its last {@code logitRows} tokens.
 */
public final class Batch {
    /** New tokens for one sequence, and for how many of the last of them logits are wanted (0 to all). */
    public record Chunk(KvCache cache, int[] tokens, int logitRows) {
        public Chunk {
            if (tokens.length == 0) throw new IllegalArgumentException("a chunk needs at least one token");
            if (logitRows < 0 || logitRows > tokens.length)
                throw new IllegalArgumentException("logitRows " + logitRows + " for a chunk of " + tokens.length + " tokens");
        }
    }

    private final Chunk[] chunks;
    private final int[] tokens;
    private final int[] chunkRows;
    private final int[] rowStart;
    private final int[] startPos;
    private final int logitRows;
    private int[][] tables; // each chunk's block table, fixed by reserve()

    public Batch(Chunk... chunks) {
        if (chunks.length == 0) throw new IllegalArgumentException("empty batch");
        this.chunks = chunks.clone();
        int n = chunks.length, rows = 0, logits = 0;
        chunkRows = new int[n];
        rowStart = new int[n];
        startPos = new int[n];
        IdentityHashMap<KvCache, Boolean> seen = new IdentityHashMap<>();
        for (int i = 0; i < n; i++) {
            Chunk c = chunks[i];
            // Two chunks on one cache would both write at its current end: refuse rather than corrupt it.
            if (seen.put(c.cache(), Boolean.TRUE) != null) throw new IllegalArgumentException("chunk " + i + " repeats a KV cache");
            rowStart[i] = rows;
            chunkRows[i] = c.tokens().length;
            startPos[i] = c.cache().length();
            rows += chunkRows[i];
            logits += c.logitRows();
        }
        tokens = new int[rows];
        for (int i = 0; i < n; i++) System.arraycopy(chunks[i].tokens(), 0, tokens, rowStart[i], chunkRows[i]);
        logitRows = logits;
    }

    /** One sequence: a prompt (or a single decode step) with logits for its last {@code logitRows} tokens. */
    public static Batch of(KvCache cache, int[] tokens, int logitRows) {
        return new Batch(new Chunk(cache, tokens, logitRows));
    }

    /** One decode step of several sequences: token {@code tokens[i]} appended to {@code caches[i]}, logits for each. */
    public static Batch decode(int[] tokens, KvCache[] caches) {
        if (tokens.length != caches.length)
            throw new IllegalArgumentException(tokens.length + " tokens for " + caches.length + " caches");
        Chunk[] c = new Chunk[tokens.length];
        for (int i = 0; i < c.length; i++) c[i] = new Chunk(caches[i], new int[] {tokens[i]}, 1);
        return new Batch(c);
    }

    /** Number of chunks (sequences). */
    public int size() { return chunks.length; }

    public Chunk chunk(int i) { return chunks[i]; }

    /** Activation rows: all chunks' tokens. */
    public int rows() { return tokens.length; }

    /** The token of every row. */
    public int[] tokens() { return tokens.clone(); }

    /** Rows of each chunk, in order (the layout the backend's batched rope and attention take). */
    public int[] chunkRows() { return chunkRows.clone(); }

    /** Position of each chunk's first token in its sequence. */
    public int[] startPositions() { return startPos.clone(); }

    public int rowStart(int chunk) { return rowStart[chunk]; }

    /** Rows of logits the pass returns. */
    public int logitRows() { return logitRows; }

    /** One past the largest position any token of the batch takes (for sizing RoPE tables). */
    public int positionsNeeded() {
        int max = 0;
        for (int i = 0; i < chunks.length; i++) max = Math.max(max, startPos[i] + chunkRows[i]);
        return max;
    }

    /**
     * Checks that every chunk fits its cache and takes the blocks the new tokens need, before anything is written;
     * fixes the block tables the layers then read.
     */
    public void reserve() {
        KvPool pool = chunks[0].cache().pool();
        for (int i = 0; i < chunks.length; i++) {
            if (chunks[i].cache().pool() != pool)
                throw new IllegalArgumentException("chunk " + i + "'s KV cache is in another pool than chunk 0's (another model's?)");
            if (chunks[i].cache().length() != startPos[i])
                throw new IllegalStateException("KV cache of chunk " + i + " changed since the batch was built");
            chunks[i].cache().reserve(chunkRows[i]);
        }
        tables = new int[chunks.length][];
        for (int i = 0; i < chunks.length; i++) tables[i] = chunks[i].cache().blockTable();
    }

    /** Layer {@code layer} of the chunks' caches: the pool's tensors and each chunk's block table, in chunk order. */
    public PagedKv cache(int layer) {
        if (tables == null) throw new IllegalStateException("reserve() the batch before reading its caches");
        return chunks[0].cache().pool().layer(layer, tables);
    }

    /** Appends each chunk's rows of {@code k} and {@code v} to its own cache of {@code layer}, at its positions. */
    public void storeKeysValues(Backend backend, int layer, Tensor k, Tensor v) {
        backend.storeKeysValues(k, v, cache(layer), chunkRows, startPos);
    }

    /** Marks the new tokens as filled in every cache (after all layers wrote them). */
    public void advance() {
        for (int i = 0; i < chunks.length; i++) chunks[i].cache().advance(chunkRows[i]);
    }

    /**
     * The rows of {@code x} whose logits are wanted, as one {@code [logitRows, width]} tensor: a view when they are
     * contiguous (one sequence, or a decode step), else gathered into {@code scratch}.
     */
    public Tensor logitInputs(Backend backend, Tensor x, Tensor scratch) {
        int first = -1, end = -1;
        boolean contiguous = true;
        for (int i = 0; i < chunks.length; i++) {
            int n = chunks[i].logitRows();
            if (n == 0) continue;
            int from = rowStart[i] + chunkRows[i] - n;
            if (first < 0) first = from;
            else if (from != end) contiguous = false;
            end = from + n;
        }
        if (first < 0) return x.rows(0, 0);
        if (contiguous) return x.rows(first, logitRows);
        int dst = 0;
        for (int i = 0; i < chunks.length; i++) {
            int n = chunks[i].logitRows();
            if (n == 0) continue;
            backend.copyRows(x.rows(rowStart[i] + chunkRows[i] - n, n), scratch, dst);
            dst += n;
        }
        return scratch;
    }

    @Override
    public String toString() { return "Batch" + Arrays.toString(chunkRows) + " at " + Arrays.toString(startPos); }
}
