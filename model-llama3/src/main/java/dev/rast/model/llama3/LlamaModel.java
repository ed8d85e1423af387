package dev.rast.model.llama3;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.config.ModelConfig;
import dev.rast.engine.model.Batch;
import dev.rast.engine.model.DecoderModel;
import dev.rast.engine.model.DecoderWeights;
import dev.rast.engine.model.RotaryEmbedding;
import dev.rast.engine.tensor.Tensor;
import dev.rast.engine.weights.Checkpoint;
import java.util.List;

/**
 * Llama 3.x: a pre-norm decoder with RMSNorm, rotary attention (with Meta's "llama3" frequency scaling, applied
 * in {@link RotaryEmbedding} from config.json), grouped-query attention, and a SwiGLU MLP; no biases unless the
 * config sets attention_bias. The forward pass below is the whole model.
 *
 * <p>One pass serves a prompt (one sequence, many tokens) and a batched decode step (many sequences, one token
 * each) alike: every matmul and elementwise op runs over all new tokens stacked as rows; only RoPE positions,
 * the KV cache writes and attention look at which sequence a row belongs to.
 */
public final class LlamaModel extends DecoderModel {
    LlamaModel(ModelConfig config, Checkpoint checkpoint, Backend backend, DecoderWeights weights) {
        super(config, checkpoint, backend, weights);
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
        for (int l = 0; l < c.numLayers(); l++) {
            DecoderWeights.Layer L = w.layers()[l];
            // Attention: x += o_proj(attention(rope(q), rope(k), v))
            backend.rmsNorm(x, L.inputNorm(), eps, h);
            backend.matmul(h, List.of(L.wq(), L.wk(), L.wv()), List.of(q, k, v));
            if (c.attentionBias()) {
                backend.addBias(q, L.bq());
                backend.addBias(k, L.bk());
                backend.addBias(v, L.bv());
            }
            backend.rope(q, c.headDim(), rope.cos(), rope.sin(), chunkRows, startPos);
            backend.rope(k, c.headDim(), rope.cos(), rope.sin(), chunkRows, startPos);
            b.storeKeysValues(backend, l, k, v);      // each sequence's rows into its own cache
            backend.attention(q, b.keys(l), b.values(l), chunkRows, startPos, c.numHeads(), c.numKvHeads(), c.headDim(), att);
            backend.matmul(att, L.wo(), h);
            backend.add(x, h);
            // MLP: x += down(silu(gate(x)) · up(x))
            backend.rmsNorm(x, L.postNorm(), eps, h);
            backend.matmul(h, List.of(L.gate(), L.up()), List.of(gate, up));
            backend.siluMul(gate, up, gate);
            backend.matmul(gate, L.down(), h);
            backend.add(x, h);
        }
        b.advance();

        // Only the rows whose logits are wanted go through the final norm and the (large) LM head.
        Tensor hn = ws.get("final_norm", R, H);
        backend.rmsNorm(b.logitInputs(backend, x, hn), w.finalNorm(), eps, hn);
        Tensor logits = ws.get("logits", R, c.vocabSize());
        if (R > 0) backend.matmul(hn, w.lmHead(), logits);
        return logits;
    }
}
