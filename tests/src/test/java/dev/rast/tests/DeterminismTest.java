package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.KvCache;
import dev.rast.engine.model.Models;
import dev.rast.kernels.cpu.CpuBackend;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * The same forward pass gives the same bits every time, before, during and after JIT compilation. Seeded sampling
 * depends on it: a logit 1 ulp off can move a draw across a boundary. Float reductions whose order changes when C2
 * compiles them (reduceLanes(ADD), VectorOperators.EXP) fail it; hence the kernels use Lanes.sum and VectorExp,
 * whose results are exactly rounded lane operations in a fixed order.
 */
class DeterminismTest {
    @Test
    void repeatedForwardPassesAreBitIdentical() {
        try (var backend = new CpuBackend(2); CausalLM m = Models.load(Fixtures.reference("rast-trio/M"), backend)) {
            int[] prompt = {959, 512, 210, 374, 16, 515};
            float[] first = null;
            // ~150 passes: the first ones run interpreted or C1-compiled, the later ones C2-compiled.
            for (int it = 0; it < 150; it++) {
                try (KvCache c = m.newCache(16)) {
                    float[] row = new float[m.config().vocabSize()];
                    backend.download(m.forward(prompt, c, 1), MemorySegment.ofArray(row));
                    backend.download(m.forward(new int[] {7}, c, 1), MemorySegment.ofArray(row));
                    if (first == null) first = row;
                    else assertArrayEquals(first, row, "pass " + it);
                }
            }
        }
    }
}
