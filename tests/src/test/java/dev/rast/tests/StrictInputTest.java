package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Input that used to be accepted quietly (issue 18) is refused in one line naming where it is wrong: a trailing or
 * doubled comma in token ids, negative numbers in a run's samples, an empty data set, bytes that are not UTF-8 in
 * grade's standard input or a data set file.
 */
class StrictInputTest {
    @TempDir Path tmp;

    static String m() { return Fixtures.reference("rast-trio/M").toString(); }

    @Test
    void aTrailingCommaInTokenIdsIsRefused() {
        Cli.refused(Cli.rast("forward", "--model", m(), "--tokens", "1,2,", "--threads", "1"), "--tokens", "empty");
        Cli.refused(Cli.rast("forward", "--model", m(), "--tokens", "1,,2", "--threads", "1"), "--tokens", "empty");
        Cli.refused(Cli.rast("generate", "--model", m(), "--prompt-tokens", "1,2,", "--threads", "1"), "--prompt-tokens", "empty");
        Cli.refused(Cli.withStdin("[1, 2,]", "detokenize", "--tokenizer", Fixtures.tokenizerDir("qwen").toString()), "standard input", "empty");
    }

    @Test
    void stopStringsThatCouldNeverMatchAreRefused() {
        // Stop strings are matched in decoded text: this model has no tokenizer, so they would be ignored.
        Cli.refused(Cli.rast("generate", "--model", m(), "--prompt-tokens", "1,2", "--stop", "x", "--threads", "1"),
                "no tokenizer.json", "--stop");
        Cli.refused(Cli.rast("generate", "--model", m(), "--prompt-tokens", "1,2", "--stop=", "--threads", "1"),
                "--stop strings must not be empty");
    }

    @Test
    void aNegativeIndexInSamplesIsRefused() throws IOException {
        Path run = runFolder("neg", 1);
        Files.writeString(run.resolve("samples.jsonl"),
                "{\"dataset\": \"gsm8k\", \"idx\": -1, \"sample\": 0, \"completion\": \"c\", \"tokens\": 7, \"pred\": \"3\", \"correct\": false}\n");
        Cli.refused(Cli.rast("report", run.toString()), "samples.jsonl line 1", "'idx'", "-1");
        Files.writeString(run.resolve("samples.jsonl"),
                "{\"dataset\": \"gsm8k\", \"idx\": 0, \"sample\": 0, \"completion\": \"c\", \"tokens\": -7, \"pred\": \"3\", \"correct\": false}\n");
        Cli.refused(Cli.rast("report", run.toString()), "samples.jsonl line 1", "'tokens'", "-7");
    }

    @Test
    void evalOnAnEmptyDatasetIsRefused() throws IOException {
        Path data = tmp.resolve("empty.jsonl");
        Files.writeString(data, "\n\n");
        Cli.refused(Cli.rast("eval", "--model", m(), "--dataset", data.toString(), "--out", tmp.resolve("r").toString()),
                "empty.jsonl", "no problems");
        Cli.refused(Cli.rast("eval", "--model", m(), "--dataset", "gsm8k,", "--out", tmp.resolve("r").toString()), "--dataset", "empty");
        assertFalse(Files.exists(tmp.resolve("r")));
    }

    @Test
    void invalidUtf8OnGradesStdinIsRefusedNamingTheLine() {
        byte[] in = "{\"completion\": \"\\\\boxed{2}\", \"gold\": \"2\"}\n{\"completion\": \"caf\u00e9 \\\\boxed{3}\", \"gold\": \"3\"}\n"
                .getBytes(StandardCharsets.UTF_8);
        byte[] bad = java.util.Arrays.copyOf(in, in.length);
        int e = new String(in, StandardCharsets.ISO_8859_1).indexOf('\u00c3'); // the first byte of "é"
        bad[e + 1] = (byte) 0x28; // the second byte of "é" replaced: not UTF-8
        Cli.Result r = Cli.withStdin(bad, "grade", "--dataset", "aime24");
        Cli.refused(r, "stdin line 2", "not valid UTF-8");
        // The same text as valid UTF-8 grades.
        r = Cli.withStdin(in, "grade", "--dataset", "aime24");
        assertEquals(0, r.status(), r.stderr());
        assertEquals(2, r.stdout().lines().count());
    }

    @Test
    void invalidUtf8InADatasetFileNamesTheLine() throws IOException {
        Path data = tmp.resolve("d.jsonl");
        byte[] good = "{\"question\": \"1+1?\", \"answer\": \"2\"}\n".getBytes(StandardCharsets.UTF_8);
        byte[] bytes = java.util.Arrays.copyOf(good, good.length * 2);
        System.arraycopy(good, 0, bytes, good.length, good.length);
        bytes[good.length + 3] = (byte) 0xFF;
        Files.write(data, bytes);
        Cli.refused(Cli.withStdin("{\"completion\": \"2\", \"gold\": \"2\"}\n", "grade", "--dataset", data.toString()),
                "d.jsonl line 2", "not valid UTF-8");
    }

    Path runFolder(String name, int n) throws IOException { return RunFolders.write(tmp.resolve(name), n); }
}
