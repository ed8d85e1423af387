package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.model.KvCache;
import dev.rast.kernels.cpu.CpuBackend;
import dev.rast.run.ModelSet;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** ModelSet.withLambdas, what a λ sweep runs each point with: other λs on the same loaded models, closed by their owner. */
class ModelSetViewTest {
    @Test
    void aViewFusesWithItsLambdasAndLeavesTheModelsOpen() {
        Path trio = Fixtures.reference("rast-trio/M").getParent();
        try (Backend backend = new CpuBackend(2);
             ModelSet set = ModelSet.load(trio.resolve("M"), List.of(new ModelSet.Pair(trio.resolve("E1"), trio.resolve("B1"), 0f)), null, false, backend)) {
            ModelSet view = set.withLambdas(new float[] {2f});
            assertArrayEquals(new float[] {2f}, view.lambdas());
            assertEquals(2f, view.pairs().getFirst().lambda());
            assertEquals(set.models(), view.models());
            // Rows M, E, B: M + 2·(E − B) on the shared ids, −∞ past them (M's row is longer here).
            float[][] rows = {{1, 1, 1, 9}, {3, 0, 1}, {1, 0, 2}};
            view.fusion().fuse(0, rows);
            assertArrayEquals(new float[] {5, 1, -1, Float.NEGATIVE_INFINITY}, rows[0]);
            float[][] same = {{1, 1, 1, 9}, {3, 0, 1}, {1, 0, 2}};
            set.fusion().fuse(0, same);
            assertArrayEquals(new float[] {1, 1, 1, Float.NEGATIVE_INFINITY}, same[0], "the set keeps its own λ = 0");
            view.close();
            try (KvCache c = set.base().newCache(4)) {
                set.base().forward(new int[] {5, 6}, c, 1); // still open
            }
        }
    }
}
