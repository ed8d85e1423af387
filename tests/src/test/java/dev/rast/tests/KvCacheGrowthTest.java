package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.KvCache;
import dev.rast.engine.model.KvCacheDtype;
import dev.rast.engine.model.Models;
import dev.rast.engine.tensor.Tensor;
import dev.rast.kernels.cpu.CpuBackend;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * KV caches take a block of 16 positions from their model's pool as the sequence crosses into it, and the pool's
 * tensors grow (16 blocks first, then doubling, the rows copied) when no block is free. Decoding one token at a time
 * through those growths must give the logits of the whole sequence run as one prefill (ReferenceModelTest checks that
 * prefill against Hugging Face). A row lost or
 * misplaced in a copy moves every later logit by far more than the tolerance: 1e-4 with F32 caches, as for F32 weights
 * elsewhere (the two paths only sum in another order, ~1e-6 apart). BF16 caches (grown and forked by copying BF16
 * rows) get 2e-3: the two paths compute keys and values ~1e-7 apart, so now and then one rounds to the neighbouring
 * BF16 value (2⁻⁸ relative) on one path only, which moves later logits by up to ~1e-3.
 */
class KvCacheGrowthTest {
    static final int LEN = 600; // crosses the growths at 256 and 512

    @ParameterizedTest
    @EnumSource(value = KvCacheDtype.class, names = {"F32", "BF16"})
    void decodingThroughGrowthsMatchesOnePrefill(KvCacheDtype cacheType) {
        double tol = cacheType == KvCacheDtype.F32 ? 1e-4 : 2e-3;
        try (Backend backend = new CpuBackend(2); CausalLM m = Models.load(Fixtures.reference("qwen2-f32"), backend)) {
            m.kvCacheDtype(cacheType);
            int V = m.config().vocabSize();
            SplittableRandom rnd = new SplittableRandom(7);
            int[] ids = new int[LEN];
            for (int i = 0; i < LEN; i++) ids[i] = rnd.nextInt(V);

            float[] want = new float[LEN * V];
            try (KvCache whole = m.newCache(LEN)) {
                backend.download(m.forward(ids, whole, LEN), MemorySegment.ofArray(want));
            }

            // A cache decoded token by token from empty, and a fork of a 10-token prefix decoded from there: 38
            // blocks each on the way to 600, the pool growing from 16 blocks to 32, 64 and 128.
            try (KvCache grown = m.newCache(LEN); KvCache prefix = m.newCache(LEN)) {
                assertEquals(0, grown.allocatedRows(), "no block before the first token");
                float[] row = new float[V];
                for (int t = 0; t < LEN; t++) {
                    Tensor l = m.forward(new int[] {ids[t]}, grown, 1);
                    backend.download(l, MemorySegment.ofArray(row));
                    assertClose(want, t, row, tol, cacheType + " decoded from empty");
                }
                assertEquals(608, grown.allocatedRows(), "38 blocks of 16 for 600 positions");

                m.forward(java.util.Arrays.copyOf(ids, 10), prefix, 1);
                try (KvCache fork = prefix.fork(LEN)) {
                    assertEquals(16, fork.allocatedRows(), "the prefix's one block, shared");
                    for (int t = 10; t < LEN; t++) {
                        backend.download(m.forward(new int[] {ids[t]}, fork, 1), MemorySegment.ofArray(row));
                        assertClose(want, t, row, tol, cacheType + " decoded from a fork");
                    }
                    assertEquals(608, fork.allocatedRows());
                    assertEquals(128, m.kvPool().allocatedBlocks(), "16 → 32 → 64 → 128 blocks for 38 + 1 + 38 in use");
                }
            }
        }
    }

    private static void assertClose(float[] want, int t, float[] row, double tol, String what) {
        int V = row.length;
        double d = 0;
        for (int i = 0; i < V; i++) d = Math.max(d, Math.abs(row[i] - want[t * V + i]));
        assertTrue(d <= tol, what + ": position " + t + " differs from the prefill by " + d);
    }
}
