package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.tensor.DType;
import dev.rast.synth.SynthArch;
import dev.rast.synth.Synthesizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resuming after the input changed (issue 18): rows already written belong to the prompt or problem they were made
 * from, not to a line number. Prompts added at the end are generated; rows whose line now holds another prompt or
 * problem, or that were made with other settings, are refused with the line and the reason, and the output is left
 * as it was.
 */
class ResumeByContentTest {
    @TempDir Path tmp;
    @TempDir static Path shared;
    static Path tiny;

    @BeforeAll
    static void tinyModel() throws IOException {
        tiny = shared.resolve("tiny");
        Synthesizer.write(SynthArch.byName("tiny"), DType.BF16, 1, tiny, b -> {});
    }

    static String m() { return Fixtures.reference("rast-trio/M").toString(); }

    String[] generate(Path in, Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("generate", "--model", m(), "--input", in.toString(), "--output", out.toString(),
                "--n", "2", "--max-tokens", "3", "--temperature", "1", "--seed", "5", "--ignore-eos", "--threads", "2"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    static final String P0 = "{\"prompt_tokens\": [959, 512, 210], \"id\": \"a\"}\n", P1 = "{\"prompt_tokens\": [374, 16], \"id\": \"b\"}\n",
            P2 = "{\"prompt_tokens\": [515, 5, 6, 7], \"id\": \"c\"}\n";

    @Test
    void generateMakesTheNewPromptsAndRefusesEditedOnes() throws IOException {
        Path in = tmp.resolve("in.jsonl"), out = tmp.resolve("out.jsonl");
        Files.writeString(in, P0 + P1);
        Cli.Result r = Cli.rast(generate(in, out));
        assertEquals(0, r.status(), r.stderr());
        assertEquals(4, Files.readAllLines(out).size());

        // A prompt added at the end is generated; the others are kept.
        Files.writeString(in, P0 + P1 + P2);
        r = Cli.rast(generate(in, out));
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.stderr().contains("2 of 3 prompts already done"), r.stderr());
        assertEquals(6, Files.readAllLines(out).size());
        String before = Files.readString(out);

        // The second prompt edited in place: its rows were made from another prompt.
        Files.writeString(in, P0 + P1.replace("374", "375") + P2);
        Cli.refused(Cli.rast(generate(in, out)), "out.jsonl line", "prompt 1", "in.jsonl line 2", "changed");
        assertEquals(before, Files.readString(out), "the output is left as it was");

        // A prompt inserted at the top moves every other one to another line (and another seed).
        Files.writeString(in, P2 + P0 + P1);
        Cli.refused(Cli.rast(generate(in, out)), "out.jsonl line", "prompt 0", "in.jsonl line 1", "changed");

        // Only the id of a row changed: its rows would carry the old id.
        Files.writeString(in, P0.replace("\"a\"", "\"z\"") + P1 + P2);
        Cli.refused(Cli.rast(generate(in, out)), "prompt 0", "changed");

        // Prompts removed from the end: their rows belong to no prompt of the input.
        Files.writeString(in, P0 + P1);
        Cli.refused(Cli.rast(generate(in, out)), "prompt 2", "is not in", "in.jsonl (it has 2 prompts");

        // Same input, other sampling settings: the rows would mix two experiments.
        Files.writeString(in, P0 + P1 + P2);
        Cli.refused(Cli.rast(generate(in, out, "--top-p", "0.5")), "out.jsonl line 1", "other settings");
        Cli.refused(Cli.rast(generate(in, out, "--min-p", "0.01")), "out.jsonl line 1", "other settings");

        // Back to the input and settings the rows were made with: nothing to do, nothing changed.
        r = Cli.rast(generate(in, out));
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.stderr().contains("all 3 prompts already done"), r.stderr());
        assertEquals(before, Files.readString(out));
        // Rows written before rast kept their source are taken by their line, as then.
        String legacy = before.replaceAll(", \"prompt_hash\": \"[0-9a-f]+\", \"settings_hash\": \"[0-9a-f]+\"", "");
        assertTrue(!legacy.contains("hash") && legacy.lines().count() == 6, legacy);
        Files.writeString(out, legacy);
        r = Cli.rast(generate(in, out));
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.stderr().contains("all 3 prompts already done"), r.stderr());
        Files.writeString(out, before);
        // More samples per prompt extend the same rows (samples are seeded one by one).
        String[] three = generate(in, out);
        three[java.util.Arrays.asList(three).indexOf("--n") + 1] = "3";
        r = Cli.rast(three);
        assertEquals(0, r.status(), r.stderr());
        assertEquals(9, Files.readAllLines(out).size());
    }

    String[] eval(Path data, Path run) {
        return new String[] {"eval", "--model", tiny.toString(), "--dataset", data.toString(), "--n", "1", "--max-tokens", "2",
                "--seed", "1", "--threads", "2", "--out", run.toString()};
    }

    @Test
    void evalOnACustomDatasetMakesNewProblemsAndRefusesEditedOnes() throws IOException {
        Path data = tmp.resolve("d.jsonl"), run = tmp.resolve("run");
        String q0 = "{\"question\": \"What is 1+1?\", \"answer\": \"2\"}\n", q1 = "{\"question\": \"What is 2+2?\", \"answer\": \"4\"}\n",
                q2 = "{\"question\": \"What is 3+3?\", \"answer\": \"6\"}\n";
        Files.writeString(data, q0 + q1);
        Cli.Result r = Cli.rast(eval(data, run));
        assertEquals(0, r.status(), r.stderr());
        assertEquals(2, Files.readAllLines(run.resolve("samples.jsonl")).size());

        Files.writeString(data, q0 + q1 + q2);
        r = Cli.rast(eval(data, run));
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.stderr().contains("2 of 3 problems already done"), r.stderr());
        assertEquals(3, Files.readAllLines(run.resolve("samples.jsonl")).size());
        String before = Files.readString(run.resolve("samples.jsonl"));

        // The gold answer of problem 1 corrected: its graded samples were graded against the old one.
        Files.writeString(data, q0 + q1.replace("\"4\"", "\"5\"") + q2);
        Cli.refused(Cli.rast(eval(data, run)), "samples.jsonl line 2", "problem 1", "d.jsonl line 2", "changed");
        // A problem inserted at the top.
        Files.writeString(data, q2 + q0 + q1);
        Cli.refused(Cli.rast(eval(data, run)), "samples.jsonl line 1", "problem 0", "changed");
        // A problem removed from the end.
        Files.writeString(data, q0 + q1);
        Cli.refused(Cli.rast(eval(data, run)), "samples.jsonl line 3", "problem 2", "not in");
        assertEquals(before, Files.readString(run.resolve("samples.jsonl")), "samples.jsonl is left as it was");
        // The report of the run is still made (rast report reads the samples as they are).
        r = Cli.rast("report", run.toString());
        assertEquals(0, r.status(), r.stderr());

        // Sampling options the folder's settings.json did not record before are compared too.
        Files.writeString(data, q0 + q1 + q2);
        String[] topK = java.util.Arrays.copyOf(eval(data, run), eval(data, run).length + 2);
        topK[topK.length - 2] = "--top-k";
        topK[topK.length - 1] = "5";
        Cli.refused(Cli.rast(topK), "was started with top_k = 0, not 5");
        // A folder from before they were recorded resumes: they could only have been the defaults.
        Path settings = run.resolve("settings.json");
        var old = new java.util.LinkedHashMap<>(dev.rast.engine.json.Json.parseObject(Files.readAllBytes(settings), settings));
        for (String k : List.of("top_k", "min_p", "stop", "ignore_eos")) assertTrue(old.containsKey(k), k);
        old.keySet().removeAll(List.of("top_k", "min_p", "stop", "ignore_eos"));
        Files.writeString(settings, dev.rast.engine.json.Json.pretty(old));
        r = Cli.rast(eval(data, run));
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.stderr().contains("3 of 3 problems already done"), r.stderr());
    }
}
