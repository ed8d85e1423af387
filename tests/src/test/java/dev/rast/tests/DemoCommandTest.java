package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `rast demo`, the README's first command: it builds its random trio once in the cache folder, says the weights are
 * random, and its step table agrees with its summary. λ = 0 must leave M alone (no changed step, fused log-probability
 * equal to M's at every step); λ = 1 with an expert pair of different random weights must move the log-probabilities.
 */
class DemoCommandTest {
    @TempDir Path cache;

    /** A table row: step, '=' or '≠', logp fused, logp M. */
    private static final Pattern ROW = Pattern.compile("^\\s*(\\d+)\\s+.*\\s([=≠])\\s.*\\s(-?\\d+\\.\\d{3})\\s+(-?\\d+\\.\\d{3})$");
    private static final Pattern SUMMARY = Pattern.compile("changed M's top token at (\\d+) of (\\d+) steps");

    private record Row(int step, boolean changed, double fused, double base) {}

    @Test
    void buildsItsTrioOnceAndItsTableAgreesWithItsSummary() {
        Cli.Result off = Cli.rast("demo", "--cache", cache.toString(), "--max-tokens", "3", "--lambda", "0", "--threads", "2", "--device", "cpu");
        assertEquals(0, off.status(), off.stderr());
        assertTrue(off.stdout().contains("RANDOM weights"), off.stdout());
        for (String m : new String[] {"M-qwen2.5-0.5b-bf16", "E-tiny-f32", "B-tiny-f32"})
            assertTrue(Files.isRegularFile(cache.resolve(m).resolve("model.safetensors")), m + " built in the cache folder");
        List<Row> rows = rows(off.stdout());
        assertEquals(3, rows.size(), off.stdout());
        for (Row r : rows) {
            assertTrue(!r.changed(), "λ = 0 changes nothing: " + r);
            assertEquals(r.base(), r.fused(), 0.0, "λ = 0: the fused log-probability is M's (same printed digits): " + r);
        }
        assertSummary(off.stdout(), 0, 3);

        Cli.Result on = Cli.rast("demo", "--cache", cache.toString(), "--max-tokens", "3", "--threads", "2", "--device", "cpu");
        assertEquals(0, on.status(), on.stderr());
        assertTrue(!on.stderr().contains("synth"), "the second run reuses the cached models: " + on.stderr());
        rows = rows(on.stdout());
        assertEquals(3, rows.size(), on.stdout());
        int changed = 0;
        boolean moved = false;
        for (Row r : rows) {
            if (r.changed()) changed++;
            moved |= r.fused() != r.base();
        }
        assertSummary(on.stdout(), changed, 3);
        // E and B are random tiny models of different seeds: their delta is nowhere zero, so at λ = 1 some step's
        // fused log-probability of the chosen token differs from M's in the three printed decimals.
        assertTrue(moved, on.stdout());
        assertNotEquals(off.stdout(), on.stdout());
    }

    private static List<Row> rows(String out) {
        List<Row> rows = new ArrayList<>();
        for (String line : out.split("\\R")) {
            Matcher m = ROW.matcher(line);
            if (m.matches())
                rows.add(new Row(Integer.parseInt(m.group(1)), m.group(2).equals("≠"), Double.parseDouble(m.group(3)), Double.parseDouble(m.group(4))));
        }
        for (int i = 0; i < rows.size(); i++) assertEquals(i, rows.get(i).step(), out);
        return rows;
    }

    private static void assertSummary(String out, int changed, int steps) {
        Matcher m = SUMMARY.matcher(out);
        assertTrue(m.find(), out);
        assertEquals(changed, Integer.parseInt(m.group(1)), out);
        assertEquals(steps, Integer.parseInt(m.group(2)), out);
    }
}
