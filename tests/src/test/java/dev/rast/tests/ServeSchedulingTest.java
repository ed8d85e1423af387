package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.generate.Sequences;
import dev.rast.engine.json.Json;
import dev.rast.kernels.cpu.CpuBackend;
import dev.rast.run.Lockstep;
import dev.rast.run.ModelSet;
import dev.rast.serve.ServeConfig;
import dev.rast.serve.Server;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How rast serve schedules work, over real sockets on tiny synthetic models: a base M and two expert pairs, p1 = (E, B)
 * and p2 = (D, B), all of different seeds. Each request's tokens are checked against `rast generate` with the same
 * seed and settings (an independent path: its own process of loading, whole prefill, one request alone), and the
 * per-model token counters of /metrics against the tokens each request made the models run.
 */
class ServeSchedulingTest {
    @TempDir static Path dir;
    static Path m, e, b, d;
    static Backend backend;
    static ModelSet set;
    static final HttpClient client = HttpClient.newHttpClient();

    @BeforeAll
    static void models() {
        m = dir.resolve("M");
        e = dir.resolve("E");
        b = dir.resolve("B");
        d = dir.resolve("D");
        int seed = 0;
        for (Path p : List.of(m, e, b, d))
            assertEquals(0, Cli.rast("synth", "--arch", "tiny", "--dtype", "f32", "--seed", String.valueOf(seed++), "--out", p.toString()).status());
        backend = new CpuBackend(2);
        set = ModelSet.load(m, List.of(new ModelSet.Pair(e, b, 1.0f), new ModelSet.Pair(d, b, 0.5f)), null, false, backend);
    }

    @AfterAll
    static void close() {
        if (set != null) set.close();
        if (backend != null) backend.close();
    }

    static Server start(int prefillChunk, long kvBytes, int maxBatch) {
        return Server.start(set, new ServeConfig("tiny", List.of("p1", "p2"), "127.0.0.1", 0, null, 16, maxBatch, 1 << 20, 8, prefillChunk, kvBytes));
    }

    static HttpRequest request(Server s, String path, String body) {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path));
        return (body == null ? r.GET() : r.POST(HttpRequest.BodyPublishers.ofString(body))).build();
    }

    static Map<String, Object> ok(HttpResponse<String> r) {
        assertEquals(200, r.statusCode(), r.body());
        return Json.parseObject(r.body(), "response");
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> choices(Map<String, Object> body) { return (List<Map<String, Object>>) body.get("choices"); }

    /** A counter or gauge of /metrics (with its label set, e.g. {@code rast_model_tokens_total{model="p1.expert"}}). */
    static long metric(Server s, String name) throws Exception {
        String text = client.send(request(s, "/metrics", null), HttpResponse.BodyHandlers.ofString()).body();
        return text.lines().filter(l -> l.startsWith(name + " ")).mapToLong(l -> (long) Double.parseDouble(l.substring(name.length() + 1)))
                .findFirst().orElseThrow(() -> new AssertionError(name + " not in\n" + text));
    }

    /** `rast generate` with the given pairs (name → λ), its samples' token ids and logprobs as printed by --json. */
    static List<Map<String, Object>> generate(String prompt, int n, int maxTokens, long seed, Map<String, Float> pairs) {
        List<String> args = new ArrayList<>(List.of("generate", "--model", m.toString()));
        pairs.forEach((name, lambda) -> args.addAll(List.of("--expert", (name.equals("p1") ? e : d).toString(), "--expert-base", b.toString(),
                "--lambda", String.valueOf(lambda))));
        args.addAll(List.of("--prompt", prompt, "--n", String.valueOf(n), "--temperature", "0.9", "--top-p", "0.95", "--seed", String.valueOf(seed),
                "--max-tokens", String.valueOf(maxTokens), "--ignore-eos", "--json", "--device", "cpu", "--threads", "2"));
        Cli.Result g = Cli.rast(args.toArray(String[]::new));
        assertEquals(0, g.status(), g.stderr());
        return g.stdout().lines().map(l -> Json.parseObject(l, "generate")).toList();
    }

    /** The request body for the same run through the server. */
    static String body(String prompt, int n, int maxTokens, long seed, Map<String, Float> pairs, String extra) {
        StringBuilder rast = new StringBuilder();
        pairs.forEach((name, lambda) -> rast.append(rast.isEmpty() ? "" : ", ").append("{\"name\": \"").append(name).append("\", \"lambda\": ").append(lambda).append('}'));
        return "{\"model\": \"tiny\", \"prompt\": " + Json.quote(prompt) + ", \"n\": " + n + ", \"max_tokens\": " + maxTokens
                + ", \"temperature\": 0.9, \"top_p\": 0.95, \"seed\": " + seed + ", \"ignore_eos\": true, \"return_token_ids\": true,"
                + " \"logprobs\": 0, \"rast\": {\"pairs\": [" + rast + "]}" + extra + "}";
    }

    /** The served choices equal generate's samples: the same ids, and logprobs to generate's 6 printed digits. */
    static void sameAsGenerate(List<Map<String, Object>> want, Map<String, Object> served, String what) {
        List<Map<String, Object>> got = choices(served);
        assertEquals(want.size(), got.size(), what);
        for (int s = 0; s < want.size(); s++) {
            assertArrayEquals(Fixtures.ints(want.get(s).get("tokens")), Fixtures.ints(got.get(s).get("token_ids")), what + " sample " + s);
            List<?> wl = (List<?>) want.get(s).get("logprobs"), gl = (List<?>) ((Map<?, ?>) got.get(s).get("logprobs")).get("token_logprobs");
            for (int t = 0; t < wl.size(); t++) {
                double w = ((Number) wl.get(t)).doubleValue();
                assertEquals(w, ((Number) gl.get(t)).doubleValue(), 1e-5 * (1 + Math.abs(w)), what + " logprob " + t);
            }
        }
    }

    record Run(String prompt, int n, int maxTokens, long seed, Map<String, Float> pairs) {
        /** Tokens the run makes a model that it uses go through: its prompt once, and every sample's tokens but the last. */
        long modelTokens(int promptTokens) { return promptTokens + (long) n * (maxTokens - 1); }
    }

    /**
     * Base-only requests, one with pair p2 alone, and one with both pairs, sent at once (so they decode in one
     * batch): each gives `rast generate`'s tokens for its own pairs, and the experts ran exactly the tokens of the
     * requests that use them: a base-only request made no expert run.
     */
    @Test
    void eachModelRunsOnlyForTheRequestsThatUseIt() throws Exception {
        List<Run> runs = List.of(
                new Run("The base alone, a longer story", 2, 30, 1, Map.of()),
                new Run("Pair two only", 1, 20, 2, Map.of("p2", 0.7f)),
                new Run("Both pairs", 2, 12, 3, Map.of("p1", 1.0f, "p2", -0.5f)),
                new Run("Base again", 1, 25, 4, Map.of()));
        try (Server s = start(ServeConfig.DEFAULT_PREFILL_CHUNK, 0, 8)) {
            long[] before = {metric(s, "rast_model_tokens_total{model=\"base\"}"), metric(s, "rast_model_tokens_total{model=\"p1.expert\"}"),
                    metric(s, "rast_model_tokens_total{model=\"p1.expert_base\"}"), metric(s, "rast_model_tokens_total{model=\"p2.expert\"}"),
                    metric(s, "rast_model_tokens_total{model=\"p2.expert_base\"}")};
            List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
            for (Run r : runs)
                sent.add(client.sendAsync(request(s, "/v1/completions", body(r.prompt(), r.n(), r.maxTokens(), r.seed(), r.pairs(), "")),
                        HttpResponse.BodyHandlers.ofString()));
            long[] want = new long[5];
            for (int i = 0; i < runs.size(); i++) {
                Run r = runs.get(i);
                Map<String, Object> served = ok(sent.get(i).get());
                sameAsGenerate(generate(r.prompt(), r.n(), r.maxTokens(), r.seed(), r.pairs()), served, r.prompt());
                long t = r.modelTokens(((Number) ((Map<?, ?>) served.get("usage")).get("prompt_tokens")).intValue());
                want[0] += t;
                if (r.pairs().containsKey("p1")) want[1] += t;
                if (r.pairs().containsKey("p2")) want[3] += t;
            }
            want[2] = want[1];
            want[4] = want[3];
            String[] names = {"base", "p1.expert", "p1.expert_base", "p2.expert", "p2.expert_base"};
            for (int k = 0; k < 5; k++)
                assertEquals(want[k], metric(s, "rast_model_tokens_total{model=\"" + names[k] + "\"}") - before[k], names[k] + " tokens");
        }
    }

    /**
     * A long prompt prefilled 3 tokens a step, interleaved with the decode steps of a request already streaming,
     * gives the tokens and logprobs `rast generate` gives with its prompt prefilled whole. Equal tokens follow from
     * equal logits: the CPU kernels compute each row's sums in the same order whatever rows share the pass
     * (PackedMatMul, Attention), so chunking changes no bits; the logprob tolerance is generate's 6 printed digits.
     */
    @Test
    void chunkedPrefillInterleavedWithDecodeEqualsWholePrefill() throws Exception {
        String longPrompt = "Once upon a time, in a land far away, there lived a small dragon who could not breathe fire at all, and so";
        try (Server s = start(3, 0, 8)) {
            HttpResponse<InputStream> running = client.send(request(s, "/v1/completions",
                    body("Streaming first", 1, 300, 9, Map.of("p1", 1.0f), ", \"stream\": true")), HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, running.statusCode());
            running.body().read(); // it is decoding now
            List<CompletableFuture<HttpResponse<String>>> sent = List.of(
                    client.sendAsync(request(s, "/v1/completions", body(longPrompt, 2, 10, 5, Map.of("p1", 1.0f), "")), HttpResponse.BodyHandlers.ofString()),
                    client.sendAsync(request(s, "/v1/completions", body(longPrompt + " then", 1, 8, 6, Map.of(), "")), HttpResponse.BodyHandlers.ofString()));
            sameAsGenerate(generate(longPrompt, 2, 10, 5, Map.of("p1", 1.0f)), ok(sent.get(0).get()), "chunked, RAST");
            sameAsGenerate(generate(longPrompt + " then", 1, 8, 6, Map.of()), ok(sent.get(1).get()), "chunked, base");
            String streamed = new String(running.body().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(streamed.strip().endsWith("data: [DONE]"), streamed);
        }
    }

    /**
     * The logits after a prompt prefilled in chunks of 4 (each chunk in one pass with another sequence's decode
     * token) equal those after the prompt in one pass, in every model. Tolerance: 1e-6 relative; the CPU kernels
     * promise equal bits (each row's sums in one order whatever shares the pass), the margin is for a kernel that
     * reorders within a few ulps, far below what a wrong position or a lost chunk changes (whole units).
     */
    @Test
    void chunkedPrefillLogitsEqualWholePrefill() {
        int[] prompt = new int[37];
        for (int i = 0; i < prompt.length; i++) prompt[i] = 100 + 37 * i;
        try (Lockstep whole = new Lockstep(set.models()); Lockstep chunked = new Lockstep(set.models())) {
            int w = whole.start(prompt, 64);
            int other = chunked.start(new int[] {5, 6, 7}, 64);
            int c = chunked.open(64, Sequences.ALL_MODELS);
            for (int at = 0; at < prompt.length; at += 4) {
                int end = Math.min(prompt.length, at + 4);
                chunked.step(List.of(new Sequences.Work(other, new int[] {9 + at}, true),
                        new Sequences.Work(c, java.util.Arrays.copyOfRange(prompt, at, end), end == prompt.length)));
            }
            for (int model = 0; model < set.models().size(); model++) {
                float[] want = whole.logits(model, w), got = chunked.logits(model, c);
                for (int v = 0; v < want.length; v++)
                    assertEquals(want[v], got[v], 1e-6f * (1 + Math.abs(want[v])), "model " + model + " id " + v);
            }
        }
    }

    /**
     * Admission by KV-cache memory: a request whose caches at full length could never fit the budget is a 400; of two
     * that fit alone but not together, the second waits in the queue while the first runs, and runs once the first
     * ends (here: its client goes away, long before its 20,000 tokens).
     */
    @Test
    void requestsWaitForKvCacheMemory() throws Exception {
        long perToken = set.models().stream().mapToLong(x -> x.kvCacheBytesPerToken()).sum(); // both pairs: every model
        String prompt = "Memory";
        int promptTokens = set.tokenizer().encode(prompt, true).length;
        // Reservations are whole blocks of 16 positions in every model, at full length (prompt + max_tokens).
        long first = perToken * 16 * Math.ceilDiv(promptTokens + 20_000, 16), second = perToken * 16 * Math.ceilDiv(promptTokens + 20, 16);
        long budget = first + second - 1; // each alone, not both
        try (Server s = start(ServeConfig.DEFAULT_PREFILL_CHUNK, budget, 8)) {
            HttpResponse<String> never = client.send(request(s, "/v1/completions", body(prompt, 2, 20_000, 1, Map.of("p1", 1f, "p2", 1f), "")),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(400, never.statusCode(), never.body());
            assertTrue(never.body().contains("--kv-cache-memory"), never.body());
            HttpResponse<InputStream> running = client.send(request(s, "/v1/completions",
                    body(prompt, 1, 20_000, 1, Map.of("p1", 1f, "p2", 1f), ", \"stream\": true")), HttpResponse.BodyHandlers.ofInputStream());
            running.body().read(); // decoding, with 20,000 tokens to go
            CompletableFuture<HttpResponse<String>> waiting = client.sendAsync(request(s, "/v1/completions",
                    body(prompt, 1, 20, 2, Map.of("p1", 1f, "p2", 1f), "")), HttpResponse.BodyHandlers.ofString());
            long deadline = System.currentTimeMillis() + 10_000;
            while (metric(s, "rast_queue_depth") == 0 && System.currentTimeMillis() < deadline) Thread.sleep(5);
            Thread.sleep(200); // a few more steps: it stays queued
            assertEquals(1, metric(s, "rast_queue_depth"), "the second request waits for memory");
            assertEquals(first, metric(s, "rast_kv_cache_reserved_bytes"));
            assertEquals(budget - first, metric(s, "rast_kv_cache_free_bytes"));
            assertTrue(metric(s, "rast_kv_cache_used_bytes") > 0);
            running.body().close(); // the first client goes away: its sequence ends, its memory is free
            assertEquals(1, choices(ok(waiting.get(60, java.util.concurrent.TimeUnit.SECONDS))).size());
            assertEquals(0, metric(s, "rast_queue_depth"));
            String text = client.send(request(s, "/metrics", null), HttpResponse.BodyHandlers.ofString()).body();
            for (String line : List.of("# TYPE rast_step_seconds histogram", "rast_step_seconds_bucket{le=\"0.001\"} ", "rast_step_seconds_bucket{le=\"+Inf\"} ",
                    "rast_step_seconds_count ", "rast_step_seconds_sum ", "rast_kv_cache_budget_bytes " + budget))
                assertTrue(text.contains(line), line + " in\n" + text);
            assertTrue(metric(s, "rast_step_seconds_bucket{le=\"+Inf\"}") == metric(s, "rast_step_seconds_count"), text);
            assertTrue(metric(s, "rast_step_seconds_count") >= 20, "a step per token of the second request at least");
        }
    }
}
