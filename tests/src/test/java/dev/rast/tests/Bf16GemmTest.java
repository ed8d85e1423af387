package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.model.CausalLM;
import dev.rast.engine.weights.SafeTensorsFile;
import dev.rast.kernels.cuda.CudaBackend;
import dev.rast.kernels.cuda.GpuTargets;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CUDA backend's bf16 GEMM path ({@code -Drast.cuda.gemm=bf16}: activations rounded to BF16 into one bf16 GEMM,
 * F32 accumulation, as PyTorch and vLLM run BF16 models) against its exact path (x split into two BF16 halves) and
 * Hugging Face's F32 logits, on the BF16 reference fixtures' 11-token prefill (T > 8: every matmul is a GEMM).
 *
 * <p>Tolerance, relative to the largest |HF logit| L (≈ 6 on both fixtures, rms ≈ 1.3): rounding x to BF16 has
 * relative error ≤ 2⁻⁹ ≈ 0.2% per element before every GEMM of every layer, and the errors compound through the
 * residual stream and the norms; measured on the emulator: max |Δ| = 1.0% of L (Qwen2, 20×999 logits) and 2.1% of
 * L (Llama, 48×1001). 4% of L allows about twice that, and still fails a wrong GEMM (a wrong transposition or a
 * dropped half is off by the logits' own size, ~100% of L). The bf16 path must also differ from the exact one
 * (max |Δ| > 1e-5), or the switch would not be taking effect. The exact path stays within 2e-2 of HF (as in
 * CudaReferenceModelTest).
 */
class Bf16GemmTest {
    static final double BF16_TOLERANCE = 0.04;

    static Stream<Arguments> cases() {
        return GpuTargets.targets().stream().flatMap(t -> Stream.of("qwen2-bf16-tied-sharded", "llama3-bf16-tied").map(m -> Arguments.of(t, m)));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void bf16GemmLogitsAreWithinBf16ToleranceOfTheExactPath(String target, String name) throws Exception {
        Map<String, Object> exp = Fixtures.expected(name);
        int[] ids = Fixtures.ints(exp.get("input_ids"));
        try (CudaBackend exactBackend = new CudaBackend(GpuTargets.device(target), false);
             CudaBackend fastBackend = new CudaBackend(GpuTargets.device(target), true);
             CausalLM exact = Fixtures.load(name, exactBackend); CausalLM fast = Fixtures.load(name, fastBackend);
             SafeTensorsFile ref = SafeTensorsFile.open(Fixtures.reference(name).resolve("logits.safetensors"))) {
            float[] hf = ref.tensor("logits").data().toArray(ValueLayout.JAVA_FLOAT);
            float[] e = CudaReferenceModelTest.logits(exact, ids), f = CudaReferenceModelTest.logits(fast, ids);
            double fastVsExact = CudaReferenceModelTest.maxDiff(f, e), fastVsHf = CudaReferenceModelTest.maxDiff(f, hf),
                    exactVsHf = CudaReferenceModelTest.maxDiff(e, hf);
            double scale = 0;
            for (float v : hf) scale = Math.max(scale, Math.abs(v));
            String what = target + " " + name + ": max |Δlogit| bf16 vs exact " + fastVsExact + ", bf16 vs HF " + fastVsHf
                    + ", exact vs HF " + exactVsHf + ", largest |HF logit| " + scale;
            assertTrue(exactVsHf <= 2e-2, what);
            assertTrue(fastVsExact <= BF16_TOLERANCE * scale && fastVsHf <= BF16_TOLERANCE * scale, what);
            assertTrue(fastVsExact > 1e-5, what + ": the bf16 path gives the exact path's logits");
        }
    }
}
