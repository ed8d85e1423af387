package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.tensor.DType;
import dev.rast.synth.SynthArch;
import dev.rast.synth.Synthesizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `rast eval` end to end on a tiny random model (real Qwen tokenizer, real vocabulary size): 5 problems of each of
 * the six data sets, 2 samples each. Correctness is not expected (random weights); the plumbing is: every sample
 * graded and logged, the report written, a crash mid-run resumed to the same samples, and a re-run with other
 * settings refused.
 */
class EvalEndToEndTest {
    @TempDir Path tmp;

    static final String DATASETS = "math500,gsm8k,aime24,amc23,minerva_math,olympiadbench";

    String[] eval(Path model, Path out, String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of("eval", "--model", model.toString(), "--dataset", DATASETS,
                "--limit", "5", "--n", "2", "--max-tokens", "6", "--seed", "3", "--threads", "2", "--out", out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void evaluatesResumesAndReports() throws IOException {
        Path model = tmp.resolve("tiny");
        Synthesizer.write(SynthArch.byName("tiny"), DType.BF16, 1, model, b -> {});
        Path run = tmp.resolve("run");
        Cli.Result r = Cli.rast(eval(model, run));
        assertEquals(0, r.status(), r.stderr());
        List<String> all = Files.readAllLines(run.resolve("samples.jsonl"));
        assertEquals(6 * 5 * 2, all.size(), "6 data sets × 5 problems × 2 samples");
        assertTrue(Files.exists(run.resolve("report.md")) && Files.exists(run.resolve("report.json")));
        for (String d : DATASETS.split(",")) assertTrue(r.stdout().contains("| " + d + " | 5 |"), r.stdout());

        // A crash: the first 25 samples kept, the 26th torn mid-line, report gone.
        Files.writeString(run.resolve("samples.jsonl"), String.join("\n", all.subList(0, 25)) + "\n" + all.get(25).substring(0, 30));
        Files.delete(run.resolve("report.json"));
        r = Cli.rast(eval(model, run));
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.stderr().contains("problems already done, resuming"), r.stderr());
        List<String> resumed = Files.readAllLines(run.resolve("samples.jsonl"));
        assertEquals(60, resumed.size());
        // Seeds are per problem and sample, so the resumed samples are the ones the first run made.
        assertEquals(new TreeSet<>(all), new TreeSet<>(resumed));
        assertTrue(Files.exists(run.resolve("report.json")));

        // Other settings in the same folder would mix two experiments.
        Cli.refused(Cli.rast(eval(model, run, "--temperature", "0.5")),
                "was started with temperature = 1.0, not 0.5");
        Cli.refused(Cli.rast(eval(model, run, "--dtype", "f32")), "was started with dtype = auto, not f32");
        Cli.refused(Cli.rast(eval(model, run, "--kv-cache-dtype", "F32")), "was started with kv_cache_dtype = auto, not f32");
        // Another tokenizer would map the same text to other ids: refused, naming both folders.
        Path otherTokenizer = tmp.resolve("tiny2");
        Synthesizer.write(SynthArch.byName("tiny"), DType.BF16, 2, otherTokenizer, b -> {});
        Cli.refused(Cli.rast(eval(model, run, "--tokenizer", otherTokenizer.toString())),
                "was started with tokenizer = " + model + ", not " + otherTokenizer);
        // A folder from before the dtypes were recorded: they were auto then, so it resumes.
        Path settings = run.resolve("settings.json");
        Map<String, Object> old = new java.util.LinkedHashMap<>(dev.rast.engine.json.Json.parseObject(Files.readAllBytes(settings), settings));
        assertEquals("auto", old.remove("dtype"));
        assertEquals("auto", old.remove("kv_cache_dtype"));
        assertEquals(model.toString(), old.remove("tokenizer"));
        Files.writeString(settings, dev.rast.engine.json.Json.pretty(old));
        r = Cli.rast(eval(model, run));
        assertEquals(0, r.status(), r.stderr());
    }

    @Test
    void badInput() throws IOException {
        Path model = Fixtures.reference("rast-trio/M");
        Cli.refused(Cli.rast("eval", "--model", model.toString(), "--dataset", "nope",
                "--out", tmp.resolve("r").toString()), "nope");
        Path file = tmp.resolve("file");
        Files.writeString(file, "x");
        Cli.refused(Cli.rast("eval", "--model", model.toString(), "--dataset", "gsm8k",
                "--out", file.resolve("sub").toString()), "cannot create the folder");
        Cli.refused(Cli.rast("eval", "--model", model.toString(), "--dataset", "gsm8k",
                "--limit", "1", "--out", tmp.resolve("r2").toString()), "has no tokenizer.json");
    }
}
