package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
 * A λ sweep of rast eval on a tiny random model with the real Qwen tokenizer (one run folder per λ, resumable as a
 * whole, refused when the values change), its report (accuracy and recovery rate against λ), a temperature sweep,
 * and the analyses reading the sweep's run folders (prompts rendered again, completions re-encoded).
 */
class SweepAndRunFolderAnalysisTest {
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir static Path tmp;
    static Path model, sweep;

    static String[] eval(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("eval", "--model", model.toString(), "--dataset", "gsm8k", "--limit", "2", "--n", "2",
                "--max-tokens", "5", "--seed", "3", "--threads", "2", "--device", "cpu", "--out", out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    String[] pair(String lambda) { return new String[] {"--expert", model.toString(), "--expert-base", model.toString(), "--lambda", lambda}; }

    @BeforeAll
    static void sweep() throws IOException {
        model = tmp.resolve("tiny");
        Synthesizer.write(SynthArch.byName("tiny"), DType.BF16, 1, model, b -> {});
        sweep = tmp.resolve("sweep");
        Cli.Result r = Cli.rast(eval(sweep, "--expert", model.toString(), "--expert-base", model.toString(), "--lambda", "0,0.5,1"));
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.stdout().contains("# Sweep over lambda"), r.stdout());
    }

    @Test
    void lambdaSweepWritesOneRunFolderPerValueAndResumes() throws IOException {
        for (String d : List.of("lambda-0", "lambda-0.5", "lambda-1")) {
            assertEquals(4, Files.readAllLines(sweep.resolve(d).resolve("samples.jsonl")).size(), d);
            assertTrue(Files.exists(sweep.resolve(d).resolve("report.md")), d);
        }
        assertEquals(0.5, JSON.readTree(sweep.resolve("lambda-0.5/settings.json").toFile()).get("lambdas").get(0).asDouble());
        JsonNode points = JSON.readTree(sweep.resolve("sweep.json").toFile()).get("points");
        assertEquals(3, points.size());
        assertTrue(Files.readString(sweep.resolve("sweep.svg")).startsWith("<svg"));
        // Without base and ceiling runs there is no recovery rate: null, not NaN (which is not JSON). (Reported again
        // here: another test reports this folder with them.)
        assertEquals(0, Cli.rast("report", sweep.toString()).status());
        JsonNode rep = JSON.readTree(sweep.resolve("sweep-report.json").toFile());
        assertTrue(rep.get("points").get(0).get("recovery_rate").isNull(), rep.toString());
        // Again: nothing left to do in any folder, the same samples.
        String before = Files.readString(sweep.resolve("lambda-1/samples.jsonl"));
        Cli.Result r = Cli.rast(eval(sweep, pair("0,0.5,1")));
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.stderr().contains("2 of 2 problems already done"), r.stderr());
        assertEquals(before, Files.readString(sweep.resolve("lambda-1/samples.jsonl")));
        Cli.refused(Cli.rast(eval(sweep, pair("0,1"))), "sweep.json lists another sweep");
        Cli.refused(Cli.rast(eval(tmp.resolve("twice"), pair("1,1"))), "lists lambda 1 twice");
        Cli.refused(Cli.rast(eval(tmp.resolve("tenth"), pair("0.1,0.1"))), "lists lambda 0.1 twice"); // named as typed
    }

    @Test
    void sweepReportDrawsRecovery() throws IOException {
        Path base = tmp.resolve("lambda-0-as-base"), ceiling = tmp.resolve("ceiling");
        copyRun(sweep.resolve("lambda-0"), base, false);
        copyRun(sweep.resolve("lambda-0"), ceiling, true);
        Cli.Result r = Cli.rast("report", sweep.toString(), "--base", base.toString(), "--ceiling", ceiling.toString());
        assertEquals(0, r.status(), r.stderr());
        // base 0%, ceiling 100%: every point's recovery rate is its own accuracy.
        JsonNode rep = JSON.readTree(sweep.resolve("sweep-report.json").toFile());
        for (JsonNode p : rep.get("points"))
            assertEquals(p.get("pass1_avg").asDouble() / 100, p.get("recovery_rate").asDouble(), 1e-12, p.toString());
        String svg = Files.readString(sweep.resolve("sweep.svg"));
        assertTrue(svg.contains("recovery rate") && svg.contains("λ"), "two panels");
    }

    /** A copy of a run folder with every sample graded {@code correct}. */
    static void copyRun(Path from, Path to, boolean correct) throws IOException {
        Files.createDirectories(to);
        Files.copy(from.resolve("settings.json"), to.resolve("settings.json"));
        StringBuilder b = new StringBuilder();
        for (String line : Files.readAllLines(from.resolve("samples.jsonl")))
            b.append(line.replaceAll("\"correct\": *(true|false)", "\"correct\": " + correct)).append('\n');
        Files.writeString(to.resolve("samples.jsonl"), b);
    }

    @Test
    void temperatureSweepAndSweepsRefusedElsewhere() {
        Cli.Result r = Cli.rast(eval(tmp.resolve("tsweep"), "--temperature", "0,1"));
        assertEquals(0, r.status(), r.stderr());
        assertTrue(Files.exists(tmp.resolve("tsweep/temperature-0/samples.jsonl")) && Files.exists(tmp.resolve("tsweep/temperature-1/samples.jsonl")));
        Cli.refused(Cli.rast(eval(tmp.resolve("both"), "--temperature", "0,1", "--expert", model.toString(), "--expert-base", model.toString(), "--lambda", "0,1")),
                "sweep one at a time");
        Cli.refused(Cli.rast("generate", "--model", model.toString(), "--prompt", "hi", "--expert", model.toString(), "--expert-base", model.toString(),
                "--lambda", "0,1"), "only rast eval");
        Cli.refused(Cli.rast("generate", "--model", model.toString(), "--prompt", "hi", "--temperature", "0,1"), "only rast eval");
    }

    @Test
    void analysesReadRunFolders() throws IOException {
        Path run = sweep.resolve("lambda-1");
        Path out = tmp.resolve("analysis");
        Cli.Result r = Cli.rast("analyze", "kl", "--trajectories", run.toString(), "--model", model.toString(), "--expert", model.toString(),
                "--expert-base", model.toString(), "--device", "cpu", "--json", "--out", out.toString(), "--pages", "0,1");
        assertEquals(0, r.status(), r.stderr());
        JsonNode kl = JSON.readTree(r.stdout());
        assertEquals(4, kl.get("per_sample").size());
        assertTrue(kl.get("per_sample").get(0).get("id").asText().startsWith("gsm8k #0 sample"), kl.toString());
        assertEquals(0, kl.get("mean").asDouble(), 1e-9, "E = B: the fusion is M itself, KL 0");
        String page = Files.readString(out.resolve("kl-1.html"));
        assertTrue(page.startsWith("<!DOCTYPE html>") && page.contains("title=\"token 0,"), page);
        assertTrue(Files.exists(out.resolve("kl.md")) && Files.exists(out.resolve("kl.json")));

        r = Cli.rast("analyze", "pcr", "--trajectories", run.toString(), "--model", model.toString(), "--device", "cpu", "--json", "--limit", "3");
        assertEquals(0, r.status(), r.stderr());
        assertEquals(3, JSON.readTree(r.stdout()).get("per_sample").size());

        r = Cli.rast("analyze", "tokens", "--trajectories", sweep.resolve("lambda-0").toString(), "--trajectories", run.toString(), "--json",
                "--out", out.toString());
        assertEquals(0, r.status(), r.stderr());
        JsonNode tokens = JSON.readTree(r.stdout());
        assertEquals(2, tokens.get("runs").size());
        assertEquals("lambda-1", tokens.get("runs").get(1).get("run").asText());
        assertTrue(Files.readString(out.resolve("tokens.svg")).startsWith("<svg"));
        Cli.refused(Cli.rast("analyze", "kl", "--trajectories", run.toString(), "--model", model.toString(), "--expert", model.toString(),
                "--expert-base", model.toString(), "--device", "cpu", "--out", out.toString(), "--pages", "9"), "--pages 9", "4 trajectories");
    }
}
