package dev.rast.engine.model;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/** The cos/sin tables of {@link RopeTable} held by the backend, grown (doubling) as positions are needed. */
public final class RotaryEmbedding implements AutoCloseable {
    private final Backend backend;
    private final float[] inverseFrequencies;
    private Tensor cos, sin;
    private int positions;

    /** {@code inverseFrequencies}: one per pair of a head's dimensions ({@code head_dim / 2}). */
    public RotaryEmbedding(Backend backend, float[] inverseFrequencies) {
        this.backend = backend;
        this.inverseFrequencies = inverseFrequencies.clone();
    }

    /** Makes sure positions [0, n) are in the tables. */
    public void ensure(int n) {
        if (n <= positions) return;
        int p = Math.max(64, Integer.highestOneBit(Math.max(1, n - 1)) << 1);
        float[][] t = RopeTable.tables(inverseFrequencies, p);
        close();
        int half = inverseFrequencies.length;
        cos = backend.allocate(DType.F32, p, half);
        sin = backend.allocate(DType.F32, p, half);
        backend.upload(MemorySegment.ofArray(t[0]), cos);
        backend.upload(MemorySegment.ofArray(t[1]), sin);
        positions = p;
    }

    public Tensor cos() { return cos; }

    public Tensor sin() { return sin; }

    @Override
    public void close() {
        if (cos != null) { backend.free(cos); backend.free(sin); cos = sin = null; positions = 0; }
    }
}
