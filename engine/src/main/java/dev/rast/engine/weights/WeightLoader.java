package dev.rast.engine.weights;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.tensor.Tensor;

/**
 * Checkpoint tensor → backend tensor, with the shape the config implies checked first. Model modules list their
 * weights through this and never touch files themselves.
 */
public record WeightLoader(Checkpoint checkpoint, Backend backend) {
    public Tensor load(String name, String why, int... shape) {
        Tensor host = checkpoint.require(name, why, shape);
        return released(host, backend.weight(host));
    }

    /** Like {@link #load} for a table that is only looked up by row (an untied embedding). */
    public Tensor loadTable(String name, String why, int... shape) {
        Tensor host = checkpoint.require(name, why, shape);
        return released(host, backend.lookupTable(host));
    }

    /** A backend that made its own copy (a GPU's) leaves a converted host tensor unused: its memory goes now. */
    private Tensor released(Tensor host, Tensor bound) {
        if (bound.data() != host.data()) checkpoint.release(host);
        return bound;
    }

    /** Like {@link #load} but null when the tensor is absent. */
    public Tensor optional(String name, String why, int... shape) {
        return checkpoint.has(name) ? load(name, why, shape) : null;
    }
}
