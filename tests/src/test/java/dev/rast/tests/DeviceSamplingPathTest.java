package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.sample.SamplingParams;
import dev.rast.kernels.cuda.CudaBackend;
import dev.rast.kernels.cuda.GpuTargets;
import dev.rast.kernels.cuda.TestBackends;
import dev.rast.run.ModelSet;
import dev.rast.run.Sample;
import dev.rast.run.SampleRunner;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The product path with the models on the CUDA backend (a real GPU, or the emulator of its kernels): fusion and
 * sampling on the device (rows stay there, only ids and log-probabilities come back) give the samples the host path
 * gives on the same backend and seeds (rows downloaded, RastFusion, Sampler), as {@code rast generate} makes them:
 * several prompts, n samples forked from each prefill, continuous batching, RAST pairs whose vocabulary (1000) is
 * shorter than M's (1024).
 *
 * <p>Tokens must be equal: both paths draw the same {@code nextDouble()} per token from the same generator, and
 * differ only in F32 (device) against double (host) sums of the same weights, which could change a choice only
 * when the draw or a top-p boundary lies within ~1e-6 relative of a cumulative sum (with 1000 ids and ~20 draws a
 * case, ~1e-4 per run; the fixed seeds here are checked to be clear of that). Log-probabilities within 1e-4: the
 * device's log-sum-exp is summed in F32 over ≤ 1024 terms (error ≤ ~1e-6·log scale), the host's in double.
 */
class DeviceSamplingPathTest {
    @RegisterExtension static final TestBackends backends = new TestBackends();

    static Path trio(String name) { return Fixtures.reference("rast-trio/" + name); }

    static final List<SamplingParams> SETTINGS = List.of(
            SamplingParams.greedy(),
            new SamplingParams(1.0, 0, 1.0, 0, 7),      // plain T = 1
            new SamplingParams(1.0, 0, 0.95, 0, 8),     // top-p 0.95
            new SamplingParams(0.8, 5, 1.0, 0, 9),      // top-k 5 at T = 0.8
            new SamplingParams(1.2, 0, 1.0, 0.1, 10));  // min-p 0.1 at T = 1.2

    /** A RAST pair for every setting; M alone (no fusion kernel) for greedy and top-p. Several pairs: CudaKernelsTest. */
    static final List<ModelSet.Pair> PAIR = List.of(new ModelSet.Pair(trio("E1"), trio("B1"), 0.5f));

    static Stream<Arguments> cases() {
        return GpuTargets.targets().stream().flatMap(t -> Stream.concat(
                SETTINGS.stream().map(s -> Arguments.of(t, s, PAIR)),
                Stream.of(SETTINGS.get(0), SETTINGS.get(2)).map(s -> Arguments.of(t, s, List.of()))));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void deviceSamplingGivesTheHostPathsSamples(String target, SamplingParams params, List<ModelSet.Pair> pairs) {
        CudaBackend gpu = backends.gpu(target);
        List<int[]> prompts = List.of(new int[] {1, 17, 300, 42, 5}, new int[] {9, 8, 7});
        int[][] wanted = {{0, 1, 2}, {0, 1}};
        long[] seeds = {params.seed(), params.seed() + 1};
        int tokens = 8;
        try (ModelSet set = ModelSet.load(trio("M"), pairs, null, false, gpu)) {
            SampleRunner device = new SampleRunner(set, params, tokens, List.of(), true);
            SampleRunner host = new SampleRunner(set, params, tokens, List.of(), true).hostSampling(true);
            assertTrue(device.samplesOnDevice(), "the CUDA backend samples on the device by default");
            assertFalse(host.samplesOnDevice(), "hostSampling(true) forces the host path");
            Sample[][] onDevice = run(device, prompts, wanted, seeds), onHost = run(host, prompts, wanted, seeds);
            for (int p = 0; p < prompts.size(); p++)
                for (int s : wanted[p]) {
                    String what = target + " " + params + " " + pairs.size() + " pairs, prompt " + p + " sample " + s;
                    assertNotNull(onDevice[p][s], what);
                    assertEquals(tokens, onHost[p][s].tokens().length, what + ": EOS is ignored, every sample is full length");
                    assertArrayEquals(onHost[p][s].tokens(), onDevice[p][s].tokens(), what);
                    assertArrayEquals(onHost[p][s].logprobs(), onDevice[p][s].logprobs(), 1e-4, what);
                }
            if (!params.isGreedy()) // the draws matter: samples of one prompt differ (else equal tokens would prove little)
                assertFalse(java.util.Arrays.equals(onHost[0][0].tokens(), onHost[0][1].tokens()), "samples 0 and 1 differ");
        }
    }

    /**
     * NaN weights (M's final norm) make NaN logits on the device too: the run is refused naming the model, as on the
     * host path (HostileInputTest), not sampled from.
     */
    @ParameterizedTest
    @MethodSource("dev.rast.kernels.cuda.GpuTargets#targets")
    void nanLogitsOnTheDeviceNameTheModel(String target, @org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        CudaBackend gpu = backends.gpu(target);
        Path m = tmp.resolve("M");
        java.nio.file.Files.createDirectories(m);
        for (String f : new String[] {"config.json", "model.safetensors"}) java.nio.file.Files.copy(trio("M").resolve(f), m.resolve(f));
        Path st = m.resolve("model.safetensors");
        dev.rast.engine.weights.TensorInfo info;
        try (var file = dev.rast.engine.weights.SafeTensorsFile.open(st)) {
            info = file.tensors().get("model.norm.weight");
        }
        byte[] bytes = java.nio.file.Files.readAllBytes(st);
        long dataStart = 8 + java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        // All bits set is a NaN in F32 and in BF16 alike.
        java.util.Arrays.fill(bytes, (int) (dataStart + info.begin()), (int) (dataStart + info.end()), (byte) 0xFF);
        java.nio.file.Files.write(st, bytes);
        for (SamplingParams params : List.of(SETTINGS.get(0), SETTINGS.get(1))) {
            try (ModelSet set = ModelSet.load(m, List.of(), null, false, gpu)) {
                SampleRunner r = new SampleRunner(set, params, 4, List.of(), true);
                assertTrue(r.samplesOnDevice());
                var e = org.junit.jupiter.api.Assertions.assertThrows(dev.rast.engine.BadInputException.class,
                        () -> r.run(new int[] {1, 2, 3}, 1, 5, null, null));
                assertTrue(e.getMessage().contains(m.toString()) && e.getMessage().contains("the model's logits are not finite"), e.getMessage());
            }
        }
    }

    /** Batch of 2 (smaller than the 5 samples), so sequences leave and join between steps. */
    static Sample[][] run(SampleRunner r, List<int[]> prompts, int[][] wanted, long[] seeds) {
        Sample[][] out = new Sample[prompts.size()][3];
        r.runAll(prompts, wanted, seeds, 2, null, null, (p, s, sample) -> out[p][s] = sample);
        return out;
    }
}
