package dev.rast.engine.model;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;

/**
 * Keys and values of one sequence for every layer, {@code [capacity, kvHeads·headDim]} F32 each, owned by the
 * backend (on the device for a GPU backend). {@link #length()} tokens are filled.
 */
public final class KvCache implements AutoCloseable {
    private final Backend backend;
    private final Tensor[] keys;
    private final Tensor[] values;
    private final int capacity;
    private int length;

    public KvCache(Backend backend, int layers, int capacity, int kvDim) {
        this.backend = backend;
        this.capacity = capacity;
        keys = new Tensor[layers];
        values = new Tensor[layers];
        for (int l = 0; l < layers; l++) {
            keys[l] = backend.allocate(DType.F32, capacity, kvDim);
            values[l] = backend.allocate(DType.F32, capacity, kvDim);
        }
    }

    public Tensor keys(int layer) { return keys[layer]; }

    public Tensor values(int layer) { return values[layer]; }

    public int capacity() { return capacity; }

    public int length() { return length; }

    /** Checks that {@code n} more tokens fit, before any are written. */
    public void reserve(int n) {
        if (length + n > capacity)
            throw new IllegalStateException("KV cache full: " + length + " + " + n + " tokens > capacity " + capacity);
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
     * <p>Why copy rather than share a read-only prefix: every cache stays one contiguous {@code [capacity, kvDim]}
     * tensor per layer, so attention stays one simple kernel on every backend, and forks are independent (any one
     * can be closed on its own). The copy is cheap next to decoding: Qwen2.5-0.5B keeps 24.6 KB per token, so a
     * 128-token prompt forked 31 times is ~100 MB (measured: ~35 ms, against ~260 ms for one decode step of the
     * 32 sequences). Sharing pays off only when prompt × n outgrows memory; then a paged cache is the next step.
     */
    public KvCache fork(int capacity) {
        if (capacity < length)
            throw new IllegalArgumentException("fork capacity " + capacity + " < " + length + " filled positions");
        KvCache f = new KvCache(backend, keys.length, capacity, keys[0].dim(1));
        if (length > 0) {
            for (int l = 0; l < keys.length; l++) {
                backend.copyRows(keys[l].rows(0, length), f.keys[l], 0);
                backend.copyRows(values[l].rows(0, length), f.values[l], 0);
            }
        }
        f.length = length;
        return f;
    }

    @Override
    public void close() {
        for (Tensor t : keys) backend.free(t);
        for (Tensor t : values) backend.free(t);
    }
}
