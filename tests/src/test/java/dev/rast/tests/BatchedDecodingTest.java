package dev.rast.tests;

import dev.rast.run.Lockstep;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.generate.Generator;
import dev.rast.engine.model.Batch;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.KvCache;
import dev.rast.engine.model.Models;
import dev.rast.engine.tensor.Tensor;
import dev.rast.engine.weights.SafeTensorsFile;
import dev.rast.kernels.cpu.CpuBackend;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Several sequences through one forward pass, against Hugging Face's logits for each sequence run on its own.
 *
 * <p>References: (1) HF's logits of every position of expected.json's input_ids: because attention is causal, the
 * logits at position t are those of the prefix input_ids[0..t] alone, so B prefixes of different lengths are B
 * different prompts with known answers. (2) fork_logits.safetensors (scripts/oracle/make_fork_references.py): HF's
 * logits of one prompt followed by four different continuations, each run from scratch.
 *
 * <p>Tolerances are ReferenceModelTest's, for the same reason: 1e-4 with F32 weights (both sides do F32-exact math
 * with a different summation order, ~1e-6 apart; a row attending over the wrong sequence's cache or at the wrong
 * RoPE position moves logits by 1e-1 or more), 2e-2 with BF16 weights. Batched rows go through other matmul paths
 * than single rows (T ≥ 8 is the blocked GEMM, 2..7 the multi-row matrix-vector kernel), which only reorders sums.
 */
class BatchedDecodingTest {
    static final List<String> MODELS = Fixtures.MODELS;
    static Backend backend;

    @BeforeAll static void open() { backend = new CpuBackend(2); }

    @AfterAll static void close() { backend.close(); }

    static float[] read(Tensor t) {
        float[] out = new float[(int) t.numel()];
        backend.download(t, MemorySegment.ofArray(out));
        return out;
    }

    /** Largest |got[gotRow] - want[wantRow]| over a row of V logits. */
    static double rowDiff(float[] got, int gotRow, float[] want, int wantRow, int V) {
        double d = 0;
        for (int i = 0; i < V; i++) d = Math.max(d, Math.abs(got[gotRow * V + i] - want[wantRow * V + i]));
        return d;
    }

    /**
     * Ten prompts of lengths 1, 3, ..., 19 (prefixes of input_ids) prefilled together in one pass, then decoded
     * together one token per step until each reaches the end of input_ids: the batch shrinks from 10 rows (GEMM) to
     * 1 as sequences finish, so every matmul path runs. Some prompts ask for logits of every token, some of the last.
     */
    @ParameterizedTest
    @FieldSource("MODELS")
    void sequencesOfDifferentLengthsBatchedTogetherMatchHuggingFace(String name) throws Exception {
        Map<String, Object> exp = Fixtures.expected(name);
        int[] ids = Fixtures.ints(exp.get("input_ids"));
        double tol = ReferenceModelTest.tolerance(exp);
        try (CausalLM m = Fixtures.load(name, backend);
             SafeTensorsFile ref = SafeTensorsFile.open(Fixtures.reference(name).resolve("logits.safetensors"))) {
            int V = m.config().vocabSize(), B = 10;
            float[] want = ref.tensor("logits").data().toArray(ValueLayout.JAVA_FLOAT);
            KvCache[] caches = new KvCache[B];
            int[] len = new int[B];
            Batch.Chunk[] chunks = new Batch.Chunk[B];
            for (int s = 0; s < B; s++) {
                caches[s] = m.newCache(ids.length);
                len[s] = 1 + 2 * s;
                chunks[s] = new Batch.Chunk(caches[s], java.util.Arrays.copyOf(ids, len[s]), s % 2 == 0 ? len[s] : 1);
            }
            double maxDiff = 0;
            float[] got = read(m.forward(new Batch(chunks)));
            int row = 0;
            for (int s = 0; s < B; s++)
                for (int p = s % 2 == 0 ? 0 : len[s] - 1; p < len[s]; p++) maxDiff = Math.max(maxDiff, rowDiff(got, row++, want, p, V));
            assertEquals(got.length / V, row, "rows of logits returned");

            int steps = 0;
            while (true) {
                List<Integer> live = new ArrayList<>();
                for (int s = 0; s < B; s++) if (len[s] < ids.length) live.add(s);
                if (live.isEmpty()) break;
                int[] tokens = new int[live.size()];
                KvCache[] batch = new KvCache[live.size()];
                for (int i = 0; i < tokens.length; i++) {
                    tokens[i] = ids[len[live.get(i)]];
                    batch[i] = caches[live.get(i)];
                }
                got = read(m.decode(tokens, batch));
                for (int i = 0; i < tokens.length; i++) {
                    int s = live.get(i);
                    maxDiff = Math.max(maxDiff, rowDiff(got, i, want, len[s], V));
                    len[s]++;
                }
                steps++;
            }
            for (int s = 0; s < B; s++) {
                assertEquals(ids.length, caches[s].length(), "cache length of sequence " + s);
                caches[s].close();
            }
            assertEquals(ids.length - 1, steps);
            assertTrue(maxDiff <= tol, name + ": max |Δlogit| = " + maxDiff + " > " + tol);
        }
    }

    /**
     * n = 4 samples after one prefill (KV caches forked from it), each fed a different continuation through the
     * Generator's loop (the chooser forces the continuation and checks the logits it is given), dropping out of the
     * batch when its continuation ends.
     */
    @ParameterizedTest
    @FieldSource("MODELS")
    void forkedSamplesMatchHuggingFaceRunsOfEachSequence(String name) throws Exception {
        Forks f = Forks.load(name);
        double tol = ReferenceModelTest.tolerance(Fixtures.expected(name));
        try (CausalLM m = Fixtures.load(name, backend)) {
            Checker check = new Checker(List.of(f));
            int[][] out = Lockstep.generator(m).generate(f.prompt, f.n(), 100, Set.of(), check::choose, check::done);
            for (int s = 0; s < f.n(); s++) assertArrayEquals(f.continuations[s], out[s], "sequence " + s);
            assertTrue(check.maxDiff[0] <= tol, name + ": max |Δlogit| = " + check.maxDiff[0] + " > " + tol);
            assertEquals(f.rows(), check.rowsChecked);
        }
    }

    /**
     * All four reference models (two architectures, vocabularies of 999 and 1001, F32 and BF16) advance the same
     * four forked sequences in lockstep, each with its own caches; the fusion callback sees every model's row and
     * each must be that model's own HF logits.
     */
    @Test
    void modelsInLockstepEachMatchTheirOwnReference() throws Exception {
        List<CausalLM> models = new ArrayList<>();
        List<Forks> forks = new ArrayList<>();
        try {
            for (String name : MODELS) {
                models.add(Fixtures.load(name, backend));
                forks.add(Forks.load(name));
            }
            Forks f = forks.get(0);
            Checker check = new Checker(forks);
            Generator.Fusion fusion = (s, rows) -> {
                assertEquals(models.size(), rows.length);
                for (int m = 0; m < rows.length; m++) check.compare(m, s, rows[m]);
                return rows[0];
            };
            int[][] out = Lockstep.generator(models, fusion).generate(f.prompt, f.n(), 100, Set.of(),
                    (s, logits) -> f.continuations[s][check.step[s]], check::done);
            for (int s = 0; s < f.n(); s++) assertArrayEquals(f.continuations[s], out[s], "sequence " + s);
            for (int m = 0; m < models.size(); m++) {
                double tol = ReferenceModelTest.tolerance(Fixtures.expected(MODELS.get(m)));
                assertTrue(check.maxDiff[m] <= tol, MODELS.get(m) + ": max |Δlogit| = " + check.maxDiff[m] + " > " + tol);
            }
            assertEquals(models.size() * f.rows(), check.rowsChecked);
        } finally {
            models.forEach(CausalLM::close);
        }
    }

    /** Greedy n = 3 after one prefill: every sample is HF's greedy continuation (a deterministic chooser). */
    @ParameterizedTest
    @FieldSource("MODELS")
    void greedySamplesAreAllTheGreedyContinuation(String name) throws Exception {
        Map<String, Object> exp = Fixtures.expected(name);
        try (CausalLM m = Fixtures.load(name, backend)) {
            int[][] got = Lockstep.generator(m).generate(Fixtures.ints(exp.get("greedy_prompt")), 3, 12, Set.of(), Generator.GREEDY, null);
            for (int[] g : got) assertArrayEquals(Fixtures.ints(exp.get("greedy_tokens")), g, name);
        }
    }

    /** A stop id ends only the sequence that chose it; the others keep decoding. */
    @Test
    void aStopIdEndsOnlyItsSequence() throws Exception {
        Forks f = Forks.load("qwen2-f32");
        try (CausalLM m = Models.load(Fixtures.reference("qwen2-f32"), backend)) {
            int stop = f.continuations[2][3]; // sequence 2 chooses its continuation and stops at the 4th token
            int[] chosen = new int[3];
            int[][] out = Lockstep.generator(m).generate(f.prompt, 3, 5, Set.of(stop),
                    (s, logits) -> s == 2 ? f.continuations[2][chosen[2]++] : 5, null);
            assertEquals(5, out[0].length);
            assertEquals(5, out[1].length);
            assertArrayEquals(java.util.Arrays.copyOf(f.continuations[2], 4), out[2]);
        }
    }

    @Test
    void aBatchRefusesTheSameCacheTwiceAndAFullCache() throws Exception {
        try (CausalLM m = Models.load(Fixtures.reference("qwen2-f32"), backend);
             KvCache a = m.newCache(4); KvCache b = m.newCache(2)) {
            assertThrows(IllegalArgumentException.class, () -> m.decode(new int[] {1, 2}, new KvCache[] {a, a}));
            m.forward(new int[] {5, 6}, b, 1);
            var e = assertThrows(IllegalStateException.class, () -> m.decode(new int[] {1, 2}, new KvCache[] {a, b}));
            assertTrue(e.getMessage().contains("KV cache full"), e.getMessage());
            assertEquals(0, a.length(), "nothing written when one sequence does not fit");
        }
    }

    /** forks.json + fork_logits.safetensors of one reference model. */
    record Forks(int[] prompt, int[][] continuations, float[][] logits, int vocab) {
        int n() { return continuations.length; }

        /** Logit rows the references hold: the shared one after the prompt, then one per continuation token but the last. */
        int rows() {
            int r = 0;
            for (int[] c : continuations) r += c.length;
            return r;
        }

        static Forks load(String name) throws Exception {
            var dir = Fixtures.reference(name);
            Map<String, Object> j = dev.rast.engine.json.Json.parseObject(Files.readAllBytes(dir.resolve("forks.json")), name + "/forks.json");
            List<?> conts = (List<?>) j.get("continuations");
            int[][] c = new int[conts.size()][];
            float[][] l = new float[c.length][];
            int vocab;
            try (SafeTensorsFile f = SafeTensorsFile.open(dir.resolve("fork_logits.safetensors"))) {
                vocab = f.tensor("logits_0").dim(1);
                for (int s = 0; s < c.length; s++) {
                    c[s] = Fixtures.ints(conts.get(s));
                    Tensor t = f.tensor("logits_" + s);
                    assertArrayEquals(new int[] {c[s].length + 1, vocab}, t.shape());
                    l[s] = t.data().toArray(ValueLayout.JAVA_FLOAT);
                }
            }
            return new Forks(Fixtures.ints(j.get("prompt")), c, l, vocab);
        }
    }

    /** Follows each sequence's step, compares the rows it is shown with the references, forces the continuation. */
    static final class Checker {
        final List<Forks> refs;
        final int[] step;
        final double[] maxDiff;
        int rowsChecked;

        Checker(List<Forks> refs) {
            this.refs = refs;
            step = new int[refs.get(0).n()];
            maxDiff = new double[refs.size()];
        }

        // synchronized: the generator fuses the live sequences' rows in parallel (from 4 sequences on), and an
        // unguarded rowsChecked++ lost a count under load (91 of 92 in one CI run).
        synchronized void compare(int model, int s, float[] row) {
            Forks f = refs.get(model);
            assertEquals(f.vocab, row.length, "vocabulary of model " + model);
            maxDiff[model] = Math.max(maxDiff[model], rowDiff(row, 0, f.logits[s], step[s], f.vocab));
            rowsChecked++;
        }

        int choose(int s, float[] logits) {
            compare(0, s, logits);
            return refs.get(0).continuations[s][step[s]];
        }

        /** Listener: ends sequence s after the last token of its continuation. */
        boolean done(int s, int token) {
            assertEquals(refs.get(0).continuations[s][step[s]], token);
            return ++step[s] == refs.get(0).continuations[s].length;
        }
    }
}
