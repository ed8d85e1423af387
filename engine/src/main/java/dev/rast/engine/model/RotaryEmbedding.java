package dev.rast.engine.model;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.config.ModelConfig;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/** The cos/sin tables of {@link RopeTable} held by the backend, grown (doubling) as positions are needed. */
public final class RotaryEmbedding implements AutoCloseable {
    private final Backend backend;
    private final ModelConfig config;
    private Tensor cos, sin;
    private int positions;

    public RotaryEmbedding(Backend backend, ModelConfig config) {
        this.backend = backend;
        this.config = config;
    }

    /** Makes sure positions [0, n) are in the tables. */
    public void ensure(int n) {
        if (n <= positions) return;
        int p = Math.max(64, Integer.highestOneBit(Math.max(1, n - 1)) << 1);
        float[][] t = RopeTable.tables(config, p);
        close();
        int half = config.headDim() / 2;
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
