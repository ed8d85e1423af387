package dev.rast.engine.model;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;

/**
 * Keys and values of one sequence for every layer, {@code [rows, kvHeads·headDim]} each, owned by the backend (on
 * the device for a GPU backend). {@link #length()} tokens are filled; at most {@link #capacity()} ever will be.
 *
 * <p>Stored as F32, or as BF16 (half the memory and half the bytes attention reads per position; the forward pass
 * computes keys and values in F32 and the backend rounds them to nearest even as it stores them). BF16 is what
 * Hugging Face and vLLM keep for a BF16 checkpoint; see {@link KvCacheDtype}.
 *
 * <p>Memory follows the tokens actually held, not the capacity: the tensors start with room for a few hundred tokens
 * and double (up to the capacity) when a reserve needs more, the filled rows copied over. Sampling at the paper's
 * settings asks for 32 samples of up to 16,384 tokens each, but most answers end after a few hundred: allocated up
 * front, Qwen2.5-0.5B's caches alone would take 32 × 403 MB = 12.9 GB (three models for RAST), where growing they
 * take what the samples use. Doubling keeps the copies at under one extra write per token.
 */
public final class KvCache implements AutoCloseable {
    /** Rows a cache starts with (or more, for the prompt it is created for). */
    static final int INITIAL_ROWS = 256;

    private final Backend backend;
    private final Tensor[] keys;
    private final Tensor[] values;
    private final int capacity;
    private final int kvDim;
    private final DType dtype;
    private int rows;
    private int length;

    /**
     * A cache storing {@code dtype} (F32 or BF16) that will hold at most {@code capacity} tokens, with room for
     * min(capacity, 256) allocated now.
     */
    public KvCache(Backend backend, int layers, int capacity, int kvDim, DType dtype) {
        this(backend, layers, capacity, kvDim, dtype, Math.min(capacity, INITIAL_ROWS));
    }

    private KvCache(Backend backend, int layers, int capacity, int kvDim, DType dtype, int rows) {
        if (capacity < 1) throw new IllegalArgumentException("KV cache capacity must be at least 1, is " + capacity);
        if (dtype != DType.F32 && dtype != DType.BF16) throw new IllegalArgumentException("KV cache dtype must be F32 or BF16, is " + dtype);
        this.backend = backend;
        this.dtype = dtype;
        this.capacity = capacity;
        this.kvDim = kvDim;
        this.rows = rows;
        keys = new Tensor[layers];
        values = new Tensor[layers];
        try {
            for (int l = 0; l < layers; l++) {
                keys[l] = backend.allocate(dtype, rows, kvDim);
                values[l] = backend.allocate(dtype, rows, kvDim);
            }
        } catch (RuntimeException e) { // out of memory part way: give back what was taken
            close();
            throw e;
        }
    }

    /** Layer {@code layer}'s keys: a tensor of at least {@link #length()} rows (replaced when the cache grows). */
    public Tensor keys(int layer) { return keys[layer]; }

    /** Layer {@code layer}'s values: a tensor of at least {@link #length()} rows (replaced when the cache grows). */
    public Tensor values(int layer) { return values[layer]; }

    public int capacity() { return capacity; }

    /** What the cache stores: F32 or BF16. */
    public DType dtype() { return dtype; }

    /** Rows allocated now (between {@link #length()} and {@link #capacity()}). */
    public int allocatedRows() { return rows; }

    public int length() { return length; }

    /** Bytes its tensors take now: keys and values of every layer, {@link #allocatedRows()} rows each. */
    public long allocatedBytes() { return 2L * keys.length * rows * kvDim * dtype.bytes(); }

    /** Checks that {@code n} more tokens fit, before any are written, and grows the tensors if they must. */
    public void reserve(int n) {
        if (length + n > capacity)
            throw new IllegalStateException("KV cache full: " + length + " + " + n + " tokens > capacity " + capacity);
        if (length + n > rows) grow((int) Math.min(capacity, Math.max(length + n, 2L * rows)));
    }

    /** Moves every layer into tensors of {@code newRows} rows, keeping the filled ones. */
    private void grow(int newRows) {
        for (int l = 0; l < keys.length; l++) {
            keys[l] = moved(keys[l], newRows);
            values[l] = moved(values[l], newRows);
        }
        rows = newRows;
    }

    private Tensor moved(Tensor old, int newRows) {
        Tensor t = backend.allocate(dtype, newRows, kvDim);
        if (length > 0) backend.copyRows(old.rows(0, length), t, 0);
        backend.free(old);
        return t;
    }

    /** Marks {@code n} more positions as filled (after the forward pass wrote them). */
    public void advance(int n) {
        reserve(n);
        length += n;
    }

    /**
     * A new cache of {@code capacity} tokens that starts where this one is: its {@link #length()} filled rows are
     * copied (with the backend's copyRows, so on a device they never leave it). This is how n samples share one
     * prompt prefill: prefill once, fork n times, then decode the forks as a batch.
     *
     * <p>Why copy rather than share a read-only prefix: every cache stays one contiguous {@code [rows, kvDim]}
     * tensor per layer, so attention stays one simple kernel on every backend, and forks are independent (any one
     * can be closed on its own). The copy is cheap next to decoding: Qwen2.5-0.5B keeps 24.6 KB per token (F32), so a
     * 128-token prompt forked 31 times is ~100 MB (measured: ~35 ms, against ~260 ms for one decode step of the
     * 32 sequences). Sharing pays off only when prompt × n outgrows memory; then a paged cache is the next step.
     */
    public KvCache fork(int capacity) {
        if (capacity < length)
            throw new IllegalArgumentException("fork capacity " + capacity + " < " + length + " filled positions");
        KvCache f = new KvCache(backend, keys.length, capacity, kvDim, dtype, Math.min(capacity, length + INITIAL_ROWS));
        try {
            for (int l = 0; l < keys.length && length > 0; l++) {
                backend.copyRows(keys[l].rows(0, length), f.keys[l], 0);
                backend.copyRows(values[l].rows(0, length), f.values[l], 0);
            }
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
        f.length = length;
        return f;
    }

    @Override
    public void close() {
        for (Tensor t : keys) if (t != null) backend.free(t);
        for (Tensor t : values) if (t != null) backend.free(t);
    }
}
