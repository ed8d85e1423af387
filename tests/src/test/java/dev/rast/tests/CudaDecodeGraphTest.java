package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.generate.Sequences.Work;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.Models;
import dev.rast.kernels.cuda.CudaBackend;
import dev.rast.kernels.cuda.EmulatedDevice;
import dev.rast.kernels.cuda.GpuTargets;
import dev.rast.kernels.cuda.TestBackends;
import dev.rast.run.Lockstep;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Decode steps through CUDA graphs (CudaBackend's DecodeGraphs) against the same steps run eagerly on the same
 * backend: the rast-trio's M (Qwen2, 3 layers) prefills a 13-token prompt, forks it into B sequences that share the
 * prompt's blocks, and decodes 6 steps (positions 13..18: every sequence takes a new block at 16, and the forks'
 * first writes copy the shared, partly filled block). The logits of every sequence at every step must be equal bit
 * for bit: a replay runs the same kernels, in the same order, with the same arguments, reading this step's
 * positions and block tables from device memory. On the emulator, a replayed step also shows that the layer stack
 * issued no kernel launch of its own, only one graph launch.
 */
class CudaDecodeGraphTest {
    @RegisterExtension static final TestBackends backends = new TestBackends();

    static final int PROMPT = 13, STEPS = 6;

    static Stream<Arguments> cases() {
        List<Arguments> a = new ArrayList<>();
        for (String target : GpuTargets.targets())
            for (int b : new int[] {1, 3, 8}) a.add(Arguments.of(target, b));
        return a.stream();
    }

    static Path trio(String name) { return Fixtures.reference("rast-trio/" + name); }

    /** Each step's logits rows [step][sequence]; with graphs, checks each replayed step's launches on the emulator. */
    static float[][][] decode(CudaBackend gpu, int batch, boolean graphs) {
        gpu.decodeGraphs(graphs);
        EmulatedDevice emu = gpu.device() instanceof EmulatedDevice e ? e : null;
        float[][][] out = new float[STEPS][batch][];
        try (CausalLM m = Models.load(trio("M"), gpu); Lockstep ls = new Lockstep(List.of(m))) {
            int layers = m.config().numLayers();
            int first = ls.open(64, 1);
            int[] prompt = new int[PROMPT];
            for (int i = 0; i < PROMPT; i++) prompt[i] = 3 + 7 * i;
            ls.step(List.of(new Work(first, prompt, true)));
            int[] seqs = new int[batch];
            for (int s = 0; s < batch; s++) seqs[s] = s == 0 ? first : ls.fork(first);
            for (int step = 0; step < STEPS; step++) {
                List<Work> work = new ArrayList<>();
                for (int s = 0; s < batch; s++) work.add(new Work(seqs[s], new int[] {11 + 5 * s + 13 * step}, true));
                int replays = gpu.decodeGraphCounts().replays();
                int launches = emu == null ? 0 : emu.launches(), graphLaunches = emu == null ? 0 : emu.graphLaunches();
                ls.step(work);
                if (graphs && emu != null && gpu.decodeGraphCounts().replays() > replays) {
                    assertEquals(graphLaunches + 1, emu.graphLaunches(), "B=" + batch + " step " + step + ": one graph launch");
                    // Outside the layer stack: embed, the first rmsNorm, the final norm and the LM head (matvec).
                    assertEquals(4, emu.launches() - launches, "B=" + batch + " step " + step + ": launches outside the graph");
                } else if (!graphs && emu != null) {
                    assertTrue(emu.launches() - launches > 4 * layers, "eager steps launch every layer's kernels");
                }
                for (int s = 0; s < batch; s++) out[step][s] = ls.logits(seqs[s])[0].clone();
            }
        } finally {
            gpu.decodeGraphs(false);
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("cases")
    void decodeStepsReplayedFromGraphsEqualEagerStepsBitForBit(String target, int batch) {
        CudaBackend gpu = backends.gpu(target);
        float[][][] eager = decode(gpu, batch, false);
        var before = gpu.decodeGraphCounts();
        float[][][] graphed = decode(gpu, batch, true);
        var after = gpu.decodeGraphCounts();
        int captures = after.captures() - before.captures(), replays = after.replays() - before.replays(),
                eagerSteps = after.eager() - before.eager();
        System.out.printf("%s B=%d: %d decode steps, %d captured, %d replayed, %d eager%n", target, batch, STEPS,
                captures, replays, eagerSteps);
        assertEquals(STEPS, captures + replays + eagerSteps, "every decode step goes through the graphs");
        // Re-captures: the first step, the step the block tables grow past one block (16), and a step where a scratch
        // buffer grows or the KV pool doubles; the rest replay.
        assertTrue(replays >= 2, "at least two of " + STEPS + " steps replayed, got " + replays);
        for (int step = 0; step < STEPS; step++)
            for (int s = 0; s < batch; s++)
                assertArrayEquals(eager[step][s], graphed[step][s], target + " B=" + batch + " step " + step + " sequence " + s);
    }

    /**
     * RAST's three models (the trio's M, E1, B1) decoding in lockstep on one backend: each keeps a graph of its
     * own (a graph per model and batch size), so their alternating steps still replay, and every model's logits
     * equal the eager steps' bit for bit. Emulator only (it counts the replays; the GPU runs the test above).
     */
    @org.junit.jupiter.api.Test
    void threeModelsInLockstepEachReplayTheirOwnGraph() {
        CudaBackend gpu = backends.gpu("emulator");
        float[][][] eager = lockstep(gpu, false);
        var before = gpu.decodeGraphCounts();
        float[][][] graphed = lockstep(gpu, true);
        var after = gpu.decodeGraphCounts();
        int replays = after.replays() - before.replays();
        System.out.printf("3 models, 3 sequences, %d steps: %d captured, %d replayed, %d eager%n", STEPS,
                after.captures() - before.captures(), replays, after.eager() - before.eager());
        assertTrue(replays >= 3 * 2, "each model replays at least twice, got " + replays + " replays in all");
        for (int step = 0; step < STEPS; step++)
            for (int m = 0; m < 3; m++)
                for (int s = 0; s < 3; s++)
                    assertArrayEquals(eager[step][m * 3 + s], graphed[step][m * 3 + s], "step " + step + " model " + m + " sequence " + s);
    }

    /** Each step's logits rows [step][model·3 + sequence] of 3 forked sequences through M, E1 and B1. */
    static float[][][] lockstep(CudaBackend gpu, boolean graphs) {
        gpu.decodeGraphs(graphs);
        float[][][] out = new float[STEPS][9][];
        List<CausalLM> models = new ArrayList<>();
        try {
            for (String n : new String[] {"M", "E1", "B1"}) models.add(Models.load(trio(n), gpu));
            try (Lockstep ls = new Lockstep(models)) {
                int first = ls.open(64, 7);
                int[] prompt = new int[PROMPT];
                for (int i = 0; i < PROMPT; i++) prompt[i] = 2 + 5 * i;
                ls.step(List.of(new Work(first, prompt, true)));
                int[] seqs = {first, ls.fork(first), ls.fork(first)};
                for (int step = 0; step < STEPS; step++) {
                    List<Work> work = new ArrayList<>();
                    for (int s = 0; s < 3; s++) work.add(new Work(seqs[s], new int[] {20 + 3 * s + 7 * step}, true));
                    ls.step(work);
                    for (int s = 0; s < 3; s++) {
                        float[][] rows = ls.logits(seqs[s]);
                        for (int m = 0; m < 3; m++) out[step][m * 3 + s] = rows[m].clone();
                    }
                }
            }
        } finally {
            for (CausalLM m : models) m.close();
            gpu.decodeGraphs(false);
        }
        return out;
    }
}
