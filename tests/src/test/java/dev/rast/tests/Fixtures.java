package dev.rast.tests;

import dev.rast.engine.json.Json;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Paths to the committed reference fixtures made by scripts/oracle/make_reference_models.py. */
final class Fixtures {
    private Fixtures() {}

    static final List<String> MODELS = List.of("qwen2-f32", "qwen2-bf16-tied-sharded", "llama3-f32", "llama3-bf16-tied");

    static Path reference(String name) {
        try {
            return Path.of(Fixtures.class.getResource("/reference/" + name + "/config.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A reference model with F32 KV caches: the reference logits are Hugging Face's with F32 caches (its bf16 weights
     * upcast), so the cache must not round keys and values the reference keeps. BF16 caches, which a BF16 model gets
     * by default, have their own reference (KvCacheBf16Test).
     */
    static dev.rast.engine.model.CausalLM load(String name, dev.rast.engine.backend.Backend backend) {
        var m = dev.rast.engine.model.Models.load(reference(name), backend);
        m.kvCacheDtype(dev.rast.engine.model.KvCacheDtype.F32);
        return m;
    }

    /**
     * Prefill the first 11 of {@code ids} (the GEMM path plus its one-token tail), then the rest one token at a time
     * through the KV cache (the decode path): the largest |Δ| between each step's logits and row t of {@code want}
     * ([ids.length, vocab], the logits of every position).
     */
    static double incrementalMaxDiff(dev.rast.engine.model.CausalLM m, int[] ids, float[] want) {
        int V = m.config().vocabSize(), split = 11;
        try (dev.rast.engine.model.KvCache cache = m.newCache(ids.length)) {
            m.forward(java.util.Arrays.copyOf(ids, split), cache, 1);
            float[] row = new float[V];
            double d = 0;
            for (int t = split; t < ids.length; t++) {
                m.backend().download(m.forward(new int[] {ids[t]}, cache, 1), java.lang.foreign.MemorySegment.ofArray(row));
                for (int i = 0; i < V; i++) d = Math.max(d, Math.abs(row[i] - want[t * V + i]));
            }
            return d;
        }
    }

    static Map<String, Object> expected(String name) throws IOException {
        return Json.parseObject(Files.readAllBytes(reference(name).resolve("expected.json")), name + "/expected.json");
    }

    private static final Map<String, Path> TOKENIZER_DIRS = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * A folder holding the real tokenizer.json and tokenizer_config.json of "qwen" (Qwen3/Qwen2.5 vocabulary) or
     * "llama" (Llama 3.1), unpacked once per test run from the gzipped copies that `rast synth` ships
     * (cli/src/main/resources/dev/rast/synth, see SOURCES.md there).
     */
    static synchronized Path tokenizerDir(String name) {
        return TOKENIZER_DIRS.computeIfAbsent(name, n -> {
            try {
                Path dir = Files.createTempDirectory("rast-tok-" + n);
                dir.toFile().deleteOnExit();
                for (String f : List.of("tokenizer.json", "tokenizer_config.json")) {
                    try (var in = new java.util.zip.GZIPInputStream(
                            Fixtures.class.getResourceAsStream("/dev/rast/synth/" + n + "-" + f + ".gz"))) {
                        Files.copy(in, dir.resolve(f));
                    }
                    dir.resolve(f).toFile().deleteOnExit();
                }
                return dir;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    static int[] ints(Object jsonList) {
        return ((List<?>) jsonList).stream().mapToInt(o -> (int) (long) (Long) o).toArray();
    }
}
