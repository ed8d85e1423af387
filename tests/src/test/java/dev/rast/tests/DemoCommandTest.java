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
 * `rast demo`, the README's first command. On the lab (the default): it copies the lab models into the cache folder,
 * prints an accuracy for each model and λ, and its recovery rates follow from its accuracies; RAST at λ = 0 is M
 * alone, so their accuracies must be equal. With --random: it builds its random trio once in the cache folder, says
 * the weights are random, and its step table agrees with its summary. λ = 0 must leave M alone (no changed step,
 * fused log-probability equal to M's at every step); λ = 1 with an expert pair of different random weights must move
 * the log-probabilities.
 */
class DemoCommandTest {
    @TempDir Path cache;

    /** A table row: step, '=' or '≠', logp fused, logp M. */
    private static final Pattern ROW = Pattern.compile("^\\s*(\\d+)\\s+.*\\s([=≠])\\s.*\\s(-?\\d+\\.\\d{3})\\s+(-?\\d+\\.\\d{3})$");
    private static final Pattern SUMMARY = Pattern.compile("changed M's top token at (\\d+) of (\\d+) steps");

    private record Row(int step, boolean changed, double fused, double base) {}

    @Test
    void buildsItsTrioOnceAndItsTableAgreesWithItsSummary() {
        Cli.Result off = Cli.rast("demo", "--random", "--cache", cache.toString(), "--max-tokens", "3", "--lambda", "0", "--threads", "2", "--device", "cpu");
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

        Cli.Result on = Cli.rast("demo", "--random", "--cache", cache.toString(), "--max-tokens", "3", "--threads", "2", "--device", "cpu");
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

    private static final Pattern ACC = Pattern.compile("^\\s*(B|E|M|M_RL|RAST  M \\+ ([0-9.]+)·\\(E − B\\))\\s.*?(\\d+\\.\\d)%(?:\\s+recovery (-?\\d+)%)?.*$");

    @Test
    void labAccuraciesAndRecoveryRatesAgree() {
        Cli.Result r = Cli.rast("demo", "--cache", cache.toString(), "--limit", "12", "--lambdas", "0,1", "--threads", "2", "--device", "cpu");
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.stdout().contains("the pocket lab"), r.stdout());
        java.util.Map<String, Double> acc = new java.util.HashMap<>();
        java.util.Map<String, Integer> recovery = new java.util.HashMap<>();
        for (String line : r.stdout().split("\\R")) {
            Matcher m = ACC.matcher(line);
            if (!m.matches()) continue;
            String key = m.group(2) != null ? "λ" + m.group(2) : m.group(1);
            acc.put(key, Double.parseDouble(m.group(3)));
            if (m.group(4) != null) recovery.put(key, Integer.parseInt(m.group(4)));
        }
        assertEquals(java.util.Set.of("B", "E", "M", "M_RL", "λ0", "λ1"), acc.keySet(), r.stdout());
        // M + 0·(E − B) is M's row exactly, so greedy decoding and the accuracy are M's.
        assertEquals(acc.get("M"), acc.get("λ0"), r.stdout());
        if (!acc.get("M").equals(acc.get("M_RL"))) {
            assertEquals(0, recovery.get("λ0"), r.stdout());
            long want = Math.round(100 * (acc.get("λ1") - acc.get("M")) / (acc.get("M_RL") - acc.get("M")));
            assertTrue(Math.abs(want - recovery.get("λ1")) <= 1, "recovery from the printed (rounded) accuracies: " + want + "\n" + r.stdout());
        }
        try (var dirs = Files.list(cache)) {
            assertTrue(dirs.anyMatch(d -> d.getFileName().toString().startsWith("lab-") && Files.isRegularFile(d.resolve("M/model.safetensors"))),
                    "the lab models are copied into the cache folder");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
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
