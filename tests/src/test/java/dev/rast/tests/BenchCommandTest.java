package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.json.Json;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `rast bench --json`: the figures it derives (FLOP rates, the machine's limits) and their units. No timing asserts. */
class BenchCommandTest {
    @TempDir Path tmp;

    @Test
    void reportsLimitsAndFlopRatesOfTheRightSize() {
        Path dir = tmp.resolve("tiny");
        assertEquals(0, Cli.rast("synth", "--arch", "tiny", "--dtype", "f32", "--out", dir.toString()).status());
        Cli.Result r = Cli.rast("bench", "--model", dir.toString(), "--device", "cpu", "--threads", "2",
                "--prompt-len", "4", "--gen", "2", "--runs", "1", "--batch", "2", "--json");
        assertEquals(0, r.status(), r.stderr());
        Map<String, Object> j = Json.parseObject(r.stdout().strip(), "stdout");
        // FLOPs per token of the tiny Qwen2 (hidden 64, q 4×16, kv 2×16, intermediate 176, 2 layers, vocab 151,936),
        // by hand: per layer 64·64 (q) + 2·64·32 (k, v) + 64·64 (o) + 3·64·176 (gate, up, down) = 46,080 multiply-adds;
        // two layers 92,160; LM head 64·151,936 = 9,723,904; total 9,816,064, i.e. 19,632,128 FLOPs per decoded token.
        double flopsPerToken = 19_632_128;
        // A prefill computes logits only for its last token: 4 prompt tokens are 4·2·92,160 + 2·9,723,904 =
        // 20,185,088 FLOPs, i.e. 5,046,272 per prompt token.
        double prefillFlopsPerToken = 5_046_272;
        // Rates are printed with 2 (tok/s) and 4 (GFLOP/s) decimals: 1% covers the rounding of these small figures.
        assertEquals(num(j, "prefill_tok_s") * prefillFlopsPerToken / 1e9, num(j, "prefill_gflop_s"), 0.01 * num(j, "prefill_gflop_s"));
        assertEquals(num(j, "batch_decode_tok_s") * flopsPerToken / 1e9, num(j, "batch_gflop_s"), 0.01 * num(j, "batch_gflop_s"));
        // The limits are measured, so only their order of magnitude is checked: any CPU this runs on reads memory at
        // more than 0.1 GB/s and does more than 1 GFLOP/s with two threads, and none reads at 10 TB/s or does 100 TFLOP/s.
        assertTrue(num(j, "read_limit_gb_s") > 0.1 && num(j, "read_limit_gb_s") < 10_000, j.toString());
        assertTrue(num(j, "fma_peak_gflop_s") > 1 && num(j, "fma_peak_gflop_s") < 100_000, j.toString());
        // The bare read is sampled among the timed decode steps: one pass after each of the 2 steps of the one run.
        assertEquals(2, num(j, "read_limit_passes"), j.toString());
        assertTrue(num(j, "decode_median_step_ms") > 0, j.toString());
    }

    /** Eight bare-read passes per timed run, whatever --gen above 8: 20 steps × 2 runs give 16 (the warm-up none). */
    @Test
    void samplesTheBareReadAmongTheDecodeSteps() {
        Path dir = tmp.resolve("tiny");
        assertEquals(0, Cli.rast("synth", "--arch", "tiny", "--dtype", "f32", "--out", dir.toString()).status());
        Cli.Result r = Cli.rast("bench", "--model", dir.toString(), "--device", "cpu", "--threads", "2",
                "--prompt-len", "4", "--gen", "20", "--runs", "2", "--json");
        assertEquals(0, r.status(), r.stderr());
        assertEquals(16, num(Json.parseObject(r.stdout().strip(), "stdout"), "read_limit_passes"), r.stdout());
    }

    /** With an expert pair and --batch, the fused batch's figures are derived from its step time like the others. */
    @Test
    void reportsTheFusedBatch() {
        Path dir = tmp.resolve("tiny");
        assertEquals(0, Cli.rast("synth", "--arch", "tiny", "--dtype", "f32", "--out", dir.toString()).status());
        Cli.Result r = Cli.rast("bench", "--model", dir.toString(), "--expert", dir.toString(), "--expert-base", dir.toString(),
                "--device", "cpu", "--threads", "2", "--prompt-len", "4", "--gen", "2", "--runs", "1", "--batch", "3", "--json");
        assertEquals(0, r.status(), r.stderr());
        String[] lines = r.stdout().strip().split("\n");
        assertEquals(1, lines.length, r.stdout()); // --json: one line, the RAST figures with the model's
        Map<String, Object> j = Json.parseObject(lines[0], "stdout");
        assertTrue(j.containsKey("decode_tok_s"), j.toString());
        assertEquals(3, num(j, "rast_models"));
        assertEquals(java.util.List.of("f32", "f32", "f32"), j.get("rast_weights"), "each model's weights as loaded");
        assertEquals("f32", j.get("weights"));
        assertEquals(3, num(j, "fused_batch"));
        double stepMs = num(j, "fused_batch_step_ms");
        assertTrue(stepMs > 0, j.toString());
        // 3 sequences per step: tok/s = 3 · 1000 / ms; the speedup is tok/s against one fused sequence's 1000 / ms.
        // Printed with 2 decimals: 1% (plus 0.01 absolute) covers the rounding.
        assertEquals(3e3 / stepMs, num(j, "fused_batch_tok_s"), 0.01 * num(j, "fused_batch_tok_s") + 0.01);
        assertEquals(3 * num(j, "fused_step_ms") / stepMs, num(j, "fused_batch_speedup"), 0.01 * num(j, "fused_batch_speedup") + 0.01);

        // --dtype bf16 reaches the pair too.
        r = Cli.rast("bench", "--model", dir.toString(), "--expert", dir.toString(), "--expert-base", dir.toString(), "--dtype", "bf16",
                "--device", "cpu", "--threads", "2", "--prompt-len", "4", "--gen", "2", "--runs", "1", "--json");
        assertEquals(0, r.status(), r.stderr());
        Map<String, Object> b = Json.parseObject(r.stdout().strip(), "stdout");
        assertEquals(java.util.List.of("bf16", "bf16", "bf16"), b.get("rast_weights"));
        assertEquals(num(j, "bytes_per_token") / 2, num(b, "bytes_per_token"), 0.0, "half the bytes a step reads");
    }

    /**
     * --dtype q8_0 / q4_0: the bench names the weights and counts the blocks' bytes a step reads (QuantizedWeightsTest
     * counts them by hand): for the tiny model's F32 matrices, 34 / 128 (Q8_0) and 18 / 128 (Q4_0) of their bytes plus
     * padding, so below 0.3× and 0.15× of F32's whatever the F32 norms add; and the GB/s are those bytes per token.
     */
    @Test
    void quantizedWeightsReadTheirBlocks() {
        Path dir = tmp.resolve("tinyq");
        assertEquals(0, Cli.rast("synth", "--arch", "tiny", "--dtype", "f32", "--out", dir.toString()).status());
        Map<String, Map<String, Object>> out = new java.util.HashMap<>();
        for (String d : new String[] {"f32", "q8_0", "q4_0"}) {
            Cli.Result r = Cli.rast("bench", "--model", dir.toString(), "--dtype", d, "--device", "cpu", "--threads", "2",
                    "--prompt-len", "4", "--gen", "2", "--runs", "1", "--json");
            assertEquals(0, r.status(), r.stderr());
            out.put(d, Json.parseObject(r.stdout().strip(), "stdout"));
            assertEquals(d, out.get(d).get("weights"));
            Map<String, Object> j = out.get(d);
            // decode_gb_s = decode_tok_s · bytes / 1e9, both printed with 2 decimals: 1% (plus 0.01) covers the rounding
            assertEquals(num(j, "decode_tok_s") * num(j, "bytes_per_token") / 1e9, num(j, "decode_gb_s"), 0.01 * num(j, "decode_gb_s") + 0.01);
        }
        double f32 = num(out.get("f32"), "bytes_per_token");
        assertTrue(num(out.get("q8_0"), "bytes_per_token") < 0.3 * f32, out.toString());
        assertTrue(num(out.get("q4_0"), "bytes_per_token") < 0.15 * f32, out.toString());
        assertTrue(num(out.get("q4_0"), "bytes_per_token") > 0.125 * f32, "4.5 bits of 32 at least: " + out);
        // Q4_0's kernels multiply and add in 16-bit integer lanes, so their arithmetic limit is the 16-bit multiply-add
        // loop, not the FMA loop; Q8_0's GEMM computes in F32 lanes and keeps the FMA peak. Magnitudes as above.
        assertTrue(!out.get("q4_0").containsKey("fma_peak_gflop_s"), out.toString());
        double mac = num(out.get("q4_0"), "int16_mac_peak_gop_s");
        assertTrue(mac > 1 && mac < 100_000, out.toString());
        assertTrue(num(out.get("q8_0"), "fma_peak_gflop_s") > 1 && !out.get("q8_0").containsKey("int16_mac_peak_gop_s"), out.toString());
    }

    private static double num(Map<String, Object> j, String key) {
        assertTrue(j.containsKey(key), "missing " + key + " in " + j);
        return ((Number) j.get(key)).doubleValue();
    }
}
