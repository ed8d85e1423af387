package dev.rast.synth;

import dev.rast.engine.files.AtomicFiles;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.weights.SafeTensorsWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongConsumer;

/**
 * Writes a random-weight model folder: config.json plus model.safetensors with every tensor the architecture
 * needs. Linear weights are uniform with std 0.02 (the usual init), norm scales 1, biases std 0.02; each tensor
 * has its own generator seeded from (seed, name), so output is reproducible.
 */
public final class Synthesizer {
    private Synthesizer() {}

    public static SafeTensorsWriter plan(SynthArch a, DType dtype, long seed) {
        SafeTensorsWriter w = new SafeTensorsWriter();
        int h = a.hidden(), q = a.heads() * a.headDim(), kv = a.kvHeads() * a.headDim(), ff = a.intermediate();
        add(w, "model.embed_tokens.weight", dtype, seed, 0.02f, a.vocab(), h);
        for (int i = 0; i < a.layers(); i++) {
            String p = "model.layers." + i + ".";
            add(w, p + "input_layernorm.weight", dtype, seed, -1, h);
            add(w, p + "self_attn.q_proj.weight", dtype, seed, 0.02f, q, h);
            add(w, p + "self_attn.k_proj.weight", dtype, seed, 0.02f, kv, h);
            add(w, p + "self_attn.v_proj.weight", dtype, seed, 0.02f, kv, h);
            if (a.qkvBias()) {
                add(w, p + "self_attn.q_proj.bias", dtype, seed, 0.02f, q);
                add(w, p + "self_attn.k_proj.bias", dtype, seed, 0.02f, kv);
                add(w, p + "self_attn.v_proj.bias", dtype, seed, 0.02f, kv);
            }
            add(w, p + "self_attn.o_proj.weight", dtype, seed, 0.02f, h, q);
            add(w, p + "post_attention_layernorm.weight", dtype, seed, -1, h);
            add(w, p + "mlp.gate_proj.weight", dtype, seed, 0.02f, ff, h);
            add(w, p + "mlp.up_proj.weight", dtype, seed, 0.02f, ff, h);
            add(w, p + "mlp.down_proj.weight", dtype, seed, 0.02f, h, ff);
        }
        add(w, "model.norm.weight", dtype, seed, -1, h);
        if (!a.tied()) add(w, "lm_head.weight", dtype, seed, 0.02f, a.vocab(), h);
        return w;
    }

    public static void write(SynthArch a, DType dtype, long seed, Path dir, LongConsumer progress) throws IOException {
        Files.createDirectories(dir);
        AtomicFiles.write(dir.resolve("config.json"), a.configJson(dtype.torchName()), AtomicFiles.Durability.RENAMED);
        writeTokenizer(a.modelType().equals("llama") ? "llama" : "qwen", dir);
        plan(a, dtype, seed).write(dir.resolve("model.safetensors"), progress);
    }

    /**
     * The real tokenizer of the family (Qwen2.5 / Llama 3.1), so text prompts and the chat template work on the
     * random model. Shipped gzipped in the jar; sources in resources/dev/rast/synth/SOURCES.md.
     */
    private static void writeTokenizer(String family, Path dir) throws IOException {
        for (String f : new String[] {"tokenizer.json", "tokenizer_config.json"}) {
            try (var in = Synthesizer.class.getResourceAsStream("/dev/rast/synth/" + family + "-" + f + ".gz")) {
                if (in == null) throw new IllegalStateException("resource " + family + "-" + f + ".gz missing from the jar");
                AtomicFiles.copy(new java.util.zip.GZIPInputStream(in), dir.resolve(f), AtomicFiles.Durability.RENAMED);
            }
        }
    }

    /** std < 0 means "all ones" (norm scales). */
    private static void add(SafeTensorsWriter w, String name, DType dtype, long seed, float std, int... shape) {
        long[] state = {mix(seed ^ name.hashCode() * 0x9E3779B97F4A7C15L)};
        float scale = (float) (std * Math.sqrt(3) * 2); // uniform on [-std√3, std√3] has standard deviation std
        w.add(name, dtype, shape, (ByteBuffer buf, long offset) -> {
            while (buf.hasRemaining()) {
                float v;
                if (std < 0) v = 1f;
                else {
                    long s = state[0];
                    s ^= s << 13; s ^= s >>> 7; s ^= s << 17; // xorshift64
                    state[0] = s;
                    v = ((s >>> 40) * 0x1.0p-24f - 0.5f) * scale;
                }
                switch (dtype) {
                    case F32 -> buf.putFloat(v);
                    case BF16 -> buf.putShort(DType.floatToBf16(v));
                    case F16 -> buf.putShort(Float.floatToFloat16(v));
                }
            }
        });
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return z == 0 ? 1 : z;
    }
}
