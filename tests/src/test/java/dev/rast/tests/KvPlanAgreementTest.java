package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.generate.Generator;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.KvBlocks;
import dev.rast.engine.tensor.DType;
import dev.rast.kernels.cpu.CpuBackend;
import dev.rast.plan.MemoryPlan;
import dev.rast.plan.ModelFootprint;
import dev.rast.run.Lockstep;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@code rast plan}'s prediction and the scheduler's admission agree: for a base model and an expert pair (the
 * qwen2-f32 fixture three times) and a KV budget of 37.5 blocks' worth, the plan says how many sequences of 100
 * positions (prompt 60 + 40 tokens) fit at once; the generator, capped at the same budget and given more such
 * sequences than that (prompts of 99 tokens, one token each, so that each holds 100 positions), admits exactly that
 * many together. Hand-derived: a sequence of 100 positions holds ⌈100 / 16⌉ = 7 blocks, 37 blocks hold 5.
 */
class KvPlanAgreementTest {
    @Test
    void planPredictsWhatTheSchedulerAdmits() {
        try (Backend backend = new CpuBackend(2); CausalLM m = Fixtures.load("qwen2-f32", backend);
             CausalLM e = Fixtures.load("qwen2-f32", backend); CausalLM b = Fixtures.load("qwen2-f32", backend)) {
            List<CausalLM> models = List.of(m, e, b);
            long perToken = 0;
            List<ModelFootprint> footprints = new ArrayList<>();
            for (CausalLM x : models) {
                perToken += x.kvCacheBytesPerToken();
                footprints.add(new ModelFootprint("model", "qwen2-f32", x.config(), DType.F32, x.kvCacheDtype()));
            }
            long budget = (long) (37.5 * 16 * perToken), reserve = 1 << 20;
            MemoryPlan probe = new MemoryPlan(footprints, 1, 60, 40, 0, reserve);
            MemoryPlan plan = new MemoryPlan(footprints, 1, 60, 40, probe.weightBytes() + reserve + budget, reserve);
            assertEquals(budget, plan.kvBudget());
            assertEquals(37, plan.kvBlocks());
            assertEquals(5, plan.fits(), "hand-derived: 37 blocks / 7 per sequence");

            assertEquals(37, KvBlocks.cap(models, plan.kvBudget()));
            int V = m.config().vocabSize(), requests = (int) plan.fits() + 3;
            int[] handedOut = {0}, beforeFirstToken = {-1};
            Generator.Admission admission = () -> {
                if (handedOut[0] == requests) return null;
                int[] prompt = new int[99];
                for (int t = 0; t < prompt.length; t++) prompt[t] = (t * 7 + handedOut[0] * 13 + 1) % V;
                handedOut[0]++;
                return new Generator.Request(prompt, 1);
            };
            List<Integer> done = new ArrayList<>();
            Lockstep.generator(models, (s, rows) -> rows[0]).generate(admission, 1000, 1, 0, Set.of(), Generator.GREEDY, (s, token) -> {
                if (beforeFirstToken[0] < 0) beforeFirstToken[0] = handedOut[0];
                done.add(s);
                return false;
            });
            // The first step's admission handed out the sequences that fit and one more, which waited for blocks.
            assertEquals(plan.fits() + 1, beforeFirstToken[0], "admitted together: the plan's " + plan.fits());
            assertEquals(requests, done.size(), "the others ran as blocks came free");
            for (CausalLM x : models) assertEquals(0, x.kvPool().usedBlocks());
            assertTrue(m.kvPool().maxBlocks() == 37 && e.kvPool().maxBlocks() == 37 && b.kvPool().maxBlocks() == 37);
        }
    }
}
