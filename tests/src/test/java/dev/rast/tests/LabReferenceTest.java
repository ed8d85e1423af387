package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.cli.LabModels;
import dev.rast.engine.backend.Backend;
import dev.rast.engine.model.KvCacheDtype;
import dev.rast.engine.sample.SamplingParams;
import dev.rast.kernels.cpu.CpuBackend;
import dev.rast.run.ModelSet;
import dev.rast.run.Sample;
import dev.rast.run.SampleRunner;
import dev.rast.text.chat.PromptFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lab checkpoints `rast demo` ships (trained weights, BF16), against Hugging Face transformers: greedy decoding
 * of every model alone and of RAST (M + λ·(E − B)) on test prompts gives the reference's tokens exactly, with each
 * token's log-probability within 1e-3 (fixture: scripts/lab/make_lab_reference.py, run by scripts/lab/build.sh
 * whenever the checkpoints are rebuilt). The models are read the way the demo reads them: copied out of the cli jar's
 * resources by {@link LabModels}, run through {@link ModelSet} and {@link SampleRunner}.
 *
 * <p>Tolerances. The reference runs in float64 from the same BF16 weights; we run F32 activations with F32 KV caches
 * (the demo's default BF16 caches would round keys and values the reference keeps). F32 rounding through these
 * 2- and 4-layer models moves a logit by about 1e-5 of its size (logits here are below ~30), so log-probabilities
 * agree to ~1e-4 at worst; 1e-3 keeps a margin and still catches a wrong model (E for B moves them by whole units)
 * or a wrong λ. Tokens must match exactly because the fixture keeps only prompts whose paths have a best-vs-second
 * logit margin of at least 1e-2 everywhere, two orders above that error.
 */
class LabReferenceTest {
    static Backend backend;
    static Map<String, Object> expected;
    static LabModels.Lab lab;

    @BeforeAll
    static void open(@TempDir Path cache) throws Exception {
        backend = new CpuBackend(2);
        Path file = Path.of(LabReferenceTest.class.getResource("/reference/lab/expected.json").toURI());
        expected = dev.rast.engine.json.Json.parseObject(Files.readAllBytes(file), "reference/lab/expected.json");
        lab = LabModels.extract(cache);
    }

    @AfterAll static void close() { backend.close(); }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> cases() {
        return (List<Map<String, Object>>) expected.get("cases");
    }

    @Test
    void theFixtureHasPrompts() {
        assertTrue(cases().size() >= 3, "expected.json keeps " + cases().size() + " prompts");
    }

    @Test
    void promptIdsEqualHuggingFaceTokenizers() {
        try (ModelSet set = ModelSet.load(lab.model("M"), List.of(), null, false, backend)) {
            for (Map<String, Object> c : cases()) {
                String text = PromptFormat.QWEN_BOXED.apply((String) c.get("question"));
                assertArrayEquals(Fixtures.ints(c.get("prompt_ids")), set.tokenizer().encode(text, true), "problem " + c.get("idx"));
            }
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void greedyDecodingEqualsHuggingFaceForEveryModelAndRast() {
        int maxNew = (int) (long) (Long) expected.get("max_new");
        int runs = 0;
        for (Map<String, Object> c : cases()) {
            int[] prompt = Fixtures.ints(c.get("prompt_ids"));
            for (Map<String, Object> run : (List<Map<String, Object>>) c.get("runs")) {
                List<String> names = (List<String>) run.get("models");
                List<ModelSet.Pair> pairs = new ArrayList<>();
                if (names.size() == 3)
                    pairs.add(new ModelSet.Pair(lab.model(names.get(1)), lab.model(names.get(2)), (float) (double) (Double) run.get("lambda")));
                String what = "problem " + c.get("idx") + ", " + run.get("name");
                try (ModelSet set = ModelSet.load(lab.model(names.getFirst()), pairs, null, false, backend)) {
                    for (var m : set.models()) m.kvCacheDtype(KvCacheDtype.F32);
                    SampleRunner runner = new SampleRunner(set, SamplingParams.greedy(), maxNew, List.of(), false);
                    Sample s = runner.run(prompt, 1, 0, null, null).getFirst();
                    assertArrayEquals(Fixtures.ints(run.get("tokens")), s.tokens(), what);
                    List<?> lp = (List<?>) run.get("logprobs");
                    for (int t = 0; t < lp.size(); t++) assertEquals((Double) lp.get(t), s.logprobs()[t], 1e-3, what + " step " + t);
                }
                runs++;
            }
        }
        assertFalse(runs == 0);
    }
}
