package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rast report RUN --base B --ceiling C} writes into RUN only: baselines may be read-only or shared (issue 18). */
class ReportBaselinesTest {
    @TempDir Path tmp;

    @Test
    void reportWritesIntoTheRunOnlyNotIntoItsBaselines() throws IOException {
        Path base = runFolder("base", 2), ceil = runFolder("ceil", 2), run = runFolder("rast", 2);
        Cli.Result r = Cli.rast("report", run.toString(), "--base", base.toString(), "--ceiling", ceil.toString());
        assertEquals(0, r.status(), r.stderr());
        assertTrue(Files.exists(run.resolve("report.md")) && Files.exists(run.resolve("report.json")));
        for (Path p : List.of(base, ceil)) {
            try (var files = Files.list(p)) {
                assertEquals(List.of("samples.jsonl", "settings.json"), files.map(f -> f.getFileName().toString()).sorted().toList(),
                        p + " must be left as it was");
            }
        }
        assertFalse(r.stdout().contains(base.resolve("report.md").toString()), r.stdout());
    }

    Path runFolder(String name, int n) throws IOException { return RunFolders.write(tmp.resolve(name), n); }
}
