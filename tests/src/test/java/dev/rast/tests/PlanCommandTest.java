package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rast.plan.MemoryPlan;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * rast plan on the paper's setups, from the Qwen2.5 configs in resources/plan, against figures derived by hand.
 *
 * <p>Parameters (Qwen2 has q/k/v biases; head_dim 128): per layer H·q + 2·H·kv + q·H + (q + 2·kv) + 3·H·I + 2·H, plus
 * V·H (twice when untied) and the final norm H.
 * <ul>
 *   <li>1.5B: H 1536, q 1536, kv 256, I 8960, 28 layers: 46,797,824 a layer → 1,310,339,072 + tied 151936·1536 =
 *       233,373,696 + 1536 = 1,543,714,304 parameters (3,087,428,608 bytes in BF16); KV 2·28·256·2 = 28,672 B/token.</li>
 *   <li>7B: H 3584, q 3584, kv 512, I 18944: 233,057,792 a layer ·28 = 6,525,618,176 + 2·152064·3584 = 1,089,994,752
 *       + 3584 = 7,615,616,512 (15,231,233,024 B); KV 2·28·512·2 = 57,344 B/token.</li>
 *   <li>14B: H 5120, kv 1024, I 13824, 48 layers: 275,268,608 ·48 + 2·152064·5120 + 5120 = 14,770,033,664
 *       (29,540,067,328 B); KV 2·48·1024·2 = 196,608 B/token.</li>
 *   <li>32B: I 27648, 64 layers: 487,605,248 ·64 + 1,557,135,360 + 5120 = 32,763,876,352 (65,527,752,704 B); KV
 *       2·64·1024·2 = 262,144 B/token.</li>
 * </ul>
 * A run: n 32, prompt 512 + 16,384 tokens = 16,896 per sequence, 80 GiB = 85,899,345,920 B, 512 MiB reserved.
 */
class PlanCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static String dir(String name) {
        try {
            return Path.of(PlanCommandTest.class.getResource("/plan/" + name + "/config.json").toURI()).getParent().toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode plan(String base, String pair, String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of("plan", "--model", dir(base), "--expert", dir(pair), "--expert-base", dir(pair), "--json"));
        args.addAll(List.of(more));
        Cli.Result r = Cli.rast(args.toArray(new String[0]));
        assertEquals(0, r.status(), r.stderr());
        return JSON.readTree(r.stdout());
    }

    @Test
    void modelsAsPublished() throws Exception {
        JsonNode p = plan("Qwen2.5-32B", "Qwen2.5-14B", "--memory", "80GiB");
        assertEquals(32_763_876_352L, p.get("models").get(0).get("parameters").asLong());
        assertEquals(65_527_752_704L, p.get("models").get(0).get("weight_bytes").asLong());
        assertEquals(262_144, p.get("models").get(0).get("kv_bytes_per_token").asLong());
        assertEquals(14_770_033_664L, p.get("models").get(1).get("parameters").asLong());
        assertEquals(196_608, p.get("models").get(1).get("kv_bytes_per_token").asLong());
        JsonNode q = plan("Qwen2.5-7B", "Qwen2.5-1.5B", "--memory", "80GiB");
        assertEquals(7_615_616_512L, q.get("models").get(0).get("parameters").asLong());
        assertEquals(57_344, q.get("models").get(0).get("kv_bytes_per_token").asLong());
        assertEquals(1_543_714_304L, q.get("models").get(1).get("parameters").asLong());
        assertEquals(28_672, q.get("models").get(1).get("kv_bytes_per_token").asLong());
    }

    @Test
    void sevenBWithAOnePointFiveBPairFitsThirtyThreeOnAnH100() throws Exception {
        // weights 15,231,233,024 + 2·3,087,428,608 = 21,406,090,240; KV 57,344 + 2·28,672 = 114,688 B/token, ·16,896 =
        // 1,937,768,448 per sequence; (85,899,345,920 − 21,406,090,240 − 536,870,912) / that = 33.0.
        JsonNode p = plan("Qwen2.5-7B", "Qwen2.5-1.5B", "--memory", "80GiB");
        assertEquals(21_406_090_240L, p.get("weight_bytes").asLong());
        assertEquals(114_688, p.get("kv_bytes_per_token").asLong());
        assertEquals(1_937_768_448L, p.get("bytes_per_sequence").asLong());
        assertEquals(33, p.get("sequences_that_fit").asLong());
        assertTrue(p.get("fits").asBoolean());
        assertEquals(0, p.get("advice").size());
    }

    /**
     * The paged-cache target (issue 24): 7B with a 1.5B pair at ~2k tokens (prompt 512 + 1,536) on 80 GiB. Left for
     * KV caches 63,956,384,768 B (above) = ⌊/ (16·114,688 = 1,835,008)⌋ = 34,853 blocks per model; a sequence of
     * 2,048 positions holds 128: 272 sequences at once, past the 256.
     */
    @Test
    void sevenBWithAOnePointFiveBPairHolds272SequencesOfTwoThousandTokens() throws Exception {
        JsonNode p = plan("Qwen2.5-7B", "Qwen2.5-1.5B", "--memory", "80GiB", "--n", "256", "--prompt-len", "512", "--max-tokens", "1536");
        assertEquals(34_853, p.get("kv_blocks").asLong());
        assertEquals(16, p.get("kv_block_positions").asLong());
        assertEquals(272, p.get("sequences_that_fit").asLong());
        assertTrue(p.get("fits").asBoolean());
    }

    @Test
    void fourteenBWithASevenBPairNeedsAdvice() throws Exception {
        // weights 29,540,067,328 + 2·15,231,233,024 = 60,002,533,376; KV 196,608 + 2·57,344 = 311,296 B/token;
        // left 25,359,941,632 B = ⌊/ (16·311,296 = 4,980,736)⌋ = 5,091 blocks of 16 positions per model; a sequence of
        // 16,896 positions holds 1,056: 4 sequences. For all 32: ⌊5,091 / 32⌋ = 159 blocks = 2,544 positions − 512 =
        // 2,032 tokens.
        JsonNode p = plan("Qwen2.5-14B", "Qwen2.5-7B", "--memory", "80GiB");
        assertEquals(4, p.get("sequences_that_fit").asLong());
        assertFalse(p.get("fits").asBoolean());
        String advice = p.get("advice").toString();
        assertTrue(advice.contains("--batch 4") && advice.contains("--max-tokens 2032") && advice.contains("--n 4"), advice);
    }

    @Test
    void thirtyTwoBWithAFourteenBPair() throws Exception {
        // 65,527,752,704 + 2·29,540,067,328 = 124,607,887,360 B of weights: over 80 GiB; on 141 GB (an H200):
        // (141e9 − 124,607,887,360 − 536,870,912) / (655,360·16,896) = 1.43 → 1 sequence.
        JsonNode h100 = plan("Qwen2.5-32B", "Qwen2.5-14B", "--memory", "80GiB");
        assertEquals(124_607_887_360L, h100.get("weight_bytes").asLong());
        assertEquals(0, h100.get("sequences_that_fit").asLong());
        assertTrue(h100.get("advice").get(0).asText().contains("the weights alone"), h100.get("advice").toString());
        assertEquals(1, plan("Qwen2.5-32B", "Qwen2.5-14B", "--memory", "141GB").get("sequences_that_fit").asLong());
    }

    @Test
    void f32ExpertsAreAdvisedBf16() throws Exception {
        // All in F32 with F32 caches: weights double and caches double; the advice names both switches.
        JsonNode p = plan("Qwen2.5-7B", "Qwen2.5-1.5B", "--memory", "80GiB", "--dtype", "f32");
        assertEquals(2 * 21_406_090_240L, p.get("weight_bytes").asLong());
        assertEquals(2 * 114_688, p.get("kv_bytes_per_token").asLong());
        String advice = p.get("advice").toString();
        assertTrue(advice.contains("--kv-cache-dtype bf16") && advice.contains("--dtype bf16: F32 weights (and their auto caches) in BF16; 33 sequences fit"), advice);
    }

    @Test
    void sizesAndBadInput() {
        assertEquals(80L << 30, MemoryPlan.parseBytes("80GiB"));
        assertEquals(80L << 30, MemoryPlan.parseBytes("80G"));
        assertEquals(141_000_000_000L, MemoryPlan.parseBytes("141GB"));
        assertEquals(1234L, MemoryPlan.parseBytes("1234"));
        assertEquals(null, MemoryPlan.parseBytes("lots"));
        Cli.refused(Cli.rast("plan", "--model", dir("Qwen2.5-7B"), "--memory", "lots"), "--memory lots");
        // A model name not in the cache, offline: one line naming it (HubCommandsTest fetches a config from a fake Hub).
        System.setProperty("HF_HUB_CACHE", "/nonexistent-rast-test-cache");
        System.setProperty("HF_HUB_OFFLINE", "1");
        try {
            Cli.refused(Cli.rast("plan", "--model", "Qwen/Qwen2.5-7B", "--memory", "80G"), "Qwen/Qwen2.5-7B", "HF_HUB_OFFLINE");
        } finally {
            System.clearProperty("HF_HUB_CACHE");
            System.clearProperty("HF_HUB_OFFLINE");
        }
        Cli.refused(Cli.rast("plan", "--model", "/nowhere/at/all", "--memory", "80G"), "/nowhere/at/all", "not found");
    }
}
