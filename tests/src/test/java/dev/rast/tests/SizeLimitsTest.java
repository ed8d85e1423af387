package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sizes that would exhaust memory or threads (issue 18) are refused in one line before the work: samples per
 * prompt, threads, bench's prompt, steps, runs and batch, and a run folder whose settings ask for billions of
 * samples; a report takes memory for the rows a run has, not for n per problem.
 */
class SizeLimitsTest {
    @TempDir Path tmp;

    static String m() { return Fixtures.reference("rast-trio/M").toString(); }

    @Test
    void samplesPerPromptAreCapped() {
        Cli.refused(Cli.rast("generate", "--model", m(), "--prompt-tokens", "1,2", "--n", "1000000", "--threads", "1"),
                "--n 1000000", "65536");
        Cli.refused(Cli.rast("eval", "--model", m(), "--dataset", "gsm8k", "--n", "100000", "--out", tmp.resolve("r").toString()),
                "--n 100000");
        assertFalse(Files.exists(tmp.resolve("r")), "refused before the run folder is made");
    }

    @Test
    void threadsAreCapped() {
        int cap = Math.min(1024, Math.max(8, 4 * Runtime.getRuntime().availableProcessors()));
        Cli.refused(Cli.rast("forward", "--model", m(), "--tokens", "1,2", "--threads", "100000"), "--threads 100000", "" + cap);
        Cli.Result r = Cli.rast("forward", "--model", m(), "--tokens", "1,2", "--threads", "" + cap);
        assertEquals(0, r.status(), r.stderr());
    }

    @Test
    void benchSizesAreCheckedAgainstMemory() {
        Cli.refused(Cli.rast("bench", "--model", m(), "--prompt-len", "2000000000", "--threads", "1"), "--prompt-len 2000000000");
        Cli.refused(Cli.rast("bench", "--model", m(), "--prompt-len", "4", "--gen", "2000000000", "--threads", "1"), "--gen 2000000000");
        Cli.refused(Cli.rast("bench", "--model", m(), "--prompt-len", "4", "--gen", "1", "--runs", "2000000000", "--threads", "1"),
                "--runs 2000000000");
        Cli.refused(Cli.rast("bench", "--model", m(), "--prompt-len", "4", "--gen", "1", "--batch", "100000000", "--threads", "1"),
                "--batch 100000000");
    }

    @Test
    void teacherForcingRowsPerPassAreCheckedAgainstMemory() throws IOException {
        Path t = tmp.resolve("t.jsonl");
        Files.writeString(t, "{\"id\": \"a\", \"prompt_tokens\": [5, 6], \"tokens\": [7, 8]}\n");
        for (String rows : new String[] {"2000000000", "3000000"})
            Cli.refused(Cli.rast("analyze", "pcr", "--trajectories", t.toString(), "--model", m(), "--device", "cpu", "--threads", "1",
                    "--rows-per-pass", rows), "--rows-per-pass " + rows);
    }

    @Test
    void aRunFolderAskingForBillionsOfSamplesIsRefused() throws IOException {
        Path run = runFolder("huge", 1);
        Files.writeString(run.resolve("settings.json"), Files.readString(run.resolve("settings.json")).replace("\"n\": 1", "\"n\": 2000000000"));
        Cli.refused(Cli.rast("report", run.toString()), "settings.json", "n 2000000000", "65536");
    }

    @Test
    void aReportOfManySparseProblemsTakesMemoryForTheirRowsOnly() throws IOException {
        // n = 65536 and 20,000 problems with one sample each: the report must not make room for 65536 per problem.
        Path run = runFolder("sparse", 1);
        Files.writeString(run.resolve("settings.json"), Files.readString(run.resolve("settings.json")).replace("\"n\": 1", "\"n\": 65536"));
        StringBuilder rows = new StringBuilder();
        for (int i = 0; i < 20_000; i++)
            rows.append("{\"dataset\": \"gsm8k\", \"idx\": ").append(i).append(", \"sample\": 0, \"completion\": \"c\", \"tokens\": 1, \"pred\": \"3\", \"correct\": false}\n");
        Files.writeString(run.resolve("samples.jsonl"), rows);
        Cli.Result r = Cli.rast("report", run.toString());
        assertEquals(0, r.status(), r.stderr());
    }

    Path runFolder(String name, int n) throws IOException { return RunFolders.write(tmp.resolve(name), n); }
}
