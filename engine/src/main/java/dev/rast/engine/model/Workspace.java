package dev.rast.engine.model;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import java.util.HashMap;
import java.util.Map;

/**
 * Named F32 activation buffers reused across forward calls. A buffer grows when a call needs more rows; every
 * intermediate has a name, so it can be found when debugging a forward pass.
 */
public final class Workspace implements AutoCloseable {
    private final Backend backend;
    private final Map<String, Tensor> buffers = new HashMap<>();

    public Workspace(Backend backend) { this.backend = backend; }

    /** A {@code [rows, cols]} F32 view named {@code name}; contents are whatever the last user left. */
    public Tensor get(String name, int rows, int cols) {
        Tensor t = buffers.get(name);
        if (t == null || t.dim(0) < rows || t.dim(1) != cols) {
            if (t != null) {
                buffers.remove(name); // a refused allocation below must not leave the freed tensor listed
                backend.free(t);
            }
            t = backend.allocate(DType.F32, Math.max(rows, t == null ? 0 : t.dim(0)), cols);
            buffers.put(name, t);
        }
        return t.rows(0, rows);
    }

    @Override
    public void close() {
        buffers.values().forEach(backend::free);
        buffers.clear();
    }
}
