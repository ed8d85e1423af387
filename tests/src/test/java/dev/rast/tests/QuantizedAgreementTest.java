package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.weights.WeightDtype;
import dev.rast.kernels.cpu.CpuBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Q8_0 and Q4_0 against the same model as stored ({@link QuantAgreement}): 2,040 teacher-forced positions (8 random
 * sequences of 256 tokens) and 8 greedy continuations of 32 tokens, on each reference model. Tiny random models are a
 * weak test of quantization (their logits are close together, so small moves flip the argmax); what holds whatever
 * the model: Q4_0's step is 127/8 ≈ 16× Q8_0's, so its weight error variance ~250× and its KL (second order in the
 * logit error) ~250× Q8_0's: asserted above 30× (the rounding rule and the nibble order would both break it). And
 * Q8_0's KL stays small: its weight error (step/√12 ≈ 0.2% of a block's largest weight) moves logits by ~0.1 here
 * (make_quant_reference.py), a KL of order 0.1²/2 per position: asserted below 0.01, where Q4_0 is above it.
 */
class QuantizedAgreementTest {
    @ParameterizedTest
    @ValueSource(strings = {"qwen2-f32", "llama3-f32", "qwen2-bf16-tied-sharded", "llama3-bf16-tied"})
    void q4MovesTheModelAboutTheSquareOfItsStepMoreThanQ8(String name) {
        try (CpuBackend cpu = new CpuBackend(2)) {
            var q8 = QuantAgreement.measure(Fixtures.reference(name), cpu, WeightDtype.Q8_0, 8, 256, 8, 32, 42);
            var q4 = QuantAgreement.measure(Fixtures.reference(name), cpu, WeightDtype.Q4_0, 8, 256, 8, 32, 42);
            System.out.println(name + " " + q8 + "\n" + name + " " + q4);
            assertTrue(q8.meanKl() < 0.01, name + " " + q8);
            assertTrue(q4.meanKl() > 30 * q8.meanKl(), name + " " + q4 + " vs " + q8);
            assertTrue(q8.top1() > q4.top1(), name + " " + q4 + " vs " + q8);
        }
    }
}
