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
        @SuppressWarnings("unchecked")
        Map<String, Object> j = (Map<String, Object>) Json.parse(r.stdout().strip());
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
    }

    private static double num(Map<String, Object> j, String key) {
        assertTrue(j.containsKey(key), "missing " + key + " in " + j);
        return ((Number) j.get(key)).doubleValue();
    }
}
