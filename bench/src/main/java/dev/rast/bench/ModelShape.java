package dev.rast.bench;

import java.util.Locale;

/**
 * The layer shapes of the models the benchmarks use, from their Hugging Face {@code config.json}s (the same shapes
 * {@code rast synth} writes): hidden size, MLP width, layers, query and KV heads, head dimension, vocabulary.
 */
enum ModelShape {
    QWEN25_05B("qwen2.5-0.5b", 896, 4864, 24, 14, 2, 64, 151936),
    QWEN25_15B("qwen2.5-1.5b", 1536, 8960, 28, 12, 2, 128, 151936),
    QWEN25_7B("qwen2.5-7b", 3584, 18944, 28, 28, 4, 128, 152064),
    LLAMA31_8B("llama-3.1-8b", 4096, 14336, 32, 32, 8, 128, 128256);

    final String id;
    final int hidden, intermediate, layers, heads, kvHeads, headDim, vocab;

    ModelShape(String id, int hidden, int intermediate, int layers, int heads, int kvHeads, int headDim, int vocab) {
        this.id = id;
        this.hidden = hidden;
        this.intermediate = intermediate;
        this.layers = layers;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.vocab = vocab;
    }

    int qDim() { return heads * headDim; }

    int kvDim() { return kvHeads * headDim; }

    static ModelShape of(String id) {
        for (ModelShape m : values()) if (m.id.equals(id)) return m;
        throw new IllegalArgumentException("unknown model shape " + id + "; known: qwen2.5-0.5b, qwen2.5-1.5b, qwen2.5-7b, llama-3.1-8b");
    }

    /**
     * The matrices of one matmul op of the forward pass, {rows, columns} each: those that share their input run as
     * one op (q, k, v; gate, up), as {@code DecoderModel} calls them.
     */
    int[][] matrices(String op) {
        return switch (op.toLowerCase(Locale.ROOT)) {
            case "qkv" -> new int[][] {{qDim(), hidden}, {kvDim(), hidden}, {kvDim(), hidden}};
            case "o" -> new int[][] {{hidden, qDim()}};
            case "gate_up" -> new int[][] {{intermediate, hidden}, {intermediate, hidden}};
            case "down" -> new int[][] {{hidden, intermediate}};
            case "lm_head" -> new int[][] {{vocab, hidden}};
            default -> throw new IllegalArgumentException("unknown matrix " + op + "; known: qkv, o, gate_up, down, lm_head");
        };
    }

    /** "N×K" of each matrix of the op, joined by "+". */
    String matrixShape(String op) {
        StringBuilder sb = new StringBuilder();
        for (int[] m : matrices(op)) sb.append(sb.isEmpty() ? "" : "+").append(m[0]).append('×').append(m[1]);
        return sb.toString();
    }
}
