package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.generate.Generator;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.KvPool;
import dev.rast.kernels.cpu.CpuBackend;
import dev.rast.run.Lockstep;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Admission by free KV blocks and preemption by recompute, on a pool capped far below what the samples need at full
 * length. A preempted sample gives its blocks back and later prefills its prompt and tokens so far in one pass; on
 * the CPU a token's logits have the same bits inside a prompt as decoded alone (PagedKvCacheTest, BatchedDecodingTest),
 * and its random draws are its own, so every sample must come out token for token as in a run that never preempts
 * (the reference: the same model with an uncapped pool).
 */
class PreemptionTest {
    static final int SAMPLES = 4, MAX_TOKENS = 40;

    /** Each sample's tokens, drawn at temperature 1 from its own generator seeded by its number. */
    private static List<List<Integer>> run(Generator g, List<Generator.Request> requests, int maxBatch) {
        int total = requests.stream().mapToInt(Generator.Request::samples).sum();
        SplittableRandom[] rng = new SplittableRandom[total];
        List<List<Integer>> tokens = new ArrayList<>();
        for (int i = 0; i < total; i++) { rng[i] = new SplittableRandom(1000 + i); tokens.add(new ArrayList<>()); }
        g.generate(requests, maxBatch, MAX_TOKENS, Set.of(), (id, logits) -> draw(logits, rng[id]), (id, token) -> {
            synchronized (tokens) { tokens.get(id).add(token); }
            return false;
        });
        return tokens;
    }

    /** One draw from softmax(logits): the first id whose cumulative probability passes a uniform draw. */
    private static int draw(float[] logits, SplittableRandom rng) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float l : logits) max = Math.max(max, l);
        for (float l : logits) sum += Math.exp(l - max);
        double u = rng.nextDouble() * sum, c = 0;
        for (int v = 0; v < logits.length; v++) if ((c += Math.exp(logits[v] - max)) > u) return v;
        return logits.length - 1;
    }

    /**
     * Two prompts of 20 and 9 tokens, 4 samples each of 40 tokens: at full length a sample holds 4 blocks of 16, the
     * four of a prompt 13 or more. A pool of 9 blocks preempts again and again; every sample's tokens still equal
     * the uncapped run's, and the pool is empty at the end.
     */
    @Test
    void preemptedSamplesResumeWithTheTokensOfAnUnpreemptedRun() {
        try (Backend backend = new CpuBackend(2); CausalLM free = Fixtures.load("qwen2-f32", backend);
             CausalLM capped = Fixtures.load("qwen2-f32", backend)) {
            int V = free.config().vocabSize();
            capped.maxKvBlocks(9);
            int[] a = new int[20], b = new int[9];
            for (int t = 0; t < a.length; t++) a[t] = (t * 37 + 11) % V;
            for (int t = 0; t < b.length; t++) b[t] = (t * 53 + 5) % V;
            List<Generator.Request> requests = List.of(new Generator.Request(a, SAMPLES), new Generator.Request(b, SAMPLES));

            Generator g1 = Lockstep.generator(free), g2 = Lockstep.generator(capped);
            List<List<Integer>> want = run(g1, requests, SAMPLES), got = run(g2, requests, SAMPLES);
            assertEquals(0, g1.preemptions(), "the uncapped pool never preempts");
            assertTrue(g2.preemptions() > 0, "9 blocks must force preemption");
            for (int i = 0; i < want.size(); i++) {
                assertEquals(MAX_TOKENS, want.get(i).size());
                assertArrayEquals(want.get(i).stream().mapToInt(x -> x).toArray(), got.get(i).stream().mapToInt(x -> x).toArray(),
                        "sample " + i + " after " + g2.preemptions() + " preemptions");
            }
            KvPool pool = capped.kvPool();
            assertEquals(9, pool.maxBlocks());
            assertEquals(0, pool.usedBlocks(), "every block back");
        }
    }

    /**
     * A pool without a cap whose growth the backend cannot give memory for (here: refused past 32 blocks, as a
     * device out of memory would) keeps its size, takes it as its cap, and the generator preempts and retries the
     * step: 8 samples of 20 + 100 tokens (8 blocks each at full length, the first shared: 57 in all) still give the
     * uncapped run's tokens.
     */
    @Test
    void aPoolThatCannotGrowPreemptsInsteadOfFailing() {
        try (Backend cpu = new CpuBackend(2); CausalLM free = Fixtures.load("qwen2-f32", cpu)) {
            int kvDim = free.config().kvDim();
            Backend refusing = (Backend) java.lang.reflect.Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                    (proxy, method, args) -> {
                        if (method.getName().equals("allocate") && args[1] instanceof int[] shape && shape.length == 2
                                && shape[1] == kvDim && shape[0] > 32 * KvPool.BLOCK_SIZE)
                            throw new dev.rast.engine.BadInputException("out of memory (test)");
                        try {
                            return method.invoke(cpu, args);
                        } catch (java.lang.reflect.InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            try (CausalLM limited = Fixtures.load("qwen2-f32", refusing)) {
                int V = free.config().vocabSize();
                int[] a = new int[20];
                for (int t = 0; t < a.length; t++) a[t] = (t * 37 + 11) % V;
                List<Generator.Request> requests = List.of(new Generator.Request(a, 8, 100));
                Generator g1 = Lockstep.generator(free), g2 = Lockstep.generator(limited);
                List<List<Integer>> want = run(g1, requests, 8), got = run(g2, requests, 8);
                assertTrue(g2.preemptions() > 0, "the pool stopped at 32 blocks");
                assertEquals(32, limited.kvPool().maxBlocks(), "the size reached is the cap");
                for (int i = 0; i < want.size(); i++)
                    assertArrayEquals(want.get(i).stream().mapToInt(x -> x).toArray(), got.get(i).stream().mapToInt(x -> x).toArray(), "sample " + i);
            }
        }
    }

    /** A prompt whose blocks alone exceed the pool is refused with a message, not a pool error mid-step. */
    @Test
    void aPromptLargerThanThePoolIsRefused() {
        try (Backend backend = new CpuBackend(2); CausalLM m = Fixtures.load("qwen2-f32", backend)) {
            m.maxKvBlocks(2);
            var e = assertThrows(IllegalStateException.class,
                    () -> run(Lockstep.generator(m), List.of(new Generator.Request(new int[40], 1)), SAMPLES));
            assertTrue(e.getMessage().contains("KV cache memory too small"), e.getMessage());
        }
    }
}
