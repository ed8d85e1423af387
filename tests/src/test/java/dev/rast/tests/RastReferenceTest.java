package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.KvCache;
import dev.rast.engine.model.Models;
import dev.rast.fusion.RastFusion;
import dev.rast.engine.sample.Sampler;
import dev.rast.engine.sample.SamplingParams;
import dev.rast.kernels.cpu.CpuBackend;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Fused greedy decoding against Hugging Face transformers on the trio of scripts/oracle/make_rast_reference.py: a
 * base M with a padded vocabulary (1024 rows, 1000 shared) and two small expert pairs. Each case gives the reference
 * tokens, and each chosen token's log-probability under log_softmax(fused logits) within 1e-4.
 *
 * <p>Tolerance: the reference runs in float64, we run F32; the log-probabilities differ by at most 1.2e-6 here
 * (F32 rounding through three small models), so 1e-4 has a wide margin yet catches a wrong normalizer (padding ids
 * counted: they dominate M's row, an error of whole units) or a wrong λ (0.5 vs 1 moves tokens). The smallest top-2
 * margin of the fused logits along the reference paths is 0.020, four orders above the F32 error, so the tokens
 * must match exactly.
 *
 * <p>The loop here is a deliberately tiny lockstep decoder (prefill every model, then fuse, choose, feed the token
 * to every model); the real multi-model generator is tested against the same fixture.
 */
class RastReferenceTest {
    static Backend backend;
    static Map<String, Object> expected;

    @BeforeAll
    static void open() throws Exception {
        backend = new CpuBackend(2);
        expected = dev.rast.engine.json.Json.parseObject(java.nio.file.Files.readAllBytes(
                Fixtures.reference("rast-trio/M").getParent().resolve("expected.json")), "rast-trio/expected.json");
    }

    @AfterAll static void close() { backend.close(); }

    record Decoded(int[] tokens, double[] logprobs) {}

    /** models: M, then each pair's expert and base. */
    static Decoded fusedGreedy(List<CausalLM> models, RastFusion fusion, int[] prompt, int steps) {
        int pairs = fusion.pairs();
        Sampler sampler = new Sampler(SamplingParams.greedy());
        List<KvCache> caches = new ArrayList<>();
        float[][] rows = new float[models.size()][];
        int[] tokens = new int[steps];
        double[] logprobs = new double[steps];
        try {
            for (int i = 0; i < models.size(); i++) {
                caches.add(models.get(i).newCache(prompt.length + steps));
                rows[i] = new float[models.get(i).config().vocabSize()];
                backend.download(models.get(i).forward(prompt, caches.get(i), 1), MemorySegment.ofArray(rows[i]));
            }
            float[] fused = new float[rows[0].length];
            for (int t = 0; t < steps; t++) {
                float[][] experts = new float[pairs][], bases = new float[pairs][];
                for (int p = 0; p < pairs; p++) {
                    experts[p] = rows[1 + 2 * p];
                    bases[p] = rows[2 + 2 * p];
                }
                Sampler.Choice c = sampler.sample(fusion.fuse(rows[0], experts, bases, fused), null);
                tokens[t] = c.token();
                logprobs[t] = c.logprob();
                for (int i = 0; i < models.size(); i++)
                    backend.download(models.get(i).forward(new int[] {c.token()}, caches.get(i), 1), MemorySegment.ofArray(rows[i]));
            }
        } finally {
            caches.forEach(KvCache::close);
        }
        return new Decoded(tokens, logprobs);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> testCase(String name) {
        for (Object c : (List<Object>) expected.get("cases"))
            if (((Map<String, Object>) c).get("name").equals(name)) return (Map<String, Object>) c;
        throw new IllegalArgumentException("no case " + name + " in expected.json");
    }

    @ParameterizedTest
    @ValueSource(strings = {"pair1-lambda0", "pair1-lambda0.5", "pair1-lambda1", "two-pairs"})
    @SuppressWarnings("unchecked")
    void fusedGreedyDecodingMatchesHuggingFace(String name) {
        Map<String, Object> c = testCase(name);
        List<Map<String, Object>> pairs = (List<Map<String, Object>>) c.get("pairs");
        List<CausalLM> models = new ArrayList<>();
        float[] lambdas = new float[pairs.size()];
        try {
            models.add(Models.load(Fixtures.reference("rast-trio/M"), backend));
            for (int p = 0; p < pairs.size(); p++) {
                models.add(Models.load(Fixtures.reference("rast-trio/" + pairs.get(p).get("expert")), backend));
                models.add(Models.load(Fixtures.reference("rast-trio/" + pairs.get(p).get("base")), backend));
                lambdas[p] = (float) (double) (Double) pairs.get(p).get("lambda");
            }
            int[] want = Fixtures.ints(c.get("tokens"));
            Decoded got = fusedGreedy(models, new RastFusion(lambdas), Fixtures.ints(expected.get("prompt")), want.length);
            assertArrayEquals(want, got.tokens(), name);
            List<?> wantLogprobs = (List<?>) c.get("logprobs");
            for (int t = 0; t < want.length; t++)
                assertEquals((Double) wantLogprobs.get(t), got.logprobs()[t], 1e-4, name + " step " + t);
        } finally {
            models.forEach(CausalLM::close);
        }
    }

    /**
     * The fixture is only a test of vocabulary alignment if M's padding rows matter: M alone must prefer a padding
     * id (≥ 1000) right after the prompt, so a fusion that forgot to mask them would pick it.
     */
    @Test
    void theBaseModelAlonePrefersAPaddingId() {
        try (CausalLM m = Models.load(Fixtures.reference("rast-trio/M"), backend);
             KvCache cache = m.newCache(16)) {
            float[] row = new float[m.config().vocabSize()];
            backend.download(m.forward(Fixtures.ints(expected.get("prompt")), cache, 1), MemorySegment.ofArray(row));
            assertEquals(1024, row.length);
            assertTrue(Sampler.argmax(row) >= (long) expected.get("shared_vocab"), "argmax " + Sampler.argmax(row));
        }
    }
}
