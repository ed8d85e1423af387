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

    @Override
    public void close() {
        for (Tensor t : keys) backend.free(t);
        for (Tensor t : values) backend.free(t);
    }
}
