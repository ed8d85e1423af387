package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.json.Json;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `rast bench serve --json`: one line per concurrency with the figures derived consistently. No timing asserts. */
class BenchServeCommandTest {
    @TempDir Path tmp;

    @Test
    void oneLinePerConcurrencyWithConsistentFigures() {
        Path m = tmp.resolve("M"), e = tmp.resolve("E"), b = tmp.resolve("B");
        int seed = 0;
        for (Path p : List.of(m, e, b))
            assertEquals(0, Cli.rast("synth", "--arch", "tiny", "--dtype", "f32", "--seed", String.valueOf(seed++), "--out", p.toString()).status());
        Cli.Result r = Cli.rast("bench", "serve", "--model", m.toString(), "--expert", e.toString(), "--expert-base", b.toString(),
                "--concurrency", "1,3", "--prompt-len", "5", "--gen", "4", "--rounds", "1", "--device", "cpu", "--threads", "2", "--json");
        assertEquals(0, r.status(), r.stderr());
        List<String> lines = r.stdout().lines().toList();
        assertEquals(2, lines.size(), r.stdout());
        for (int i = 0; i < 2; i++) {
            Map<String, Object> j = Json.parseObject(lines.get(i), "stdout");
            assertEquals(i == 0 ? 1L : 3L, j.get("streams"));
            assertEquals(1L, j.get("pairs"));
            double tok = num(j, "tok_s"), gen = num(j, "generate_tok_s");
            assertTrue(tok > 0 && gen > 0, j.toString());
            // overhead = 1 − served / generate, printed with 2 decimals.
            assertEquals(1 - tok / gen, num(j, "overhead"), 0.006, j.toString());
            assertTrue(num(j, "ttft_ms_p50") <= num(j, "ttft_ms_p99") && num(j, "itl_ms_p50") <= num(j, "itl_ms_p99"), j.toString());
        }
        Cli.refused(Cli.rast("bench", "serve", "--model", m.toString(), "--concurrency", "0"), "--concurrency");
        Cli.refused(Cli.rast("bench"), "--model");
    }

    private static double num(Map<String, Object> j, String k) { return ((Number) j.get(k)).doubleValue(); }
}
