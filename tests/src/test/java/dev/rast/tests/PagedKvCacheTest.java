package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.KvCache;
import dev.rast.engine.model.KvCacheDtype;
import dev.rast.engine.model.KvPool;
import dev.rast.engine.tensor.Tensor;
import dev.rast.kernels.cpu.CpuBackend;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The paged KV cache, whole model on the CPU backend, bit for bit. The CPU's attention gives a query the same
 * arithmetic in the same order wherever its keys and values sit in the pool, so where the blocks are, and whether
 * they are shared, must change no logit's bits. The independent reference is the same model run with a layout the
 * test arranges differently (fresh, consecutive blocks; independent caches instead of shared ones), and the logits of
 * one of those runs are held to Hugging Face's by ReferenceModelTest and BatchedDecodingTest.
 */
class PagedKvCacheTest {
    static final String MODEL = "qwen2-f32";

    /** Two sequences' logits: a 10-token prompt each, then 30 decode steps of both together (crossing blocks). */
    private static List<float[]> run(CausalLM m, Backend backend, KvCache a, KvCache b) {
        int V = m.config().vocabSize();
        List<float[]> out = new ArrayList<>();
        int[] pa = new int[10], pb = new int[10];
        for (int t = 0; t < 10; t++) { pa[t] = (t * 37 + 11) % V; pb[t] = (t * 53 + 5) % V; }
        out.add(read(backend, m.forward(pa, a, 1), V));
        out.add(read(backend, m.forward(pb, b, 1), V));
        for (int s = 0; s < 30; s++)
            out.add(read(backend, m.decode(new int[] {(s * 29 + 3) % V, (s * 31 + 7) % V}, new KvCache[] {a, b}), 2 * V));
        return out;
    }

    private static float[] read(Backend backend, Tensor t, int n) {
        float[] v = new float[n];
        backend.download(t, MemorySegment.ofArray(v));
        return v;
    }

    /**
     * The same two sequences, once in a fresh pool (each takes the next free block as it grows: blocks interleave
     * 0, 1, 2, ... between them) and once in a pool fragmented first (three blocks taken and given back, two held
     * throughout), so that their blocks are out of order: every logit the same bits.
     */
    @ParameterizedTest
    @EnumSource(value = KvCacheDtype.class, names = {"F32", "BF16"})
    void whereTheBlocksSitChangesNoBits(KvCacheDtype cacheType) {
        try (Backend backend = new CpuBackend(2); CausalLM m1 = Fixtures.load(MODEL, backend); CausalLM m2 = Fixtures.load(MODEL, backend)) {
            m1.kvCacheDtype(cacheType);
            m2.kvCacheDtype(cacheType);
            List<float[]> want, got;
            int[] tableA;
            try (KvCache a = m1.newCache(64); KvCache b = m1.newCache(64)) {
                want = run(m1, backend, a, b);
                tableA = a.blockTable();
            }
            try (KvCache held = m2.newCache(64); KvCache freed = m2.newCache(64)) {
                freed.reserve(3 * KvPool.BLOCK_SIZE);
                held.reserve(2 * KvPool.BLOCK_SIZE);
                freed.close();
                try (KvCache a = m2.newCache(64); KvCache b = m2.newCache(64)) {
                    got = run(m2, backend, a, b);
                    assertNotEquals(Arrays.toString(tableA), Arrays.toString(a.blockTable()), "the layouts differ");
                    int[] t = a.blockTable();
                    boolean scattered = false;
                    for (int i = 1; i < t.length; i++) scattered |= t[i] != t[i - 1] + 1;
                    assertTrue(scattered, "sequence a's blocks are not consecutive: " + Arrays.toString(t));
                }
            }
            for (int i = 0; i < want.size(); i++) assertArrayEquals(want.get(i), got.get(i), cacheType + ": pass " + i);
        }
    }

    /**
     * n = 4 samples of a 37-token prompt (two full blocks and 5 positions of a third): forked from one prefill, the
     * prompt's blocks are held once (3 blocks, not 12); in the first decode step the three forks that write into the
     * shared, partly filled last block copy it (3 more), the last writer keeps it. Their logits over 20 decode steps
     * equal, bit for bit, those of four independent caches each prefilled with the prompt; closing them gives every
     * block back.
     */
    @ParameterizedTest
    @EnumSource(value = KvCacheDtype.class, names = {"F32", "BF16"})
    void forksShareThePromptBlocksAndMatchIndependentCaches(KvCacheDtype cacheType) {
        int n = 4, steps = 20;
        try (Backend backend = new CpuBackend(2); CausalLM m = Fixtures.load(MODEL, backend)) {
            m.kvCacheDtype(cacheType);
            int V = m.config().vocabSize();
            int[] prompt = new int[37];
            for (int t = 0; t < prompt.length; t++) prompt[t] = (t * 41 + 9) % V;
            KvPool pool = m.kvPool();

            KvCache[] shared = new KvCache[n];
            shared[n - 1] = m.newCache(64);
            float[] sharedPrompt = read(backend, m.forward(prompt, shared[n - 1], 1), V);
            for (int i = 0; i < n - 1; i++) shared[i] = shared[n - 1].fork(64);
            assertEquals(3, pool.usedBlocks(), "the prompt's blocks, once for the 4 samples");
            List<float[]> got = decode(m, backend, shared, 0, 1);
            assertEquals(3 + 3, pool.usedBlocks(), "three copies of the shared last block, on first write");
            got.addAll(decode(m, backend, shared, 1, steps));
            assertEquals(2 + n * 2, pool.usedBlocks(), "57 positions: 2 shared blocks, 2 of each sample's own");
            for (KvCache c : shared) c.close();
            assertEquals(0, pool.usedBlocks(), "every block back");

            KvCache[] own = new KvCache[n];
            float[] ownPrompt = null;
            for (int i = 0; i < n; i++) {
                own[i] = m.newCache(64);
                ownPrompt = read(backend, m.forward(prompt, own[i], 1), V);
            }
            assertEquals(4 * 3, pool.usedBlocks(), "independent caches hold the prompt 4 times");
            List<float[]> want = decode(m, backend, own, 0, steps);
            for (KvCache c : own) c.close();
            assertArrayEquals(ownPrompt, sharedPrompt, "prompt logits");
            for (int s = 0; s < steps; s++) assertArrayEquals(want.get(s), got.get(s), cacheType + ": decode step " + s);
        }
    }

    /** Decode steps from..to−1 of all caches together, each sequence its own tokens; the logits of each step. */
    private static List<float[]> decode(CausalLM m, Backend backend, KvCache[] caches, int from, int to) {
        int V = m.config().vocabSize(), n = caches.length;
        List<float[]> out = new ArrayList<>();
        for (int s = from; s < to; s++) {
            int[] ids = new int[n];
            for (int i = 0; i < n; i++) ids[i] = (s * 17 + i * 101 + 1) % V;
            out.add(read(backend, m.decode(ids, caches), n * V));
        }
        return out;
    }
}
