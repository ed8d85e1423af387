package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.backend.PagedKv;
import dev.rast.engine.generate.Sequences.Work;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.Models;
import dev.rast.engine.sample.SamplingParams;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import dev.rast.engine.weights.WeightDtype;
import dev.rast.kernels.cuda.CudaBackend;
import dev.rast.kernels.cuda.EmulatedDevice;
import dev.rast.kernels.cuda.Kernel;
import dev.rast.kernels.cuda.TestBackends;
import dev.rast.run.Lockstep;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The kernel launches of one batched decode step on the CUDA backend (emulator: it counts them), with the fused ops
 * (CudaBackend's addRmsNorm, biasRope) against the same step through {@link Unfused}, the same backend with Backend's
 * default fused ops (the plain ops, one launch each): the rast-trio's M (Qwen2: q/k/v biases; 3 layers) decoding 4
 * sequences. Per layer the plain ops launch rmsNorm, 3 addBias, 2 rope_rows, add, rmsNorm, silu_mul and add (10); the
 * fused ones bias_rope, add_rms_norm, silu_mul and add_rms_norm (4; the last layer's second is a plain add, and one
 * rmsNorm runs before layer 0). silu_mul stays: these F32 matrices take the matvec kernel, not the stacked split-bf16
 * GEMMs whose halves silu_mul_halves reads (CudaFusedOpsTest).
 * The logits must agree: the fused kernels do the same F32 operations in the same order (within 1e-5: a GPU's nvcc
 * may contract a multiply-add differently in the two kernels).
 *
 * <p>And the device logits rows (rast's Lockstep with device rows, M and one pair): a step scatters each model's rows
 * into their slots in one launch and a choice gathers every model's rows in one more, with no per-sequence copy.
 */
class FusedDecodeLaunchesTest {
    @RegisterExtension static final TestBackends backends = new TestBackends();

    static Path trio(String name) { return Fixtures.reference("rast-trio/" + name); }

    static final int SEQUENCES = 4;

    @Test
    void aDecodeStepLaunchesFewerKernelsWithTheFusedOps() {
        CudaBackend gpu = backends.gpu("emulator");
        EmulatedDevice emu = (EmulatedDevice) gpu.device();
        int layers;
        float[][] fused, plain;
        int[] fusedCount = new int[1], plainCount = new int[1];
        try (CausalLM m = Models.load(trio("M"), gpu)) {
            layers = m.config().numLayers();
            fused = decodeStep(m, emu, fusedCount);
        }
        try (CausalLM m = Models.load(trio("M"), new Unfused(gpu))) {
            plain = decodeStep(m, emu, plainCount);
        }
        System.out.printf("decode step of %d sequences, %d layers: %d launches with the plain ops, %d fused%n",
                SEQUENCES, layers, plainCount[0], fusedCount[0]);
        assertEquals(plainCount[0] - (10 - 4) * layers + 1, fusedCount[0],
                "10 element-wise launches a layer become 4, and one rmsNorm runs before layer 0");
        for (int s = 0; s < SEQUENCES; s++)
            for (int v = 0; v < plain[s].length; v++)
                assertTrue(Math.abs(plain[s][v] - fused[s][v]) <= 1e-5 * Math.max(1, Math.abs(plain[s][v])),
                        "sequence " + s + " id " + v + ": plain " + plain[s][v] + ", fused " + fused[s][v]);
    }

    /**
     * A 12-token prompt through the trio's M in BF16 (--dtype bf16): 12 rows take the stacked split-bf16 GEMMs, so
     * gate and up's halves go straight into silu_mul_halves. Per layer the plain ops launch the 10 element-wise
     * kernels above and gate and up's 2 sum_halves (12); the fused ones bias_rope, 2 add_rms_norm and silu_mul_halves
     * (4). The logits agree within 1e-5 as above.
     */
    @Test
    void aPromptChunkWithBf16WeightsAlsoFusesTheMlp() {
        CudaBackend gpu = backends.gpu("emulator");
        EmulatedDevice emu = (EmulatedDevice) gpu.device();
        int[] prompt = {1, 17, 300, 42, 5, 6, 7, 8, 9, 10, 11, 12};
        int layers, fusedCount, plainCount, halves;
        float[] fused, plain;
        try (CausalLM m = Models.load(trio("M"), gpu, WeightDtype.BF16); Lockstep ls = new Lockstep(List.of(m))) {
            layers = m.config().numLayers();
            int s = ls.open(32, 1), before = emu.launches(), h = emu.launches(Kernel.SILU_MUL_HALVES);
            ls.step(List.of(new Work(s, prompt, true)));
            fusedCount = emu.launches() - before;
            halves = emu.launches(Kernel.SILU_MUL_HALVES) - h;
            fused = ls.logits(s)[0].clone();
        }
        try (CausalLM m = Models.load(trio("M"), new Unfused(gpu), WeightDtype.BF16); Lockstep ls = new Lockstep(List.of(m))) {
            int s = ls.open(32, 1), before = emu.launches();
            ls.step(List.of(new Work(s, prompt, true)));
            plainCount = emu.launches() - before;
            plain = ls.logits(s)[0].clone();
        }
        System.out.printf("prompt of %d tokens, BF16 weights, %d layers: %d launches with the plain ops, %d fused%n",
                prompt.length, layers, plainCount, fusedCount);
        assertEquals(layers, halves, "one silu_mul_halves a layer");
        assertEquals(plainCount - (12 - 4) * layers + 1, fusedCount, "12 element-wise launches a layer become 4, and one rmsNorm before layer 0");
        for (int v = 0; v < plain.length; v++)
            assertTrue(Math.abs(plain[v] - fused[v]) <= 1e-5 * Math.max(1, Math.abs(plain[v])), "id " + v + ": plain " + plain[v] + ", fused " + fused[v]);
    }

    /** Prefills a prompt, forks it, and returns each sequence's logits after one decode step; counts its launches. */
    static float[][] decodeStep(CausalLM m, EmulatedDevice emu, int[] launches) {
        try (Lockstep ls = new Lockstep(List.of(m))) {
            int first = ls.open(32, 1);
            ls.step(List.of(new Work(first, new int[] {1, 17, 300, 42, 5}, true)));
            List<Work> step = new ArrayList<>();
            step.add(new Work(first, new int[] {7}, true));
            for (int s = 1; s < SEQUENCES; s++) step.add(new Work(ls.fork(first), new int[] {7 + s}, true));
            int before = emu.launches();
            ls.step(step);
            launches[0] = emu.launches() - before;
            float[][] rows = new float[SEQUENCES][];
            for (int s = 0; s < SEQUENCES; s++) rows[s] = ls.logits(step.get(s).sequence())[0].clone();
            return rows;
        }
    }

    @Test
    void deviceRowsMoveInOneLaunchPerModelAndOneGather() {
        CudaBackend gpu = backends.gpu("emulator");
        EmulatedDevice emu = (EmulatedDevice) gpu.device();
        List<CausalLM> models = new ArrayList<>();
        try {
            for (String n : new String[] {"M", "E1", "B1"}) models.add(Models.load(trio(n), gpu));
            try (Lockstep ls = new Lockstep(models, null, true)) {
                Assumptions.assumeTrue(ls.onDevice());
                int first = ls.open(32, 7);
                ls.step(List.of(new Work(first, new int[] {1, 17, 300}, true)));
                int[] seqs = new int[SEQUENCES];
                List<Work> step = new ArrayList<>();
                for (int s = 0; s < SEQUENCES; s++) {
                    seqs[s] = s == 0 ? first : ls.fork(first);
                    step.add(new Work(seqs[s], new int[] {5 + s}, true));
                }
                ls.step(step); // the forks' first writes copy the shared, partly filled prompt block (copy on write)
                step.replaceAll(w -> new Work(w.sequence(), new int[] {9}, true));
                int copies = emu.copies(), gathers = emu.launches(Kernel.GATHER_ROWS);
                ls.step(step);
                ls.choose(seqs, new float[] {0.5f}, 1000, SamplingParams.greedy(), new double[SEQUENCES], new double[SEQUENCES]);
                System.out.printf("device rows, %d sequences, 3 models: %d gather_rows launches, %d device copies%n",
                        SEQUENCES, emu.launches(Kernel.GATHER_ROWS) - gathers, emu.copies() - copies);
                assertEquals(3 + 1, emu.launches(Kernel.GATHER_ROWS) - gathers, "a scatter per model, one gather");
                assertEquals(0, emu.copies() - copies, "no per-sequence row copies");
            }
        } finally {
            for (CausalLM m : models) m.close();
        }
    }

    /** The CUDA backend with Backend's default fused ops: every other op goes to it as it is. */
    static final class Unfused implements Backend {
        private final Backend b;

        Unfused(Backend b) { this.b = b; }

        @Override public String name() { return b.name() + ", unfused"; }
        @Override public Tensor weight(Tensor host) { return b.weight(host); }
        @Override public Tensor lookupTable(Tensor host) { return b.lookupTable(host); }
        @Override public Tensor allocate(DType dtype, int... shape) { return b.allocate(dtype, shape); }
        @Override public void upload(MemorySegment src, Tensor dst) { b.upload(src, dst); }
        @Override public void download(Tensor src, MemorySegment dst) { b.download(src, dst); }
        @Override public void embed(Tensor table, int[] ids, Tensor out) { b.embed(table, ids, out); }
        @Override public void matmul(Tensor x, Tensor w, Tensor out) { b.matmul(x, w, out); }
        @Override public void matmul(Tensor x, List<Tensor> ws, List<Tensor> outs) { b.matmul(x, ws, outs); }
        @Override public void addBias(Tensor x, Tensor bias) { b.addBias(x, bias); }
        @Override public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) { b.rmsNorm(x, weight, eps, out); }
        @Override public void rope(Tensor x, int headDim, Tensor cos, Tensor sin, int startPos) { b.rope(x, headDim, cos, sin, startPos); }
        @Override public void rope(Tensor x, int headDim, Tensor cos, Tensor sin, int[] chunkRows, int[] startPos) {
            b.rope(x, headDim, cos, sin, chunkRows, startPos);
        }
        @Override public void copyRows(Tensor src, Tensor dst, int dstRow) { b.copyRows(src, dst, dstRow); }
        @Override public void storeKeysValues(Tensor k, Tensor v, PagedKv cache, int[] chunkRows, int[] startPos) {
            b.storeKeysValues(k, v, cache, chunkRows, startPos);
        }
        @Override public void attention(Tensor q, Tensor kCache, Tensor vCache, int heads, int kvHeads, int headDim, int startPos, Tensor out) {
            b.attention(q, kCache, vCache, heads, kvHeads, headDim, startPos, out);
        }
        @Override public void attention(Tensor q, PagedKv cache, int[] chunkRows, int[] startPos, int heads, int kvHeads,
                                        int headDim, Tensor out) {
            b.attention(q, cache, chunkRows, startPos, heads, kvHeads, headDim, out);
        }
        @Override public void siluMul(Tensor gate, Tensor up, Tensor out) { b.siluMul(gate, up, out); }
        @Override public void add(Tensor x, Tensor y) { b.add(x, y); }
        @Override public long freeMemoryBytes() { return b.freeMemoryBytes(); }
        @Override public void free(Tensor t) { b.free(t); }
        @Override public void close() {} // the test's backends close it
    }
}
