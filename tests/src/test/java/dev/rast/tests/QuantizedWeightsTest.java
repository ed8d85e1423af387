package dev.rast.tests;

import static dev.rast.tests.KvCacheBf16Test.forwardLogits;
import static dev.rast.tests.KvCacheBf16Test.maxDiff;
import static dev.rast.tests.KvCacheBf16Test.percentile99;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.BadInputException;
import dev.rast.engine.backend.Backend;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.KvCache;
import dev.rast.engine.model.KvCacheDtype;
import dev.rast.engine.model.Models;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.weights.SafeTensorsFile;
import dev.rast.engine.weights.WeightDtype;
import dev.rast.kernels.cuda.GpuTargets;
import dev.rast.kernels.cuda.TestBackends;
import dev.rast.run.Lockstep;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code --dtype q8_0} and {@code q4_0} on all four reference models against Hugging Face with the same quantization
 * applied to every matrix by torch (scripts/oracle/make_quant_reference.py: llama.cpp's Q8_0 and Q4_0 rules, written
 * in torch from ggml-quants.c, then the model in float64), on the CPU backend and the reference backend.
 *
 * <p>Tolerance: a dequantized weight ({@code q·d}) is exact in F32, so rast multiplies by exactly the weights torch
 * quantized, and what is left is rast's F32 arithmetic against float64, as for the F32 fixtures of
 * ReferenceModelTest: 1e-4 (measured below 2e-5). The test must see the quantization: the unquantized model is more
 * than 1e-2 away at the 99th percentile (the script measured 0.14 to 0.16 for Q8_0, 1.8 to 2.2 for Q4_0). The greedy
 * continuation is HF's (its smallest top-2 margin, 0.0011, is 50× the tolerance).
 */
class QuantizedWeightsTest {
    static final List<String> MODELS = List.of("qwen2-f32", "llama3-f32", "qwen2-bf16-tied-sharded", "llama3-bf16-tied");

    @RegisterExtension static final TestBackends backends = new TestBackends();

    static Stream<Arguments> cases() {
        return Stream.of("cpu", "reference").flatMap(t -> MODELS.stream().flatMap(m ->
                Stream.of(WeightDtype.Q8_0, WeightDtype.Q4_0).map(q -> Arguments.of(t, m, q))));
    }

    static String file(WeightDtype q) { return q.name().toLowerCase(java.util.Locale.ROOT) + "_weights_logits.safetensors"; }

    static float[] reference(String name, String file) throws Exception {
        try (SafeTensorsFile ref = SafeTensorsFile.open(Fixtures.reference(name).resolve(file))) {
            return ref.tensor("logits").data().toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    static CausalLM load(String name, Backend b, WeightDtype q) {
        CausalLM m = Models.load(Fixtures.reference(name), b, q);
        m.kvCacheDtype(KvCacheDtype.F32);  // the reference's cache is not rounded
        return m;
    }

    @ParameterizedTest
    @MethodSource("cases")
    void prefillMatchesHuggingFaceWithQuantizedMatrices(String target, String name, WeightDtype q) throws Exception {
        Backend b = backends.backend(target);
        int[] ids = Fixtures.ints(Fixtures.expected(name).get("input_ids"));
        float[] want = reference(name, file(q)), plain = reference(name, "logits.safetensors");
        try (CausalLM m = load(name, b, q)) {
            assertEquals(q == WeightDtype.Q8_0 ? DType.Q8_0 : DType.Q4_0, m.weightDtype());
            float[] got = new float[want.length];
            try (KvCache cache = m.newCache(ids.length)) {
                b.download(m.forward(ids, cache, ids.length), MemorySegment.ofArray(got));
            }
            assertTrue(maxDiff(got, want) <= 1e-4, target + " " + name + " " + q + ": max |Δlogit| = " + maxDiff(got, want));
            assertTrue(percentile99(got, plain) > 1e-2, target + " " + name + " " + q + ": as close to the unquantized logits, 99th percentile "
                    + percentile99(got, plain));
        }
    }

    /** One token at a time through the cache (the CPU's matrix-vector kernels) gives the same logits. */
    @ParameterizedTest
    @MethodSource("cases")
    void decodeStepsMatchHuggingFace(String target, String name, WeightDtype q) throws Exception {
        Backend b = backends.backend(target);
        int[] ids = Fixtures.ints(Fixtures.expected(name).get("input_ids"));
        try (CausalLM m = load(name, b, q)) {
            double d = Fixtures.incrementalMaxDiff(m, ids, reference(name, file(q)));
            assertTrue(d <= 1e-4, target + " " + name + " " + q + ": max |Δlogit| = " + d);
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void greedyContinuationMatchesHuggingFace(String target, String name, WeightDtype q) throws Exception {
        Backend b = backends.backend(target);
        Map<String, Object> exp = Fixtures.expected(name);
        Map<String, Object> quant = dev.rast.engine.json.Json.parseObject(
                java.nio.file.Files.readAllBytes(Fixtures.reference(name).resolve("quant.json")), name + "/quant.json");
        try (CausalLM m = load(name, b, q)) {
            int[] got = Lockstep.generator(m).greedy(Fixtures.ints(exp.get("greedy_prompt")), 12, Set.of(), null);
            assertArrayEquals(Fixtures.ints(quant.get(q.name().toLowerCase(java.util.Locale.ROOT) + "_greedy")), got, target + " " + name + " " + q);
        }
    }

    /**
     * A decode step reads llama.cpp's bytes: every matrix [N, K] as N · ⌈K/32⌉ blocks of 34 (Q8_0) or 18 (Q4_0)
     * bytes, norms (and biases) as stored; counted here from the checkpoint's shapes.
     */
    @Test
    void bytesPerStepCountTheBlocks() throws Exception {
        String name = "qwen2-bf16-tied-sharded";  // K = 120 and 232: padded last blocks; tied: the head is the table
        var c = dev.rast.engine.config.ModelConfig.load(Fixtures.reference(name));
        long H = c.hiddenSize(), I = c.intermediateSize(), q = c.qDim(), kv = c.kvDim(), V = c.vocabSize();
        for (WeightDtype w : new WeightDtype[] {WeightDtype.Q8_0, WeightDtype.Q4_0}) {
            long block = w == WeightDtype.Q8_0 ? 34 : 18;
            long kb = (H + 31) / 32, ib = (I + 31) / 32;  // blocks per row for K = H and K = I
            long perLayer = (q + 2 * kv) * kb * block + H * ((q + 31) / 32) * block  // q, k, v; o (K = q)
                    + 2 * I * kb * block + H * ib * block                            // gate, up; down (K = I)
                    + 2 * (q + 2 * kv) + 2 * 2 * H;                                  // BF16 biases, two BF16 norms
            long want = c.numLayers() * perLayer + 2 * H + V * kb * block;          // final norm, LM head
            try (CausalLM m = load(name, backends.cpu, w)) {
                assertEquals(want, m.weightBytes(), w.toString());
            }
        }
    }

    /** The CUDA backend refuses quantized weights in one line, before anything is computed (a GPU or its emulator). */
    @ParameterizedTest
    @MethodSource("gpuTargets")
    void theCudaBackendRefusesQuantizedWeights(String target) {
        Backend gpu = backends.backend(target);  // skips the test where the target cannot run
        var e = assertThrows(BadInputException.class, () -> Models.load(Fixtures.reference("qwen2-f32"), gpu, WeightDtype.Q8_0));
        assertEquals("--dtype q8_0: quantized weights run on the CPU only (--device cpu); on a GPU use --dtype auto, bf16 or f32", e.getMessage());
    }

    static Stream<String> gpuTargets() { return GpuTargets.targets().stream(); }

    /** {@code rast forward --dtype q8_0 / q4_0} gives the quantized reference. */
    @Test
    void theCommandLineOptionQuantizes() throws Exception {
        String name = "llama3-f32", dir = Fixtures.reference(name).toString();
        int[] ids = Fixtures.ints(Fixtures.expected(name).get("input_ids"));
        String tokens = Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(","));
        for (WeightDtype q : new WeightDtype[] {WeightDtype.Q8_0, WeightDtype.Q4_0}) {
            List<String> args = new ArrayList<>(List.of("forward", "--model", dir, "--tokens", tokens, "--device", "cpu",
                    "--kv-cache-dtype", "f32", "--dtype", q.name().toLowerCase(java.util.Locale.ROOT)));
            Cli.Result r = Cli.rast(args.toArray(String[]::new));
            assertEquals(0, r.status(), r.stderr());
            float[] got = forwardLogits(r.stdout()), want = reference(name, file(q));
            assertTrue(maxDiff(got, want) <= 1e-4, q + ": max |Δlogit| " + maxDiff(got, want));
        }
    }
}
