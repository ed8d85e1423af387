package dev.rast.engine.model;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.config.ModelConfig;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.weights.Checkpoint;

/**
 * What every decoder model holds besides its forward pass: the config, the checkpoint its weights map, the backend,
 * the weights, the RoPE tables, a workspace for activations, and their lifetimes. Each architecture extends this
 * and writes its {@link #forward} top to bottom in its own file.
 */
public abstract class DecoderModel implements CausalLM {
    protected final ModelConfig c;
    protected final Backend backend;
    protected final DecoderWeights w;
    protected final RotaryEmbedding rope;
    protected final Workspace ws;
    private final Checkpoint checkpoint;
    private final long weightBytes;
    private final DType keyWeights;
    private DType kvDtype;

    protected DecoderModel(ModelConfig config, Checkpoint checkpoint, Backend backend, DecoderWeights weights) {
        this.c = config;
        this.checkpoint = checkpoint;
        this.backend = backend;
        this.w = weights;
        this.rope = new RotaryEmbedding(backend, config);
        this.ws = new Workspace(backend);
        this.weightBytes = weights.bytesPerToken();
        // The dtype loaded (the stored one unless --dtype converted it), not the backend's copy (a backend may
        // widen F16 weights for its kernels).
        this.keyWeights = checkpoint.loadedDtype("model.layers.0.self_attn.k_proj.weight");
        this.kvDtype = KvCacheDtype.AUTO.resolve(keyWeights);
    }

    @Override public final ModelConfig config() { return c; }

    @Override public final Backend backend() { return backend; }

    @Override public final KvCache newCache(int capacity) { return new KvCache(backend, c.numLayers(), capacity, c.kvDim(), kvDtype); }

    @Override public final DType weightDtype() { return keyWeights; }

    @Override public final DType kvCacheDtype() { return kvDtype; }

    @Override public final void kvCacheDtype(KvCacheDtype choice) { kvDtype = choice.resolve(keyWeights); }

    @Override public final long weightBytes() { return weightBytes; }

    @Override public final java.util.List<dev.rast.engine.tensor.Tensor> decodeWeights() { return w.decodeTensors(); }

    @Override
    public final void close() {
        ws.close();
        rope.close();
        checkpoint.close();
    }
}
