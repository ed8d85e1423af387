package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two runs into one output at once (issue 18): the second is refused in one line that names the first (its pid,
 * when it started, its command), before it loads a model or writes anything.
 */
class ConcurrentRunsTest {
    @TempDir Path tmp;

    static String m() { return Fixtures.reference("rast-trio/M").toString(); }

    @Test
    void aSecondGenerateIntoTheSameOutputIsRefused() throws Exception {
        Path in = tmp.resolve("p.jsonl"), out = tmp.resolve("out.jsonl");
        Files.writeString(in, "{\"prompt_tokens\": [959, 512, 210]}\n");
        String[] cmd = {"generate", "--model", m(), "--input", in.toString(), "--output", out.toString(), "--max-tokens", "2", "--threads", "2"};
        try (var other = new LockHolder.Running(tmp.resolve("out.jsonl.lock"), "pid 4242, started 2020-01-01T00:00:00Z, rast generate")) {
            Cli.refused(Cli.rast(cmd), "out.jsonl", "in use by another run", "pid 4242, started 2020-01-01T00:00:00Z");
            assertFalse(Files.exists(out), "nothing written while the other run holds the output");
        }
        Cli.Result r = Cli.rast(cmd);
        assertEquals(0, r.status(), r.stderr());
        assertEquals(1, Files.readAllLines(out).size());
        // The lock file says who holds it: this process, while it ran.
        assertTrue(Files.readString(tmp.resolve("out.jsonl.lock")).contains("pid " + ProcessHandle.current().pid()),
                Files.readString(tmp.resolve("out.jsonl.lock")));
    }

    @Test
    void aSecondEvalIntoTheSameRunFolderIsRefused() throws Exception {
        Path run = tmp.resolve("run"), data = tmp.resolve("d.jsonl");
        Files.createDirectories(run);
        Files.writeString(data, "{\"question\": \"1+1?\", \"answer\": \"2\"}\n");
        try (var other = new LockHolder.Running(run.resolve("rast.lock"), "pid 777, started 2020-01-01T00:00:00Z, rast eval")) {
            Cli.refused(Cli.rast("eval", "--model", m(), "--dataset", data.toString(), "--n", "1", "--out", run.toString()),
                    "run", "in use by another run", "pid 777");
            assertFalse(Files.exists(run.resolve("settings.json")), "nothing written while the other run holds the folder");
        }
    }

    @Test
    void aSecondSweepIntoTheSameFolderIsRefused() throws Exception {
        Path sweep = tmp.resolve("sweep"), data = tmp.resolve("d.jsonl");
        Files.createDirectories(sweep);
        Files.writeString(data, "{\"question\": \"1+1?\", \"answer\": \"2\"}\n");
        Path trio = Fixtures.reference("rast-trio/M").getParent();
        try (var other = new LockHolder.Running(sweep.resolve("rast.lock"), "pid 778, started 2020-01-01T00:00:00Z, rast eval (sweep)")) {
            Cli.refused(Cli.rast("eval", "--model", m(), "--expert", trio.resolve("E1").toString(), "--expert-base", trio.resolve("B1").toString(),
                    "--lambda", "0,1", "--dataset", data.toString(), "--n", "1", "--out", sweep.toString()), "sweep", "in use by another run", "pid 778");
            assertFalse(Files.exists(sweep.resolve("sweep.json")), "nothing written while the other run holds the folder");
        }
    }

    @Test
    void theSameOutputTwiceInOneProcessIsRefusedToo() throws Exception {
        Path out = tmp.resolve("o.jsonl");
        try (var held = dev.rast.engine.files.RunLock.beside(out, "rast generate", "--output")) {
            Path in = tmp.resolve("p.jsonl");
            Files.writeString(in, "{\"prompt_tokens\": [5]}\n");
            Cli.refused(Cli.rast("generate", "--model", m(), "--input", in.toString(), "--output", out.toString(), "--threads", "1"),
                    "in use by another run", "pid " + ProcessHandle.current().pid());
        }
    }
}
