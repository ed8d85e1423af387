package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rast.analysis.Configuration;
import dev.rast.analysis.DeltaCosine;
import dev.rast.analysis.PathCoverage;
import dev.rast.analysis.TeacherForcing;
import dev.rast.analysis.TokenKl;
import dev.rast.analysis.Trajectory;
import dev.rast.engine.backend.Backend;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.Models;
import dev.rast.kernels.cpu.CpuBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PCR, per-token KL and delta cosine against Hugging Face transformers in float64
 * (scripts/oracle/make_analysis_reference.py, on the RAST trio): KL and cosine within 1e-5 at every position, PCR
 * match counts exactly (the smallest top-2 margin along the counted positions is 0.0056, far above the F32 error of
 * ~1e-5, so no argmax can flip). Checked through the library (one teacher-forcing pass, every analysis watching it)
 * and through the command line's --json.
 */
class AnalysisReferenceTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static Backend backend;
    static JsonNode expected;
    static Path trio;
    static List<Trajectory> trajectories = new ArrayList<>();

    @TempDir static Path tmp;

    @BeforeAll
    static void open() throws Exception {
        backend = new CpuBackend(2);
        trio = Fixtures.reference("rast-trio/M").getParent();
        expected = JSON.readTree(Files.readString(trio.getParent().resolve("analysis/expected.json")));
        for (JsonNode t : expected.get("trajectories"))
            trajectories.add(new Trajectory(t.get("id").asText(), ints(t.get("prompt_tokens")), ints(t.get("tokens"))));
    }

    @AfterAll static void close() { backend.close(); }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }

    static void assertClose(JsonNode want, double[] got, String what) {
        assertEquals(want.size(), got.length, what + ": positions");
        for (int i = 0; i < got.length; i++) assertEquals(want.get(i).asDouble(), got[i], 1e-5, what + " at position " + i);
    }

    @Test
    void libraryAgreesWithTransformers() {
        List<CausalLM> models = new ArrayList<>();
        try {
            for (String m : List.of("M", "E1", "B1", "E2", "B2")) models.add(Models.load(trio.resolve(m), backend));
            int V = models.getFirst().config().vocabSize();
            Map<String, PathCoverage> pcr = new LinkedHashMap<>();
            pcr.put("M", new PathCoverage(Configuration.fused(new float[0], V), trajectories));
            pcr.put("pair1", new PathCoverage(Configuration.fused(new float[] {1f}, V), trajectories));
            pcr.put("two-pairs", new PathCoverage(Configuration.fused(new float[] {0.7f, -0.3f}, V), trajectories));
            Configuration q = Configuration.fused(new float[] {0f, 0f}, V);
            Map<String, TokenKl> kl = new LinkedHashMap<>();
            kl.put("pair1", new TokenKl(Configuration.fused(new float[] {1f}, V), q, trajectories, id -> "#" + id));
            kl.put("two-pairs", new TokenKl(Configuration.fused(new float[] {0.7f, -0.3f}, V), q, trajectories, id -> "#" + id));
            DeltaCosine cos = new DeltaCosine(2, trajectories);
            // Rows of 3 per pass: slices cut prompts and trajectories, several trajectories share passes.
            new TeacherForcing(models, 3).run(trajectories, (t, i, rows) -> {
                for (PathCoverage p : pcr.values()) p.position(t, i, rows);
                for (TokenKl k : kl.values()) k.position(t, i, rows);
                cos.position(t, i, Arrays.copyOfRange(rows, 1, rows.length));
            });
            for (int t = 0; t < trajectories.size(); t++) {
                JsonNode want = expected.get("trajectories").get(t);
                String id = trajectories.get(t).id();
                for (var e : pcr.entrySet()) {
                    assertEquals(want.get("pcr").get(e.getKey()).get("matches").asInt(), e.getValue().matches(t), id + " " + e.getKey() + " matches");
                    assertEquals(want.get("pcr").get(e.getKey()).get("positions").asInt(), e.getValue().positions(t), id + " " + e.getKey() + " positions");
                }
                for (var e : kl.entrySet()) assertClose(want.get("kl").get(e.getKey()).get("per_position"), e.getValue().perPosition(t), id + " KL " + e.getKey());
                assertEquals(want.get("cosine").get("mean").asDouble(), cos.mean(t, 0, 1), 1e-5, id + " cosine");
            }
        } finally {
            for (CausalLM m : models) m.close();
        }
    }

    static Path jsonl() throws Exception {
        Path f = tmp.resolve("trajectories.jsonl");
        StringBuilder b = new StringBuilder();
        for (JsonNode t : expected.get("trajectories"))
            b.append(JSON.writeValueAsString(Map.of("id", t.get("id").asText(), "prompt_tokens", t.get("prompt_tokens"), "tokens", t.get("tokens")))).append('\n');
        Files.writeString(f, b);
        return f;
    }

    static JsonNode analyze(String kind, String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of("analyze", kind, "--trajectories", jsonl().toString(), "--json", "--device", "cpu",
                "--model", trio.resolve("M").toString()));
        args.addAll(Arrays.asList(more));
        Cli.Result r = Cli.rast(args.toArray(new String[0]));
        assertEquals(0, r.status(), r.stderr());
        return JSON.readTree(r.stdout());
    }

    String[] pairs(String lambda1, String lambda2) {
        return new String[] {"--expert", trio.resolve("E1").toString(), "--expert-base", trio.resolve("B1").toString(), "--lambda", lambda1,
                "--expert", trio.resolve("E2").toString(), "--expert-base", trio.resolve("B2").toString(), "--lambda", lambda2};
    }

    @Test
    void commandLineAgreesWithTransformers() throws Exception {
        JsonNode pcr = analyze("pcr", pairs("0.7", "-0.3"));
        JsonNode kl = analyze("kl", pairs("0.7", "-0.3"));
        JsonNode cos = analyze("delta-cosine", pairs("1", "1"));
        JsonNode want = expected.get("trajectories");
        double pcrSum = 0, klSum = 0, cosSum = 0;
        int pcrN = 0;
        for (int t = 0; t < want.size(); t++) {
            JsonNode w = want.get(t), p = pcr.get("per_sample").get(t);
            assertEquals(w.get("id").asText(), p.get("id").asText());
            int m = w.get("pcr").get("two-pairs").get("matches").asInt(), n = w.get("pcr").get("two-pairs").get("positions").asInt();
            assertEquals(m, p.get("matches").asInt());
            assertEquals(n, p.get("positions").asInt());
            if (n > 0) {
                assertEquals((double) m / n, p.get("value").asDouble(), 1e-12);
                pcrSum += (double) m / n;
                pcrN++;
            } else {
                assertTrue(p.get("value").isNull(), "a one-token trajectory has no PCR");
            }
            assertEquals(w.get("kl").get("two-pairs").get("mean").asDouble(), kl.get("per_sample").get(t).get("value").asDouble(), 1e-5);
            assertEquals(w.get("cosine").get("mean").asDouble(), cos.get("per_sample").get(t).get("value").asDouble(), 1e-5);
            klSum += w.get("kl").get("two-pairs").get("mean").asDouble();
            cosSum += w.get("cosine").get("mean").asDouble();
        }
        assertEquals(pcrSum / pcrN, pcr.get("mean").asDouble(), 1e-12);
        assertEquals(klSum / want.size(), kl.get("mean").asDouble(), 1e-5);
        assertEquals(cosSum / want.size(), cos.get("mean").asDouble(), 1e-5);
        assertEquals(2, kl.get("ci95").size());
        assertEquals(1, cos.get("pairs").size());
    }

    @Test
    void klBetweenTwoModels() throws Exception {
        // KL(E1 ‖ B1): two models alone, each over its whole row (--model E1 --against-model B1, no pairs).
        List<String> args = new ArrayList<>(List.of("analyze", "kl", "--trajectories", jsonl().toString(), "--json", "--device", "cpu",
                "--model", trio.resolve("E1").toString(), "--against-model", trio.resolve("B1").toString()));
        Cli.Result r = Cli.rast(args.toArray(new String[0]));
        assertEquals(0, r.status(), r.stderr());
        JsonNode kl = JSON.readTree(r.stdout());
        assertEquals("B1", kl.get("q").asText());
        for (int t = 0; t < trajectories.size(); t++)
            assertEquals(expected.get("trajectories").get(t).get("kl_models").get("mean").asDouble(), kl.get("per_sample").get(t).get("value").asDouble(), 1e-5);
        args.addAll(List.of("--against-lambda", "0"));
        Cli.refused(Cli.rast(args.toArray(new String[0])), "give one");
        Cli.refused(Cli.rast("analyze", "kl", "--trajectories", jsonl().toString(), "--model", trio.resolve("E1").toString(), "--device", "cpu"),
                "--against-model");
    }

    /** A run folder written by hand: one gsm8k problem, one sample per verdict. */
    static Path run(String name, boolean... correct) throws Exception {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("settings.json"), "{\"model\": \"m\", \"dataset\": \"gsm8k\", \"n\": " + correct.length + ", \"format\": \"qwen-boxed\"}\n");
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < correct.length; i++)
            b.append("{\"dataset\": \"gsm8k\", \"idx\": 0, \"sample\": ").append(i).append(", \"completion\": \"c\", \"tokens\": 3, \"pred\": null, \"correct\": ")
                    .append(correct[i]).append("}\n");
        Files.writeString(dir.resolve("samples.jsonl"), b);
        return dir;
    }

    @Test
    void cosineAgainstRecoveryRate() throws Exception {
        // base 25%, ceiling 100%; RAST with pair 2 at 50% recovers (50 − 25)/(100 − 25) = 1/3, with pair 3 at 100%: 1.
        Path base = run("base", true, false, false, false), ceiling = run("ceiling", true, true, true, true),
                r2 = run("rast-pair2", true, true, false, false), r3 = run("rast-pair3", true, true, true, true);
        Path out = tmp.resolve("cos-out");
        List<String> args = new ArrayList<>(List.of(pairs("1", "1")));
        args.addAll(List.of("--expert", trio.resolve("E1").toString(), "--expert-base", trio.resolve("B2").toString(),
                "--recovery-runs", r2 + "," + r3, "--base-run", base.toString(), "--ceiling-run", ceiling.toString(), "--out", out.toString()));
        JsonNode cos = analyze("delta-cosine", args.toArray(new String[0]));
        JsonNode scatter = cos.get("scatter");
        assertEquals(2, scatter.size());
        assertEquals(1.0 / 3, scatter.get(0).get("recovery_rate").asDouble(), 1e-12);
        assertEquals(1.0, scatter.get(1).get("recovery_rate").asDouble(), 1e-12);
        assertEquals("rast-pair2", scatter.get(0).get("run").asText());
        // Pair 1 with pair 2 is the fixture's cosine; as a table row and as the scatter's x.
        assertEquals(cos.get("pairs").get(0).get("mean").asDouble(), scatter.get(0).get("cosine_with_pair_1").asDouble(), 1e-12);
        assertTrue(Files.readString(out.resolve("delta-cosine.svg")).contains("rast-pair3"));
        Cli.refused(Cli.rast("analyze", "delta-cosine", "--trajectories", jsonl().toString(), "--model", trio.resolve("M").toString(), "--device", "cpu",
                pairs("1", "1")[0], pairs("1", "1")[1], pairs("1", "1")[2], pairs("1", "1")[3], pairs("1", "1")[6], pairs("1", "1")[7],
                pairs("1", "1")[8], pairs("1", "1")[9], "--recovery-runs", r2.toString()), "--base-run");
    }

    @Test
    void badInputIsOneLine() throws Exception {
        String m = trio.resolve("M").toString();
        Cli.refused(Cli.rast("analyze", "pcr", "--trajectories", tmp.resolve("absent").toString(), "--model", m, "--device", "cpu"), "absent", "no such file or run folder");
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"prompt_tokens\": [1], \"tokens\": [5]}\n{\"prompt_tokens\": [1], \"tokens\": [5, 1000]}\n");
        Cli.refused(Cli.rast("analyze", "pcr", "--trajectories", bad.toString(), "--model", m, "--expert", trio.resolve("E1").toString(),
                "--expert-base", trio.resolve("B1").toString(), "--device", "cpu"), "bad.jsonl line 2", "tokens[1] = 1000");
        Files.writeString(bad, "{\"prompt_tokens\": [1], \"tokens\": []}\n");
        Cli.refused(Cli.rast("analyze", "kl", "--trajectories", bad.toString(), "--model", m, "--expert", trio.resolve("E1").toString(),
                "--expert-base", trio.resolve("B1").toString(), "--device", "cpu"), "bad.jsonl line 1", "'tokens' is empty");
        Cli.refused(Cli.rast("analyze", "delta-cosine", "--trajectories", jsonl().toString(), "--model", m, "--expert", trio.resolve("E1").toString(),
                "--expert-base", trio.resolve("B1").toString(), "--device", "cpu"), "at least two");
        Cli.refused(Cli.rast("analyze", "tokens", "--trajectories", tmp.resolve("nowhere").toString()), "nowhere");
    }
}
