package dev.rast.engine.model;

import dev.rast.engine.BadInputException;
import dev.rast.engine.config.ModelConfig;
import dev.rast.engine.tensor.Tensor;
import dev.rast.engine.weights.WeightLoader;

/**
 * The weights of a Llama-family decoder under Hugging Face's names ({@code model.layers.N.self_attn.q_proj.weight},
 * ...), shared by every architecture that uses that layout; the model files say which optional parts they need
 * (q/k/v biases for Qwen2) instead of copying the loading loop.
 */
public record DecoderWeights(Tensor embedding, Layer[] layers, Tensor finalNorm, Tensor lmHead) {

    /** One transformer block. Biases are null when the architecture has none. */
    public record Layer(Tensor inputNorm, Tensor wq, Tensor bq, Tensor wk, Tensor bk, Tensor wv, Tensor bv, Tensor wo,
                        Tensor postNorm, Tensor gate, Tensor up, Tensor down) {}

    /** The tensors one decode step reads: all layers, the final norm and the LM head (one embedding row aside). */
    public java.util.List<Tensor> decodeTensors() {
        java.util.List<Tensor> out = new java.util.ArrayList<>();
        for (Layer l : layers)
            for (Tensor t : new Tensor[] {l.inputNorm(), l.wq(), l.bq(), l.wk(), l.bk(), l.wv(), l.bv(), l.wo(),
                    l.postNorm(), l.gate(), l.up(), l.down()})
                if (t != null) out.add(t);
        out.add(finalNorm);
        out.add(lmHead);
        return out;
    }

    /** Bytes one decode step reads (as loaded, --dtype included: the bytes of {@link #decodeTensors} in their dtype, quantized blocks with their scales). */
    public long bytesPerToken() {
        long n = 0;
        for (Tensor t : decodeTensors()) n += bytes(t);
        return n;
    }

    private static long bytes(Tensor t) { return t == null ? 0 : t.dtype().byteSize(t.shape()); }

    public static DecoderWeights load(ModelConfig c, WeightLoader w, boolean qkvBias) {
        int h = c.hiddenSize(), q = c.qDim(), kv = c.kvDim(), ff = c.intermediateSize(), v = c.vocabSize();
        String hs = "hidden_size=" + h, qs = "num_attention_heads×head_dim=" + q, kvs = "num_key_value_heads×head_dim=" + kv;
        String ffs = "intermediate_size=" + ff;
        // Tied, the embedding is also the LM head's matrix; untied, it is only looked up by row.
        String ew = "vocab_size=" + v + ", " + hs;
        Tensor embedding = c.tieWordEmbeddings() ? w.load("model.embed_tokens.weight", ew, v, h)
                : w.loadTable("model.embed_tokens.weight", ew, v, h);
        Layer[] layers = new Layer[c.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            layers[i] = new Layer(
                    w.load(p + "input_layernorm.weight", hs, h),
                    w.load(p + "self_attn.q_proj.weight", qs + ", " + hs, q, h),
                    qkvBias ? w.load(p + "self_attn.q_proj.bias", qs, q) : null,
                    w.load(p + "self_attn.k_proj.weight", kvs + ", " + hs, kv, h),
                    qkvBias ? w.load(p + "self_attn.k_proj.bias", kvs, kv) : null,
                    w.load(p + "self_attn.v_proj.weight", kvs + ", " + hs, kv, h),
                    qkvBias ? w.load(p + "self_attn.v_proj.bias", kvs, kv) : null,
                    w.load(p + "self_attn.o_proj.weight", hs + ", " + qs, h, q),
                    w.load(p + "post_attention_layernorm.weight", hs, h),
                    w.load(p + "mlp.gate_proj.weight", ffs + ", " + hs, ff, h),
                    w.load(p + "mlp.up_proj.weight", ffs + ", " + hs, ff, h),
                    w.load(p + "mlp.down_proj.weight", hs + ", " + ffs, h, ff));
        }
        Tensor norm = w.load("model.norm.weight", hs, h);
        Tensor head;
        if (c.tieWordEmbeddings()) {
            head = embedding; // tied: the LM head is the embedding matrix
        } else {
            if (!w.checkpoint().has("lm_head.weight"))
                throw new BadInputException(w.checkpoint().dir() + ": tensor 'lm_head.weight' is missing from the checkpoint"
                        + " (config.json says tie_word_embeddings=false)");
            head = w.load("lm_head.weight", "vocab_size=" + v + ", " + hs, v, h);
        }
        return new DecoderWeights(embedding, layers, norm, head);
    }
}
