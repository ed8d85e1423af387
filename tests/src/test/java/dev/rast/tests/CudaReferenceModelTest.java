package dev.rast.tests;

import dev.rast.run.Lockstep;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.generate.Generator;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.KvCache;
import dev.rast.engine.model.Models;
import dev.rast.engine.tensor.Tensor;
import dev.rast.engine.weights.SafeTensorsFile;
import dev.rast.kernels.cpu.CpuBackend;
import dev.rast.kernels.cuda.CudaBackend;
import dev.rast.kernels.cuda.DeviceSampling;
import dev.rast.kernels.cuda.GpuTargets;
import dev.rast.kernels.cuda.TestBackends;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CUDA backend on whole models: the tiny Hugging Face reference fixtures (see ReferenceModelTest) with the same
 * tolerances as the CPU backend (1e-4 for f32 weights, 2e-2 for bf16), also against the CPU backend's logits, the
 * same greedy continuations, and RAST-fused greedy decoding (fusion and argmax on the device) equal to the CPU
 * backend's. Runs on a real GPU ("cuda") and on the CPU emulation of the kernels ("emulator"), each skipped with the
 * reason where it cannot run.
 */
class CudaReferenceModelTest {
    @RegisterExtension static final TestBackends backends = new TestBackends();
    static final CpuBackend cpu = backends.cpu;

    static CudaBackend gpu(String target) { return backends.gpu(target); }

    static Stream<Arguments> cases() {
        return GpuTargets.targets().stream().flatMap(t -> Fixtures.MODELS.stream().map(m -> Arguments.of(t, m)));
    }

    static Stream<String> targets() { return GpuTargets.targets().stream(); }

    static float[] logits(CausalLM m, int[] ids) {
        try (KvCache cache = m.newCache(ids.length)) {
            Tensor l = m.forward(ids, cache, ids.length);
            float[] out = new float[(int) l.numel()];
            m.backend().download(l, MemorySegment.ofArray(out));
            return out;
        }
    }

    static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }

    @ParameterizedTest
    @MethodSource("cases")
    void logitsMatchHuggingFaceAndTheCpuBackend(String target, String name) throws Exception {
        CudaBackend g = gpu(target);
        Map<String, Object> exp = Fixtures.expected(name);
        int[] ids = Fixtures.ints(exp.get("input_ids"));
        double tol = exp.get("dtype").equals("float32") ? 1e-4 : 2e-2;
        try (CausalLM mg = Fixtures.load(name, g); CausalLM mc = Fixtures.load(name, cpu);
             SafeTensorsFile ref = SafeTensorsFile.open(Fixtures.reference(name).resolve("logits.safetensors"))) {
            float[] hf = ref.tensor("logits").data().toArray(ValueLayout.JAVA_FLOAT);
            float[] got = logits(mg, ids), onCpu = logits(mc, ids);
            assertTrue(maxDiff(got, hf) <= tol, target + " " + name + ": max |Δlogit| vs HF = " + maxDiff(got, hf));
            assertTrue(maxDiff(got, onCpu) <= tol, target + " " + name + ": max |Δlogit| vs CPU = " + maxDiff(got, onCpu));

            // Prefill 11 tokens, then one at a time through the KV cache (decode kernels): the same logits.
            double d = Fixtures.incrementalMaxDiff(mg, ids, hf);
            assertTrue(d <= tol, target + " " + name + ": incremental max |Δlogit| = " + d);
            int[] greedy = Lockstep.generator(mg).greedy(Fixtures.ints(exp.get("greedy_prompt")), 12, Set.of(), null);
            assertArrayEquals(Fixtures.ints(exp.get("greedy_tokens")), greedy, target + " " + name + " greedy");
        }
    }

    /**
     * Batched decode steps on the device (rope, KV store and attention for all sequences in one launch each) give the
     * CPU backend's logits: 5 prompts of different lengths, 4 steps of all 5. F32 caches: 1e-4 (F32 weights, as
     * above). BF16 caches: both sides round the keys and values they computed ~1e-6 apart, so now and then one
     * value lands a BF16 step away on one side: max 2e-2 (as KvCacheBf16Test allows the device), and 99% within 5e-3.
     */
    @ParameterizedTest
    @MethodSource("targets")
    void batchedDecodeStepsMatchTheCpuBackendWithEitherCache(String target) throws Exception {
        CudaBackend g = gpu(target);
        for (var kv : List.of(dev.rast.engine.model.KvCacheDtype.F32, dev.rast.engine.model.KvCacheDtype.BF16)) {
            try (CausalLM mg = Fixtures.load("qwen2-f32", g); CausalLM mc = Fixtures.load("qwen2-f32", cpu)) {
                mg.kvCacheDtype(kv);
                mc.kvCacheDtype(kv);
                int B = 5, steps = 4, V = mg.config().vocabSize();
                KvCache[] cg = new KvCache[B], cc = new KvCache[B];
                int[] next = new int[B];
                for (int i = 0; i < B; i++) {
                    int[] prompt = new int[3 + 4 * i];
                    for (int t = 0; t < prompt.length; t++) prompt[t] = (t * 31 + 7 * i + 5) % V;
                    cg[i] = mg.newCache(prompt.length + steps);
                    cc[i] = mc.newCache(prompt.length + steps);
                    mg.forward(prompt, cg[i], 1);
                    mc.forward(prompt, cc[i], 1);
                    next[i] = (17 * i + 3) % V;
                }
                float[] lg = new float[B * V], lc = new float[B * V];
                for (int s = 0; s < steps; s++) {
                    g.download(mg.decode(next, cg), MemorySegment.ofArray(lg));
                    cpu.download(mc.decode(next, cc), MemorySegment.ofArray(lc));
                    double d = maxDiff(lg, lc);
                    if (kv == dev.rast.engine.model.KvCacheDtype.F32) assertTrue(d <= 1e-4, target + " F32 step " + s + ": " + d);
                    else {
                        double[] a = new double[lg.length];
                        for (int i = 0; i < a.length; i++) a[i] = Math.abs(lg[i] - lc[i]);
                        Arrays.sort(a);
                        assertTrue(d <= 2e-2 && a[(int) (0.99 * (a.length - 1))] <= 5e-3,
                                target + " BF16 step " + s + ": max " + d + ", 99th percentile " + a[(int) (0.99 * (a.length - 1))]);
                    }
                    for (int i = 0; i < B; i++) next[i] = (next[i] * 13 + s + 1) % V;
                }
                for (int i = 0; i < B; i++) { cg[i].close(); cc[i].close(); }
            }
        }
    }

    /**
     * Teacher forcing (the analyses' forward mode) on the device: trajectories read in passes of 3 rows (slices that
     * cut prompts, several trajectories a pass) give, at every position, the rows a whole-sequence forward on the CPU
     * gives. F32 weights on both sides: within 1e-4, as the other F32 comparisons here.
     */
    @ParameterizedTest
    @MethodSource("targets")
    void teacherForcingMatchesTheCpuBackend(String target) {
        try (CausalLM mg = Fixtures.load("qwen2-f32", gpu(target)); CausalLM mc = Fixtures.load("qwen2-f32", cpu)) {
            List<dev.rast.analysis.Trajectory> ts = List.of(
                    new dev.rast.analysis.Trajectory("a", new int[] {5, 17, 300}, new int[] {42, 7, 9, 11, 2}),
                    new dev.rast.analysis.Trajectory("b", new int[] {1}, new int[] {600, 3}));
            double[] worst = {0};
            int[] seen = {0};
            new dev.rast.analysis.TeacherForcing(List.of(mg), 3).run(ts, new dev.rast.analysis.TeacherForcing.Visitor() {
                @Override
                public void position(int t, int index, float[][] rows) {
                    dev.rast.analysis.Trajectory tr = ts.get(t);
                    int[] prefix = new int[tr.prompt().length + index];
                    System.arraycopy(tr.prompt(), 0, prefix, 0, tr.prompt().length);
                    System.arraycopy(tr.tokens(), 0, prefix, tr.prompt().length, index);
                    float[] all = logits(mc, prefix);
                    int V = mc.config().vocabSize();
                    worst[0] = Math.max(worst[0], maxDiff(rows[0], Arrays.copyOfRange(all, all.length - V, all.length)));
                    seen[0]++;
                }

                @Override
                public void finished(int t) {}
            });
            assertEquals(7, seen[0], target + ": every position visited once");
            assertTrue(worst[0] <= 1e-4, target + ": max |Δ| " + worst[0]);
        }
    }

    /**
     * A decode step of B sequences launches a number of kernels that does not grow with B (rope, the KV store and
     * attention go in one launch each for up to 64 sequences, not one per sequence): 8 sequences take as many
     * launches as 4. Counted on the emulator, which numbers its launches; F32 and BF16 caches.
     */
    @org.junit.jupiter.api.Test
    void aDecodeStepLaunchesAsManyKernelsForEightSequencesAsForFour() throws Exception {
        CudaBackend g = gpu("emulator");
        var emu = (dev.rast.kernels.cuda.EmulatedDevice) g.device();
        for (var kv : dev.rast.engine.model.KvCacheDtype.values()) {
            if (kv == dev.rast.engine.model.KvCacheDtype.AUTO) continue;
            try (CausalLM m = Fixtures.load("qwen2-f32", g)) {
                m.kvCacheDtype(kv);
                int[] launches = new int[2];
                for (int run = 0; run < 2; run++) {
                    int B = run == 0 ? 4 : 8;
                    KvCache[] caches = new KvCache[B];
                    int[] next = new int[B];
                    for (int i = 0; i < B; i++) {
                        caches[i] = m.newCache(16);
                        m.forward(new int[] {3 + i, 7, 11 + i}, caches[i], 1); // different prompts, same length
                        next[i] = 20 + i;
                    }
                    int before = emu.launches();
                    m.decode(next, caches);
                    launches[run] = emu.launches() - before;
                    for (KvCache c : caches) c.close();
                }
                assertEquals(launches[0], launches[1], kv + ": launches of a decode step of 4 and of 8 sequences");
            }
        }
    }

    /**
     * What the CPU tests check of KV caches and batching, on the device: a cache growing past its first 256 rows
     * (its rows copied on the device) gives the CPU backend's logits at every step (1e-4, F32 weights), and greedy
     * samples of two prompts through one continuous batch of 3 equal the CPU backend's.
     */
    @ParameterizedTest
    @MethodSource("targets")
    void growingCachesAndContinuousBatchingMatchTheCpuBackend(String target) throws Exception {
        CudaBackend g = gpu(target);
        String name = "qwen2-f32";
        try (CausalLM mg = Fixtures.load(name, g); CausalLM mc = Fixtures.load(name, cpu);
             KvCache cg = mg.newCache(300); KvCache cc = mc.newCache(300)) {
            int V = mg.config().vocabSize();
            int[] ids = new int[270];
            for (int t = 0; t < ids.length; t++) ids[t] = (t * 37 + 11) % V;
            float[] rg = new float[V], rc = new float[V];
            // A 250-token prompt fits the pool's first 16 blocks; decoding on from there grows the pool at position 256.
            mg.forward(Arrays.copyOf(ids, 250), cg, 1);
            mc.forward(Arrays.copyOf(ids, 250), cc, 1);
            double d = 0;
            for (int t = 250; t < ids.length; t++) {
                g.download(mg.forward(new int[] {ids[t]}, cg, 1), MemorySegment.ofArray(rg));
                cpu.download(mc.forward(new int[] {ids[t]}, cc, 1), MemorySegment.ofArray(rc));
                d = Math.max(d, maxDiff(rg, rc));
            }
            assertEquals(272, cg.allocatedRows(), "17 blocks of 16 for 270 positions");
            assertEquals(32, mg.kvPool().allocatedBlocks(), "the pool grew from 16 blocks to 32");
            assertTrue(d <= 1e-4, target + ": max |Δlogit| vs CPU through the growth = " + d);

            List<Generator.Request> requests = List.of(new Generator.Request(new int[] {5, 17, 300}, 2),
                    new Generator.Request(new int[] {42, 7, 9, 11}, 3));
            List<List<Integer>> onGpu = new java.util.ArrayList<>(), onCpu = new java.util.ArrayList<>();
            for (int i = 0; i < 5; i++) { onGpu.add(new java.util.ArrayList<>()); onCpu.add(new java.util.ArrayList<>()); }
            Lockstep.generator(mg).generate(requests, 3, 8, Set.of(), Generator.GREEDY, (s, tok) -> { onGpu.get(s).add(tok); return false; });
            Lockstep.generator(mc).generate(requests, 3, 8, Set.of(), Generator.GREEDY, (s, tok) -> { onCpu.get(s).add(tok); return false; });
            assertEquals(onCpu, onGpu, target + ": continuous batching");
        }
    }

    /**
     * RAST decoding, greedy: M = the f32 Llama fixture, E = the bf16 one, B = M again (a separate cache), λ = 0.7,
     * over a shared vocabulary of 990 of the 1001 ids. Host side: CPU logits fused in Java, argmax. Device side:
     * logits, fusion and argmax on the GPU, only ids return. The id sequences must be equal.
     */
    @ParameterizedTest
    @MethodSource("targets")
    void rastFusedGreedyDecodingEqualsTheCpuBackend(String target) throws Exception {
        CudaBackend g = gpu(target);
        int[] prompt = {5, 17, 300, 42, 7};
        int steps = 10, shared = 990;
        float lambda = 0.7f;
        int[] onCpu = new int[steps], onGpu = new int[steps];
        List<String> names = List.of("llama3-f32", "llama3-bf16-tied", "llama3-f32");
        try (CausalLM m = Fixtures.load((names.get(0)), cpu); CausalLM e = Fixtures.load((names.get(1)), cpu);
             CausalLM b = Fixtures.load((names.get(2)), cpu);
             KvCache cm = m.newCache(32); KvCache ce = e.newCache(32); KvCache cb = b.newCache(32)) {
            int V = m.config().vocabSize();
            float[] lm = new float[V], le = new float[V], lb = new float[V], fused = new float[V];
            int[] next = prompt;
            for (int s = 0; s < steps; s++) {
                cpu.download(m.forward(next, cm, 1), MemorySegment.ofArray(lm));
                cpu.download(e.forward(next, ce, 1), MemorySegment.ofArray(le));
                cpu.download(b.forward(next, cb, 1), MemorySegment.ofArray(lb));
                for (int v = 0; v < V; v++) fused[v] = v < shared ? lm[v] + lambda * (le[v] - lb[v]) : Float.NEGATIVE_INFINITY;
                onCpu[s] = Generator.argmax(fused);
                next = new int[] {onCpu[s]};
            }
        }
        try (CausalLM m = Fixtures.load((names.get(0)), g); CausalLM e = Fixtures.load((names.get(1)), g);
             CausalLM b = Fixtures.load((names.get(2)), g);
             KvCache cm = m.newCache(32); KvCache ce = e.newCache(32); KvCache cb = b.newCache(32)) {
            int V = m.config().vocabSize();
            Tensor out = g.allocate(dev.rast.engine.tensor.DType.F32, 1, V);
            int[] next = prompt;
            for (int s = 0; s < steps; s++) {
                Tensor lm = m.forward(next, cm, 1), le = e.forward(next, ce, 1), lb = b.forward(next, cb, 1);
                g.rastFuse(out, lm, List.of(le), List.of(lb), new float[] {lambda}, shared);
                onGpu[s] = g.sample(out, V, DeviceSampling.GREEDY, new long[] {0}, s)[0];
                next = new int[] {onGpu[s]};
            }
            g.free(out);
        }
        assertArrayEquals(onCpu, onGpu, target + ": RAST greedy ids");
    }
}
