package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.BadInputException;
import dev.rast.engine.backend.Backend;
import dev.rast.engine.json.Json;
import dev.rast.engine.sample.SamplingParams;
import dev.rast.kernels.cpu.CpuBackend;
import dev.rast.run.ModelSet;
import dev.rast.run.Sample;
import dev.rast.run.SampleRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The real RAST path (ModelSet → Generator with lockstep batched models → RastFusion → Sampler) on the HF trio of
 * scripts/oracle/make_rast_reference.py, plus the properties issue 4 asks for. Tolerances as in RastReferenceTest:
 * logprobs within 1e-4 of HF's float64 values (measured error ~1e-6), tokens exact (smallest top-2 margin 0.020).
 */
class RastGenerateTest {
    static Backend backend;
    static Map<String, Object> expected;
    static int[] prompt;
    @TempDir Path tmp;

    @BeforeAll
    static void open() throws IOException {
        backend = new CpuBackend(2);
        expected = Json.parseObject(Files.readAllBytes(trio("M").getParent().resolve("expected.json")), "rast-trio/expected.json");
        prompt = Fixtures.ints(expected.get("prompt"));
    }

    @AfterAll static void close() { backend.close(); }

    static Path trio(String name) { return Fixtures.reference("rast-trio/" + name); }

    static List<Sample> run(List<ModelSet.Pair> pairs, SamplingParams params, int n, int tokens) {
        try (ModelSet set = ModelSet.load(trio("M"), pairs, null, false, backend)) {
            return new SampleRunner(set, params, tokens, List.of(), true).run(prompt, n, params.seed(), null, null);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"pair1-lambda0", "pair1-lambda0.5", "pair1-lambda1", "two-pairs"})
    @SuppressWarnings("unchecked")
    void fusedGreedyEqualsHuggingFace(String name) {
        Map<String, Object> c = null;
        for (Object o : (List<Object>) expected.get("cases")) if (((Map<String, Object>) o).get("name").equals(name)) c = (Map<String, Object>) o;
        List<ModelSet.Pair> pairs = new ArrayList<>();
        for (Map<String, Object> p : (List<Map<String, Object>>) c.get("pairs"))
            pairs.add(new ModelSet.Pair(trio((String) p.get("expert")), trio((String) p.get("base")), (float) (double) (Double) p.get("lambda")));
        int[] want = Fixtures.ints(c.get("tokens"));
        Sample s = run(pairs, SamplingParams.greedy(), 1, want.length).getFirst();
        assertArrayEquals(want, s.tokens(), name);
        List<?> lp = (List<?>) c.get("logprobs");
        for (int t = 0; t < want.length; t++) assertEquals((Double) lp.get(t), s.logprobs()[t], 1e-4, name + " step " + t);
    }

    /**
     * Several prompts through one continuous batch of RAST sequences (fusion and sampling included) give each prompt
     * the samples it gets alone with its seed: tokens exact, logprobs within 1e-5 (the batch only reorders F32 sums).
     */
    @Test
    void promptsBatchedTogetherEqualEachPromptAlone() {
        List<ModelSet.Pair> pairs = List.of(new ModelSet.Pair(trio("E1"), trio("B1"), 0.5f));
        List<int[]> prompts = List.of(prompt, java.util.Arrays.copyOf(prompt, 3), new int[] {prompt[1], 7, 9, 11, 13});
        long[] seeds = {11, 22, 33};
        int n = 3, tokens = 10;
        try (ModelSet set = ModelSet.load(trio("M"), pairs, null, false, backend)) {
            SampleRunner runner = new SampleRunner(set, SAMPLED, tokens, List.of(), true);
            Sample[][] together = new Sample[prompts.size()][n];
            // All samples of prompts 0 and 2, and only samples 0 and 2 of prompt 1 (as when a run resumes).
            int[][] wanted = {{0, 1, 2}, {0, 2}, {0, 1, 2}};
            runner.runAll(prompts, wanted, seeds, 4, null, null, (p, s, sample) -> together[p][s] = sample);
            assertEquals(null, together[1][1], "sample 1 of prompt 1 was not asked for");
            for (int p = 0; p < prompts.size(); p++) {
                List<Sample> alone = runner.run(prompts.get(p), n, seeds[p], null, null);
                for (int s : wanted[p]) {
                    assertArrayEquals(alone.get(s).tokens(), together[p][s].tokens(), "prompt " + p + " sample " + s);
                    assertArrayEquals(alone.get(s).logprobs(), together[p][s].logprobs(), 1e-5, "prompt " + p + " sample " + s);
                }
            }
        }
    }

    /** Sampling (T=1, top-p 0.9) so that every logit matters, not only the argmax. */
    static final SamplingParams SAMPLED = new SamplingParams(1.0, 0, 0.9, 0, 42);

    /**
     * M alone, decoded directly with the engine's Generator and Sampler, over the shared ids: M's padding rows
     * (1000..1023) are what vocabulary alignment removes, and M alone prefers them (RastReferenceTest checks that), so
     * "the base model alone" of a fused run means M's logits over the ids the experts share.
     */
    static List<int[]> baseAloneOverSharedIds(SamplingParams params, int n, int tokens) {
        int shared = (int) (long) (Long) expected.get("shared_vocab");
        try (var m = dev.rast.engine.model.Models.load(trio("M"), backend)) {
            var sampler = new dev.rast.engine.sample.Sampler(params);
            var rng = new java.util.random.RandomGenerator[n];
            for (int s = 0; s < n; s++) rng[s] = dev.rast.engine.sample.SequenceRandom.of(params.seed(), s);
            dev.rast.engine.generate.Generator.Fusion mask = (seq, rows) -> {
                java.util.Arrays.fill(rows[0], shared, rows[0].length, Float.NEGATIVE_INFINITY);
                return rows[0];
            };
            int[][] out = dev.rast.run.Lockstep.generator(List.of(m), mask)
                    .generate(prompt, n, tokens, java.util.Set.of(), (seq, row) -> sampler.sample(row, rng[seq]).token(), null);
            return List.of(out);
        }
    }

    @Test
    void lambdaZeroEqualsTheBaseModelAlone() {
        List<int[]> alone = baseAloneOverSharedIds(SAMPLED, 3, 10);
        List<Sample> fused = run(List.of(new ModelSet.Pair(trio("E1"), trio("B1"), 0f)), SAMPLED, 3, 10);
        for (int s = 0; s < 3; s++) assertArrayEquals(alone.get(s), fused.get(s).tokens(), "sample " + s);
    }

    @Test
    void anExpertIdenticalToItsBaseEqualsTheBaseModelAlone() {
        List<int[]> alone = baseAloneOverSharedIds(SAMPLED, 3, 10);
        List<Sample> lambda0 = run(List.of(new ModelSet.Pair(trio("E1"), trio("B1"), 0f)), SAMPLED, 3, 10);
        List<Sample> fused = run(List.of(new ModelSet.Pair(trio("B1"), trio("B1"), 1f)), SAMPLED, 3, 10);
        for (int s = 0; s < 3; s++) {
            assertArrayEquals(alone.get(s), fused.get(s).tokens(), "sample " + s);
            // E − B is exactly 0 in f32 when E and B are the same model, so even the logprobs are identical.
            assertArrayEquals(lambda0.get(s).logprobs(), fused.get(s).logprobs(), "sample " + s);
        }
    }

    @Test
    void seededSamplingIsReproducibleAndBatchedSamplesEqualSeparateRuns() {
        List<ModelSet.Pair> pairs = List.of(new ModelSet.Pair(trio("E1"), trio("B1"), 1f));
        List<Sample> four = run(pairs, SAMPLED, 4, 10);
        List<Sample> again = run(pairs, SAMPLED, 4, 10);
        for (int s = 0; s < 4; s++) assertArrayEquals(four.get(s).tokens(), again.get(s).tokens());
        // Sample s of a batch of 4 equals sample s of a run with only s+1 sequences: a sample does not depend on the
        // sequences decoding beside it (batched rows, fork of the shared prefill, per-sample seeds).
        for (int s = 0; s < 3; s++) {
            Sample alone = run(pairs, SAMPLED, s + 1, 10).get(s);
            assertArrayEquals(four.get(s).tokens(), alone.tokens(), "sample " + s);
            for (int t = 0; t < alone.logprobs().length; t++) assertEquals(four.get(s).logprobs()[t], alone.logprobs()[t], 1e-5);
        }
        assertNotEquals(java.util.Arrays.toString(four.get(0).tokens()), java.util.Arrays.toString(four.get(1).tokens()),
                "different samples draw differently");
        List<Sample> otherSeed = run(pairs, new SamplingParams(1.0, 0, 0.9, 0, 43), 1, 10);
        assertNotEquals(java.util.Arrays.toString(four.get(0).tokens()), java.util.Arrays.toString(otherSeed.get(0).tokens()));
    }

    /** A copy of a trio model with a tokenizer.json; {@code swap} exchanges the ids of '&' (5) and ''' (6). */
    Path withTokenizer(String model, boolean swap) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(model + (swap ? "-swapped" : "")));
        for (String f : new String[] {"config.json", "model.safetensors"}) Files.copy(trio(model).resolve(f), dir.resolve(f));
        String json = Files.readString(Fixtures.tokenizerDir("qwen").resolve("tokenizer.json"));
        if (swap) {
            assertTrue(json.contains("\"&\": 5,") && json.contains("\"'\": 6,"));
            json = json.replace("\"&\": 5,", "\"&\": 6X,").replace("\"'\": 6,", "\"'\": 5,").replace("6X,", "6,");
        }
        Files.writeString(dir.resolve("tokenizer.json"), json);
        return dir;
    }

    @Test
    void modelsWhoseTokenizersDifferOnSharedIdsAreRefused() throws IOException {
        Path m = withTokenizer("M", false), e = withTokenizer("E1", true), b = withTokenizer("B1", false);
        var err = assertThrows(BadInputException.class,
                () -> ModelSet.load(m, List.of(new ModelSet.Pair(e, b, 1f)), null, false, backend).close());
        assertTrue(err.getMessage().contains("tokenizers differ at id 5"), err.getMessage());
        assertTrue(err.getMessage().contains("--allow-tokenizer-mismatch"), err.getMessage());
        // The same set loads when the user allows it, and with matching tokenizers.
        ModelSet.load(m, List.of(new ModelSet.Pair(e, b, 1f)), null, true, backend).close();
        ModelSet.load(m, List.of(new ModelSet.Pair(withTokenizer("E2", false), b, 1f)), null, false, backend).close();
    }
}
