package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Small files written whole or not at all (issue 18): a disk that fills while a run folder's settings.json is written
 * (simulated with a file size limit of 0 in a child JVM) leaves no empty file that would poison every rerun.
 */
class FullDiskTest {
    @TempDir Path tmp;

    static String m() { return Fixtures.reference("rast-trio/M").toString(); }

    @Test
    void settingsThatCouldNotBeWrittenDoNotPoisonTheRerun() throws Exception {
        Path run = tmp.resolve("run"), data = tmp.resolve("d.jsonl");
        Files.writeString(data, "{\"question\": \"1+1?\", \"answer\": \"2\"}\n");
        String[] args = {"eval", "--model", m(), "--dataset", data.toString(), "--n", "1", "--max-tokens", "2", "--threads", "1",
                "--out", run.toString()};
        // ulimit -f 0: every write fails with "File too large", as on a full disk.
        Cli.Result r = ChildJvm.rastWithFileSizeLimit(0, args);
        assertEquals(2, r.status(), r.stderr());
        assertTrue(r.stderr().contains("settings.json"), r.stderr());
        assertFalse(Files.exists(run.resolve("settings.json")), "no empty or partial settings.json left behind");
        try (var files = Files.list(run)) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList(), "no temporary file left");
        }
        // The rerun is not refused over settings.json (it stops later: this model has no tokenizer).
        r = Cli.rast(args);
        Cli.refused(r, "has no tokenizer.json");
        assertTrue(Files.exists(run.resolve("settings.json")));
        Json.parseObject(Files.readAllBytes(run.resolve("settings.json")), "settings.json");
    }
}
