package dev.rast.engine.model;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.config.ModelConfig;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import dev.rast.engine.weights.Checkpoint;
import java.util.List;

/**
 * A Llama-family decoder, the architecture of both Llama 3.x and Qwen2/Qwen2.5: pre-norm blocks with RMSNorm,
 * rotary grouped-query attention and a SwiGLU MLP. {@link #forward} below is the whole model; every op it calls is
 * a {@link Backend} method, whose plain form is {@code kernels/.../reference/ReferenceBackend.java}.
 *
 * <p>The families differ only in what their modules hand in: Qwen2 always has q/k/v biases (Llama only when its
 * config sets attention_bias), and Llama 3.1 stretches its rotary frequencies with Meta's "llama3" rule. Hugging
 * Face builds its Qwen2 code from Llama's classes for the same reason: one forward, so the two cannot drift apart.
 *
 * <p>One pass serves a prompt (one sequence, many tokens) and a batched decode step (many sequences, one token
 * each) alike: every matmul and elementwise op runs over all new tokens stacked as rows; only RoPE positions,
 * the KV cache writes and attention look at which sequence a row belongs to.
 */
public final class DecoderModel implements CausalLM {
    private final ModelConfig c;
    private final Backend backend;
    private final DecoderWeights w;
    private final RotaryEmbedding rope;
    private final Workspace ws;
    private final Checkpoint checkpoint;
    private final long weightBytes;
    private final DType keyWeights;
    private DType kvDtype;
    private final java.util.EnumMap<DType, KvPool> pools = new java.util.EnumMap<>(DType.class);
    private int maxKvBlocks = Integer.MAX_VALUE;

    /**
     * {@code ropeInverseFrequencies}: the rotary frequencies of one head, {@code head_dim / 2} of them, as the
     * family computes them from the config ({@link RopeTable#inverseFrequencies} unless the family scales them).
     */
    public DecoderModel(ModelConfig config, Checkpoint checkpoint, Backend backend, DecoderWeights weights,
                        float[] ropeInverseFrequencies) {
        this.c = config;
        this.checkpoint = checkpoint;
        this.backend = backend;
        this.w = weights;
        this.rope = new RotaryEmbedding(backend, ropeInverseFrequencies);
        this.ws = new Workspace(backend);
        this.weightBytes = weights.bytesPerToken();
        // The dtype loaded (the stored one unless --dtype converted it), not the backend's copy (a backend may
        // widen F16 weights for its kernels).
        this.keyWeights = checkpoint.loadedDtype("model.layers.0.self_attn.k_proj.weight");
        this.kvDtype = KvCacheDtype.AUTO.resolve(keyWeights);
    }

    @Override
    public Tensor forward(Batch b) {
        int T = b.rows(), R = b.logitRows();
        int H = c.hiddenSize(), qDim = c.qDim(), kvDim = c.kvDim(), FF = c.intermediateSize();
        float eps = (float) c.rmsNormEps();
        b.reserve();
        rope.ensure(b.positionsNeeded());
        int[] chunkRows = b.chunkRows(), startPos = b.startPositions(); // rows and first position of each sequence

        Tensor x = ws.get("residual", T, H);          // the residual stream: one row per new token, all sequences
        Tensor h = ws.get("normed", T, H);
        Tensor q = ws.get("q", T, qDim), k = ws.get("k", T, kvDim), v = ws.get("v", T, kvDim);
        Tensor att = ws.get("attn_out", T, qDim);
        Tensor gate = ws.get("mlp_gate", T, FF), up = ws.get("mlp_up", T, FF);

        backend.embed(w.embedding(), b.tokens(), x);
        backend.rmsNorm(x, w.layers()[0].inputNorm(), eps, h);   // layer 0's input norm; the others' come fused below
        // The layer stack as one call, so that a backend may replay a recorded decode step (CUDA graphs).
        backend.decoderLayers(chunkRows, startPos, b.cache(0), () -> {
            for (int l = 0; l < c.numLayers(); l++) {
                DecoderWeights.Layer L = w.layers()[l];
                // Attention: x += o_proj(attention(rope(q), rope(k), v)), on h = inputNorm(x)
                backend.matmul(h, List.of(L.wq(), L.wk(), L.wv()), List.of(q, k, v));
                // q/k/v biases (Qwen2 always, Llama when attention_bias is set; else null), then RoPE of q and k
                backend.biasRope(q, k, v, L.bq(), L.bk(), L.bv(), c.headDim(), rope.cos(), rope.sin(), chunkRows, startPos);
                b.storeKeysValues(backend, l, k, v);      // each sequence's rows into its own cache
                backend.attention(q, b.cache(l), chunkRows, startPos, c.numHeads(), c.numKvHeads(), c.headDim(), att);
                backend.matmul(att, L.wo(), h);
                backend.addRmsNorm(x, h, L.postNorm(), eps, h);     // x += h; h = postNorm(x)
                // MLP: x += down(silu(gate(h)) · up(h))
                backend.gateUpSiluMul(h, L.gate(), L.up(), gate, up);
                backend.matmul(gate, L.down(), h);
                if (l + 1 < c.numLayers()) backend.addRmsNorm(x, h, w.layers()[l + 1].inputNorm(), eps, h); // x += h; h = next inputNorm(x)
                else backend.add(x, h);
            }
        });
        b.advance();

        // Only the rows whose logits are wanted go through the final norm and the (large) LM head.
        Tensor hn = ws.get("final_norm", R, H);
        backend.rmsNorm(b.logitInputs(backend, x, hn), w.finalNorm(), eps, hn);
        Tensor logits = ws.get("logits", R, c.vocabSize());
        if (R > 0) backend.matmul(hn, w.lmHead(), logits);
        return logits;
    }

    @Override public ModelConfig config() { return c; }

    @Override public Backend backend() { return backend; }

    @Override public KvCache newCache(int capacity) { return new KvCache(kvPool(), capacity); }

    /** The pool of the current KV dtype (made on first use; a dtype change starts a new one, the old kept for its caches). */
    @Override
    public synchronized KvPool kvPool() {
        KvPool p = pools.get(kvDtype);
        if (p == null) pools.put(kvDtype, p = new KvPool(backend, c.numLayers(), c.kvDim(), kvDtype, KvPool.BLOCK_SIZE, maxKvBlocks));
        return p;
    }

    /** Caps the pools made from now on at {@code blocks} blocks (the memory a scheduler admits sequences into). */
    @Override
    public synchronized void maxKvBlocks(int blocks) {
        if (blocks < 1) throw new IllegalArgumentException("KV block cap must be at least 1, is " + blocks);
        maxKvBlocks = blocks;
    }

    @Override public DType weightDtype() { return keyWeights; }

    @Override public DType kvCacheDtype() { return kvDtype; }

    @Override public void kvCacheDtype(KvCacheDtype choice) { kvDtype = choice.resolve(keyWeights); }

    @Override public long weightBytes() { return weightBytes; }

    @Override public List<Tensor> decodeWeights() { return w.decodeTensors(); }

    @Override
    public void close() {
        for (KvPool p : pools.values()) p.close();
        ws.close();
        rope.close();
        checkpoint.close();
    }
}
