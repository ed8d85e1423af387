package dev.rast.tests;

import dev.rast.run.Lockstep;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.generate.Generator;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.Models;
import dev.rast.engine.sample.Sampler;
import dev.rast.engine.sample.SamplingParams;
import dev.rast.engine.sample.SequenceRandom;
import dev.rast.kernels.cpu.CpuBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/**
 * Continuous batching: samples of several prompts share a batch of at most maxBatch sequences, finished samples
 * handing their places to the next ones. Every sample must come out as it does when its prompt runs alone (the
 * reference: Generator on that one prompt, itself checked against Hugging Face in BatchedDecodingTest), with the
 * same random generator per sample. Sampling at temperature 1 with stop ids on ~10% of the vocabulary makes the
 * samples differ in content and length, so places free up at different steps and the batch mixes prompts.
 * Exact token equality: the batch only reorders F32 sums (~1e-7 relative on this F32 model), far from moving a draw
 * across a boundary of the cumulative distribution in these ~150 draws.
 */
class ContinuousBatchingTest {
    @Test
    void mixedPromptsInOneBatchGiveEachPromptsOwnSamples() {
        try (Backend backend = new CpuBackend(2); CausalLM m = Models.load(Fixtures.reference("qwen2-f32"), backend)) {
            int V = m.config().vocabSize();
            SplittableRandom rnd = new SplittableRandom(3);
            int[] counts = {2, 3, 1, 4};
            List<Generator.Request> requests = new ArrayList<>();
            for (int n : counts) {
                int[] prompt = new int[3 + rnd.nextInt(8)];
                for (int i = 0; i < prompt.length; i++) prompt[i] = rnd.nextInt(V);
                requests.add(new Generator.Request(prompt, n));
            }
            Set<Integer> stops = new java.util.HashSet<>();
            for (int id = 0; id < V; id += 10) stops.add(id);
            int maxTokens = 24;

            // Together: 10 samples through a batch of 3; sample g draws from generator g.
            // A Sampler keeps scratch arrays and is not thread-safe; the Generator chooses the tokens of 4 or more
            // live sequences in parallel, so each thread gets its own (as SampleRunner does).
            ThreadLocal<Sampler> sampler = ThreadLocal.withInitial(() -> new Sampler(SamplingParams.temperature(1.0, 0)));
            RandomGenerator[] rng = new RandomGenerator[10];
            for (int g = 0; g < rng.length; g++) rng[g] = SequenceRandom.of(99, g);
            List<Integer> seen = new ArrayList<>();
            List<List<Integer>> tokens = new ArrayList<>();
            for (int g = 0; g < 10; g++) tokens.add(new ArrayList<>());
            Lockstep.generator(m).generate(requests, 3, maxTokens, stops,
                    (g, row) -> sampler.get().sample(row, rng[g]).token(),
                    (g, token) -> { seen.add(g); tokens.get(g).add(token); return false; });
            int[][] together = new int[10][];
            for (int g = 0; g < 10; g++) together[g] = tokens.get(g).stream().mapToInt(Integer::intValue).toArray();

            // Alone: each prompt by itself, its samples drawing from the same generators.
            int first = 0, lengths = 0;
            for (Generator.Request r : requests) {
                int base = first;
                RandomGenerator[] own = new RandomGenerator[r.samples()];
                for (int i = 0; i < own.length; i++) own[i] = SequenceRandom.of(99, base + i);
                int[][] out = Lockstep.generator(m).generate(r.prompt(), r.samples(), maxTokens, stops,
                        (s, row) -> sampler.get().sample(row, own[s]).token(), null);
                for (int i = 0; i < r.samples(); i++) {
                    assertArrayEquals(out[i], together[base + i], "sample " + i + " of prompt starting at " + base);
                    lengths += out[i].length;
                }
                first += r.samples();
            }
            assertEquals(lengths, seen.size(), "the listener saw every token once");
            // Places were handed on: some step decoded samples of two prompts together (sample ids of prompt 0 are
            // 0-1, of prompt 1 are 2-4, ...), which a batch of one prompt at a time never does.
            assertTrue(mixed(seen, together), "no step mixed prompts: " + seen);
        }
    }

    /** Whether a sample of a later prompt produced a token before every sample of an earlier prompt had finished. */
    private static boolean mixed(List<Integer> seen, int[][] together) {
        int[] promptOf = {0, 0, 1, 1, 1, 2, 3, 3, 3, 3};
        int[] left = new int[10];
        for (int g = 0; g < 10; g++) left[g] = together[g].length;
        for (int g : seen) {
            for (int h = 0; h < 10; h++) if (promptOf[h] < promptOf[g] && left[h] > 0) return true;
            left[g]--;
        }
        return false;
    }
}
