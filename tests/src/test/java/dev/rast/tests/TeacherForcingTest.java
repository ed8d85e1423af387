package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.analysis.TeacherForcing;
import dev.rast.analysis.Trajectory;
import dev.rast.engine.backend.Backend;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.KvCache;
import dev.rast.kernels.cpu.CpuBackend;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Teacher forcing against one plain forward pass of each whole trajectory: whatever the rows per pass (1: every
 * token its own pass; 3 and 7: slices that cut prompts and trajectories, several trajectories in one pass; 500: all
 * in one pass), every position's rows must be the logits that predicted that token, for both models, each position
 * seen once and in order.
 */
class TeacherForcingTest {
    static Backend backend;
    static List<CausalLM> models;

    @BeforeAll
    static void open() {
        backend = new CpuBackend(2);
        models = List.of(Fixtures.load("qwen2-f32", backend), Fixtures.load("llama3-f32", backend));
    }

    @AfterAll
    static void close() {
        for (CausalLM m : models) m.close();
        backend.close();
    }

    static List<Trajectory> trajectories() {
        Random r = new Random(7);
        int[][] shapes = {{5, 9}, {1, 1}, {3, 1}, {2, 14}, {8, 4}};
        List<Trajectory> out = new ArrayList<>();
        for (int[] s : shapes)
            out.add(new Trajectory("p" + s[0] + "t" + s[1], r.ints(s[0], 0, 999).toArray(), r.ints(s[1], 0, 999).toArray()));
        return out;
    }

    /** Logits of every position of prompt ++ tokens in one pass: row prompt.length − 1 + i predicts tokens[i]. */
    static float[] whole(CausalLM m, Trajectory t) {
        int[] all = new int[t.prompt().length + t.tokens().length];
        System.arraycopy(t.prompt(), 0, all, 0, t.prompt().length);
        System.arraycopy(t.tokens(), 0, all, t.prompt().length, t.tokens().length);
        float[] out = new float[all.length * m.config().vocabSize()];
        try (KvCache c = m.newCache(all.length)) {
            backend.download(m.forward(all, c, all.length), MemorySegment.ofArray(out));
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 7, 500})
    void everyPositionHasTheLogitsThatPredictedIt(int rowsPerPass) {
        List<Trajectory> ts = trajectories();
        List<List<float[]>> want = new ArrayList<>();
        for (Trajectory t : ts) {
            List<float[]> perModel = new ArrayList<>();
            for (CausalLM m : models) perModel.add(whole(m, t));
            want.add(perModel);
        }
        int[] next = new int[ts.size()];
        boolean[] finished = new boolean[ts.size()];
        double[] maxDiff = {0};
        new TeacherForcing(models, rowsPerPass).run(ts, new TeacherForcing.Visitor() {
            @Override
            public void position(int t, int index, float[][] rows) {
                assertEquals(next[t]++, index, "positions of trajectory " + t + " in order");
                for (int m = 0; m < models.size(); m++) {
                    int V = models.get(m).config().vocabSize(), row = ts.get(t).prompt().length - 1 + index;
                    assertEquals(V, rows[m].length);
                    for (int v = 0; v < V; v++) maxDiff[0] = Math.max(maxDiff[0], Math.abs(rows[m][v] - want.get(t).get(m)[row * V + v]));
                }
            }

            @Override
            public void finished(int t) {
                assertEquals(ts.get(t).tokens().length, next[t], "all positions before finished");
                finished[t] = true;
            }
        });
        for (int t = 0; t < ts.size(); t++) assertTrue(finished[t], "trajectory " + t + " finished");
        // Same arithmetic up to how attention splits its keys: F32 rounding only.
        assertTrue(maxDiff[0] < 1e-4, "max |Δ| " + maxDiff[0]);
    }
}
