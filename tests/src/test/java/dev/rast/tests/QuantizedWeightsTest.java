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
 * applied by torch (scripts/oracle/make_quant_reference.py: llama.cpp's Q8_0 and Q4_0 rules, written in torch from
 * ggml-quants.c, applied to every matrix and, as Q8_0, to every matrix product's input; then the model in float64), on
 * the CPU backend and the reference backend.
 *
 * <p>The math of one product is pinned exactly by {@link #oneProductMatchesTorch}: its quantized x is bit for bit
 * torch's (same F32 input, same rule), and what is left is the F32 sum over blocks, within 1e-5.
 *
 * <p>Tolerance of the whole model: quantizing x makes the forward pass discontinuous. x reaches a product after F32
 * arithmetic in rast and float64 in torch; where {@code x · (1/d)} lies within that difference of a half-integer, the
 * two round it to neighbouring int8 values, which moves that product's output by {@code d · |w|}, and later layers (and
 * later positions, through the cache) carry the change on and cross further boundaries. So instead of ReferenceModelTest's
 * 1e-4, the logits are held to bounds measured with margin (max |Δlogit| 0.08 for Q8_0, 0.26 for Q4_0; mean |Δ| at most
 * 0.22× the quantization's own mean effect): 0.15 / 0.4 max and 0.35× mean. Most Q8_0 positions still agree within 1e-6.
 * The test must see the quantization: the unquantized model is more than 1e-2 away at the 99th percentile (0.15 to 0.2
 * for Q8_0, 1.8 to 2.2 for Q4_0). The greedy continuation is HF's for Q8_0 (a flip moves its logits less than its
 * smallest top-2 margins, deterministic on these inputs); Q4_0's flips move logits by more than its margins, so its
 * greedy ids are not compared.
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

    /** The largest |Δlogit| a quantized forward may show against torch's (see the class comment). */
    static double maxBound(WeightDtype q) { return q == WeightDtype.Q8_0 ? 0.15 : 0.4; }

    static double meanDiff(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
        return s / a.length;
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
            assertTrue(maxDiff(got, want) <= maxBound(q), target + " " + name + " " + q + ": max |Δlogit| = " + maxDiff(got, want));
            assertTrue(meanDiff(got, want) <= 0.35 * meanDiff(plain, want), target + " " + name + " " + q + ": mean |Δlogit| "
                    + meanDiff(got, want) + " against the quantization's " + meanDiff(plain, want));
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
            assertTrue(d <= maxBound(q), target + " " + name + " " + q + ": max |Δlogit| = " + d);
        }
    }

    static Stream<Arguments> q8Cases() { return cases().filter(a -> a.get()[2] == WeightDtype.Q8_0); }

    @ParameterizedTest
    @MethodSource("q8Cases")
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
            assertTrue(maxDiff(got, want) <= maxBound(q), q + ": max |Δlogit| " + maxDiff(got, want));
        }
    }

    /**
     * One product alone (quant_matmul.safetensors: x [5, 200], w [37, 200]): the prompt (GEMM) and each token alone
     * (matrix-vector) against torch's {@code q8_0(x) @ q(w)ᵀ} in float64. Both sides quantize the same F32 x by the
     * same rule, so the integers agree exactly and only rast's F32 sum over 7 blocks differs: within 1e-5 (outputs are
     * about 1). The product with x unquantized is more than 1e-3 away (the script: 0.02), so the test sees x's
     * quantization.
     */
    @ParameterizedTest
    @MethodSource("productCases")
    void oneProductMatchesTorch(String target, WeightDtype q) throws Exception {
        Backend b = backends.backend(target);
        DType dt = q == WeightDtype.Q8_0 ? DType.Q8_0 : DType.Q4_0;
        try (SafeTensorsFile f = SafeTensorsFile.open(Fixtures.reference("qwen2-f32").getParent().resolve("quant_matmul.safetensors"));
             java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
            float[] x = f.tensor("x").data().toArray(ValueLayout.JAVA_FLOAT), w = f.tensor("w").data().toArray(ValueLayout.JAVA_FLOAT);
            float[] want = f.tensor(q.name().toLowerCase(java.util.Locale.ROOT)).data().toArray(ValueLayout.JAVA_FLOAT);
            float[] unquantizedX = f.tensor("weights_only").data().toArray(ValueLayout.JAVA_FLOAT);
            int T = 5, K = 200, N = 37;
            MemorySegment blocks = arena.allocate(N * dt.rowBytes(K));
            for (int n = 0; n < N; n++)
                dev.rast.engine.tensor.QuantBlocks.quantizeRow(Arrays.copyOfRange(w, n * K, (n + 1) * K), K, dt, blocks, n * dt.rowBytes(K));
            dev.rast.engine.tensor.Tensor wt = b.weight(new dev.rast.engine.tensor.Tensor(dt, new int[] {N, K}, blocks));
            dev.rast.engine.tensor.Tensor xt = b.allocate(DType.F32, T, K), all = b.allocate(DType.F32, T, N), one = b.allocate(DType.F32, 1, N);
            b.upload(MemorySegment.ofArray(x), xt);
            b.matmul(xt, wt, all);
            float[] got = new float[T * N], row = new float[N];
            b.download(all, MemorySegment.ofArray(got));
            assertTrue(maxDiff(got, want) <= 1e-5, target + " " + q + " prompt: max |Δ| " + maxDiff(got, want));
            for (int t = 0; t < T; t++) {
                b.matmul(xt.rows(t, 1), wt, one);
                b.download(one, MemorySegment.ofArray(row));
                float[] wantRow = Arrays.copyOfRange(want, t * N, (t + 1) * N);
                assertTrue(maxDiff(row, wantRow) <= 1e-5, target + " " + q + " token " + t + ": max |Δ| " + maxDiff(row, wantRow));
            }
            if (q == WeightDtype.Q4_0) assertTrue(maxDiff(want, unquantizedX) > 1e-3, "x's quantization moves the product");
            for (dev.rast.engine.tensor.Tensor t : new dev.rast.engine.tensor.Tensor[] {xt, all, one}) b.free(t);
        }
    }

    static Stream<Arguments> productCases() {
        return Stream.of("cpu", "reference").flatMap(t -> Stream.of(WeightDtype.Q8_0, WeightDtype.Q4_0).map(q -> Arguments.of(t, q)));
    }
}
