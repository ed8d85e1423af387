package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.json.Json;
import dev.rast.kernels.cpu.CpuBackend;
import dev.rast.run.ModelSet;
import dev.rast.serve.ServeConfig;
import dev.rast.serve.Server;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * rast serve over real sockets (the JDK's HttpClient) on tiny synthetic models: a base M and one expert pair (E, B)
 * of different seeds, so RAST changes the logits.
 */
class ServeTest {
    @TempDir static Path dir;
    static Path m, e, b;
    static Backend backend;
    static ModelSet set;
    static Server server;
    static final HttpClient client = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        m = dir.resolve("M");
        e = dir.resolve("E");
        b = dir.resolve("B");
        int seed = 0;
        for (Path p : List.of(m, e, b))
            assertEquals(0, Cli.rast("synth", "--arch", "tiny", "--dtype", "f32", "--seed", String.valueOf(seed++), "--out", p.toString()).status());
        backend = new CpuBackend(2);
        set = ModelSet.load(m, List.of(new ModelSet.Pair(e, b, 1.0f)), null, false, backend);
        server = Server.start(set, config(null, 8, 1 << 16));
    }

    static ServeConfig config(String key, int queue, int maxBody) {
        return new ServeConfig("tiny", List.of("pair1"), "127.0.0.1", 0, key, queue, 8, maxBody, 8);
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (set != null) set.close();
        if (backend != null) backend.close();
    }

    static HttpResponse<String> send(Server s, String method, String path, String body, String key) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path));
        if (key != null) r.header("Authorization", "Bearer " + key);
        r.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return client.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(String path, String body) throws Exception { return send(server, "POST", path, body, null); }

    static Map<String, Object> ok(HttpResponse<String> r) {
        assertEquals(200, r.statusCode(), r.body());
        return Json.parseObject(r.body(), "response");
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> choices(Map<String, Object> body) { return (List<Map<String, Object>>) body.get("choices"); }

    /** The data events of an SSE body; the last must be [DONE]. */
    static List<Map<String, Object>> events(HttpResponse<String> r) {
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("text/event-stream", r.headers().firstValue("Content-Type").orElse(""));
        List<String> data = r.body().lines().filter(l -> !l.isEmpty()).toList();
        for (String l : data) assertTrue(l.startsWith("data: "), l);
        assertEquals("data: [DONE]", data.getLast());
        return data.subList(0, data.size() - 1).stream().map(l -> Json.parseObject(l.substring(6), "event")).toList();
    }

    static int[] ints(Object list) { return ((List<?>) list).stream().mapToInt(o -> ((Number) o).intValue()).toArray(); }

    @Test
    void healthAndModels() throws Exception {
        assertEquals(200, send(server, "GET", "/health", null, null).statusCode());
        Map<String, Object> models = ok(send(server, "GET", "/v1/models", null, null));
        List<?> ids = ((List<?>) models.get("data")).stream().map(o -> ((Map<?, ?>) o).get("id")).toList();
        assertEquals(List.of("tiny", "tiny+rast"), ids);
        assertEquals(404, send(server, "GET", "/v1/nothing", null, null).statusCode());
        assertEquals(405, send(server, "GET", "/v1/completions", null, null).statusCode());
    }

    /** A stop string ends the text just before it, with finish_reason "stop", whole and streamed. */
    @Test
    void stopStringEndsTheText() throws Exception {
        String req = "{\"model\": \"tiny+rast\", \"prompt\": \"The\", \"max_tokens\": 16, \"temperature\": 0, \"ignore_eos\": true";
        String full = (String) choices(ok(post("/v1/completions", req + "}"))).getFirst().get("text");
        int i = full.length() / 2;
        while (i < full.length() && (Character.isSurrogate(full.charAt(i)) || Character.isWhitespace(full.charAt(i)))) i++;
        org.junit.jupiter.api.Assumptions.assumeTrue(i < full.length(), "the text has a character to stop at: " + full);
        String stop = String.valueOf(full.charAt(i));
        String withStop = req + ", \"stop\": [" + Json.quote(stop) + "]";
        Map<String, Object> c = choices(ok(post("/v1/completions", withStop + "}"))).getFirst();
        assertEquals(full.substring(0, full.indexOf(stop)), c.get("text"));
        assertEquals("stop", c.get("finish_reason"));
        StringBuilder streamed = new StringBuilder();
        for (var e : events(post("/v1/completions", withStop + ", \"stream\": true}"))) streamed.append(choices(e).getFirst().get("text"));
        assertEquals(c.get("text"), streamed.toString());
    }

    @Test
    void metricsInPrometheusText() throws Exception {
        ok(post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"a\", \"max_tokens\": 3, \"ignore_eos\": true}"));
        HttpResponse<String> r = send(server, "GET", "/metrics", null, null);
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        for (String line : List.of("# TYPE rast_requests_total counter", "rast_requests_total{status=\"200\"} ",
                "# TYPE rast_queue_depth gauge", "rast_running_sequences ", "rast_prompt_tokens_total ", "rast_generation_tokens_total "))
            assertTrue(r.body().contains(line), line + " in\n" + r.body());
        long generated = r.body().lines().filter(l -> l.startsWith("rast_generation_tokens_total ")).mapToLong(l -> Long.parseLong(l.split(" ")[1])).sum();
        assertTrue(generated >= 3, r.body());
    }

    @Test
    void completionWholeAndStreamedAgree() throws Exception {
        String req = "{\"model\": \"tiny+rast\", \"prompt\": \"Hello world\", \"max_tokens\": 10, \"seed\": 5, \"return_token_ids\": true";
        Map<String, Object> whole = ok(post("/v1/completions", req + "}"));
        assertEquals("text_completion", whole.get("object"));
        Map<String, Object> c = choices(whole).getFirst();
        int[] ids = ints(c.get("token_ids"));
        Map<?, ?> usage = (Map<?, ?>) whole.get("usage");
        assertEquals((long) ids.length, usage.get("completion_tokens"));
        assertTrue(List.of("stop", "length").contains(c.get("finish_reason")));

        List<Map<String, Object>> ev = events(post("/v1/completions", req + ", \"stream\": true, \"stream_options\": {\"include_usage\": true}}"));
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (var e : ev.subList(0, ev.size() - 1)) {
            var ch = choices(e).getFirst();
            text.append(ch.get("text"));
            if (ch.get("finish_reason") != null) finish = (String) ch.get("finish_reason");
        }
        assertEquals(c.get("text"), text.toString());
        assertEquals(c.get("finish_reason"), finish);
        assertEquals(usage, ev.getLast().get("usage"));
    }

    @Test
    void chatWholeAndStreamedAgree() throws Exception {
        String req = "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi there\"}], \"max_completion_tokens\": 8, \"seed\": 3";
        Map<String, Object> whole = ok(post("/v1/chat/completions", req + "}"));
        assertEquals("chat.completion", whole.get("object"));
        Map<?, ?> msg = (Map<?, ?>) choices(whole).getFirst().get("message");
        Map<?, ?> lp = (Map<?, ?>) choices(ok(post("/v1/chat/completions", req + ", \"logprobs\": true}"))).getFirst().get("logprobs");
        List<?> lpContent = (List<?>) lp.get("content");
        assertEquals(((Map<?, ?>) whole.get("usage")).get("completion_tokens"), (long) lpContent.size());
        for (Object o : lpContent) assertTrue(((Number) ((Map<?, ?>) o).get("logprob")).doubleValue() <= 0, lp.toString());
        assertEquals("assistant", msg.get("role"));

        List<Map<String, Object>> ev = events(post("/v1/chat/completions", req + ", \"stream\": true}"));
        assertEquals("assistant", ((Map<?, ?>) choices(ev.getFirst()).getFirst().get("delta")).get("role"));
        StringBuilder text = new StringBuilder();
        for (var e : ev) {
            assertEquals("chat.completion.chunk", e.get("object"));
            Object content = ((Map<?, ?>) choices(e).getFirst().get("delta")).get("content");
            if (content != null) text.append(content);
        }
        assertEquals(msg.get("content"), text.toString());
        assertNotNull(choices(ev.getLast()).getFirst().get("finish_reason"));
    }

    @Test
    void nSamplesStreamed() throws Exception {
        List<Map<String, Object>> ev = events(post("/v1/completions",
                "{\"model\": \"tiny\", \"prompt\": \"abc\", \"n\": 3, \"max_tokens\": 6, \"seed\": 1, \"ignore_eos\": true, \"stream\": true}"));
        int[] finished = new int[3];
        for (var e : ev) {
            var ch = choices(e).getFirst();
            if (ch.get("finish_reason") != null) finished[((Number) ch.get("index")).intValue()]++;
        }
        assertArrayEquals(new int[] {1, 1, 1}, finished);
        Map<String, Object> whole = ok(post("/v1/completions",
                "{\"model\": \"tiny\", \"prompt\": \"abc\", \"n\": 3, \"max_tokens\": 6, \"seed\": 1, \"ignore_eos\": true}"));
        assertEquals(3, choices(whole).size());
        for (var ch : choices(whole)) assertEquals("length", ch.get("finish_reason"));
        assertEquals(18L, ((Map<?, ?>) whole.get("usage")).get("completion_tokens"));
    }

    /** A request gives exactly the tokens `rast generate` gives with the same seed and settings, plain and with RAST. */
    @ParameterizedTest
    @ValueSource(strings = {"plain", "rast-default", "rast-0.5"})
    void sameTokensAsGenerate(String kind) throws Exception {
        List<String> args = new ArrayList<>(List.of("generate", "--model", m.toString()));
        String model = "tiny", rast = "";
        if (!kind.equals("plain")) {
            args.addAll(List.of("--expert", e.toString(), "--expert-base", b.toString()));
            if (kind.equals("rast-0.5")) {
                args.addAll(List.of("--lambda", "0.5"));
                rast = ", \"rast\": {\"pairs\": [{\"name\": \"pair1\", \"lambda\": 0.5}]}";
            } else model = "tiny+rast";
        }
        args.addAll(List.of("--prompt", "Once upon a time", "--n", "2", "--temperature", "0.8", "--top-p", "0.9", "--top-k", "50",
                "--seed", "11", "--max-tokens", "12", "--json", "--device", "cpu", "--threads", "2"));
        Cli.Result g = Cli.rast(args.toArray(String[]::new));
        assertEquals(0, g.status(), g.stderr());
        List<String> lines = g.stdout().lines().toList();
        Map<String, Object> served = ok(post("/v1/completions", "{\"model\": \"" + model + "\", \"prompt\": \"Once upon a time\", \"n\": 2,"
                + " \"temperature\": 0.8, \"top_p\": 0.9, \"top_k\": 50, \"seed\": 11, \"max_tokens\": 12, \"return_token_ids\": true, \"logprobs\": 0" + rast + "}"));
        for (int s = 0; s < 2; s++) {
            Map<String, Object> want = Json.parseObject(lines.get(s), "generate");
            Map<String, Object> got = choices(served).get(s);
            assertArrayEquals(ints(want.get("tokens")), ints(got.get("token_ids")), kind + " sample " + s);
            assertEquals(want.get("text"), got.get("text"));
            List<?> wantLp = (List<?>) want.get("logprobs"), gotLp = (List<?>) ((Map<?, ?>) got.get("logprobs")).get("token_logprobs");
            assertEquals(wantLp.size(), gotLp.size());
            for (int t = 0; t < wantLp.size(); t++)
                assertEquals(((Number) wantLp.get(t)).doubleValue(), ((Number) gotLp.get(t)).doubleValue(),
                        1e-5 * (1 + Math.abs(((Number) wantLp.get(t)).doubleValue())), kind + " logprob " + t); // generate prints 6 digits
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "not json", "[1, 2]", "{}", "{\"model\": \"other\", \"prompt\": \"a\"}", "{\"model\": 5, \"prompt\": \"a\"}",
            "{\"model\": \"tiny\"}", "{\"model\": \"tiny\", \"prompt\": 5}", "{\"model\": \"tiny\", \"prompt\": []}",
            "{\"model\": \"tiny\", \"prompt\": [1, -2]}", "{\"model\": \"tiny\", \"prompt\": [99999999]}",
            "{\"model\": \"tiny\", \"prompt\": \"a\", \"temperature\": \"hot\"}", "{\"model\": \"tiny\", \"prompt\": \"a\", \"temperature\": -1}",
            "{\"model\": \"tiny\", \"prompt\": \"a\", \"top_p\": 0}", "{\"model\": \"tiny\", \"prompt\": \"a\", \"min_p\": 2}",
            "{\"model\": \"tiny\", \"prompt\": \"a\", \"n\": 0}", "{\"model\": \"tiny\", \"prompt\": \"a\", \"n\": 1000}",
            "{\"model\": \"tiny\", \"prompt\": \"a\", \"max_tokens\": 0}", "{\"model\": \"tiny\", \"prompt\": \"a\", \"max_tokens\": 100000000}",
            "{\"model\": \"tiny\", \"prompt\": \"a\", \"max_tokens\": 1.5}", "{\"model\": \"tiny\", \"prompt\": \"a\", \"stop\": 5}",
            "{\"model\": \"tiny\", \"prompt\": \"a\", \"seed\": \"x\"}", "{\"model\": \"tiny\", \"prompt\": \"a\", \"stream\": \"yes\"}",
            "{\"model\": \"tiny\", \"prompt\": \"a\", \"logprobs\": 21}", "{\"model\": \"tiny\", \"prompt\": \"a\", \"logprobs\": true}",
            "{\"model\": \"tiny\", \"prompt\": \"a\", \"top_logprobs\": 2}", "{\"model\": \"tiny\", \"prompt\": [[1, 2], \"a\", 5]}",
            "{\"model\": \"tiny\", \"prompt\": [[]]}", "{\"model\": \"tiny\", \"prompt\": [\"a\", []]}", "{\"model\": \"tiny\", \"prompt\": \"a\", \"ignore_eos\": 1}",
            "{\"model\": \"tiny\", \"prompt\": \"a\", \"rast\": 1}", "{\"model\": \"tiny\", \"prompt\": \"a\", \"rast\": {\"pairs\": [{\"name\": \"nope\"}]}}",
            "{\"model\": \"tiny\", \"prompt\": \"a\", \"rast\": {\"pairs\": [{\"name\": \"pair1\", \"lambda\": \"x\"}]}}",
            "{\"model\": \"tiny\", \"prompt\": \"a\", \"seed\": 99999999999999999999}", "{\"model\": \"tiny\", \"prompt\": \"\\ud800\"}"})
    void badRequestsAre400(String body) throws Exception {
        HttpResponse<String> r = post("/v1/completions", body);
        if (body.contains("\\ud800") && r.statusCode() == 200) return; // a lone surrogate may be encoded as U+FFFD: fine either way
        assertEquals(400, r.statusCode(), body + " → " + r.body());
        Map<?, ?> error = (Map<?, ?>) Json.parseObject(r.body(), "error").get("error");
        String message = (String) error.get("message");
        assertFalse(message.isBlank());
        assertFalse(message.contains("Exception") || message.contains("\tat "), message);
        assertEquals("invalid_request_error", error.get("type"));
        assertTrue(error.containsKey("param") && error.containsKey("code"), r.body());
    }

    @Test
    void chatWithoutMessagesIs400AndBigBodyIs413() throws Exception {
        assertEquals(400, post("/v1/chat/completions", "{\"model\": \"tiny\", \"prompt\": \"a\"}").statusCode());
        assertEquals(413, post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"" + "a".repeat(70_000) + "\"}").statusCode());
    }

    @Test
    void apiKeyIsRequired() throws Exception {
        try (Server keyed = Server.start(set, config("s3cret", 8, 1 << 16))) {
            String body = "{\"model\": \"tiny\", \"prompt\": \"a\", \"max_tokens\": 2}";
            HttpResponse<String> none = send(keyed, "POST", "/v1/completions", body, null);
            assertEquals(401, none.statusCode());
            assertTrue(none.body().contains("\"authentication_error\""), none.body());
            assertEquals(401, send(keyed, "POST", "/v1/completions", body, "s3creT").statusCode());
            assertEquals(401, send(keyed, "GET", "/v1/models", null, "wrong").statusCode());
            assertEquals(200, send(keyed, "POST", "/v1/completions", body, "s3cret").statusCode());
            assertEquals(200, send(keyed, "GET", "/health", null, null).statusCode());
        }
    }

    /** One long request runs, one waits in a queue of one: the rest are refused with 429 and Retry-After. */
    @Test
    void fullQueueIs429() throws Exception {
        try (Server small = Server.start(set, new ServeConfig("tiny", List.of("pair1"), "127.0.0.1", 0, null, 1, 1, 1 << 16, 8))) {
            String longBody = "{\"model\": \"tiny+rast\", \"prompt\": \"a\", \"max_tokens\": 400, \"ignore_eos\": true, \"stream\": true}";
            HttpRequest longReq = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + small.port() + "/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(longBody)).build();
            HttpResponse<java.io.InputStream> running = client.send(longReq, HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, running.statusCode());
            running.body().read(); // the first event: the long request is decoding
            List<CompletableFuture<HttpResponse<String>>> more = new ArrayList<>();
            for (int i = 0; i < 6; i++)
                more.add(client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + small.port() + "/v1/completions"))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"tiny\", \"prompt\": \"b\", \"max_tokens\": 2}")).build(),
                        HttpResponse.BodyHandlers.ofString()));
            int refused = 0;
            for (var f : more) {
                HttpResponse<String> r = f.get();
                if (r.statusCode() == 429) {
                    refused++;
                    assertEquals("1", r.headers().firstValue("Retry-After").orElse(null));
                    assertTrue(r.body().contains("\"rate_limit_error\""), r.body());
                } else assertEquals(200, r.statusCode(), r.body());
            }
            assertTrue(refused >= 1, "at least one request refused");
            running.body().close();
        }
    }

    @Test
    void commandLineMistakesAreOneLine() {
        Cli.refused(Cli.rast("serve", "--model", m.toString(), "--port", "70000"), "--port must be 0..65535");
        Cli.refused(Cli.rast("serve", "--model", m.toString(), "--max-queue", "0"), "--max-queue");
        Cli.refused(Cli.rast("serve", "--model", m.toString(), "--prefill-chunk", "0"), "--prefill-chunk must be at least 1");
        Cli.refused(Cli.rast("serve", "--model", m.toString(), "--kv-cache-memory", "lots"), "--kv-cache-memory lots");
        Cli.refused(Cli.rast("serve", "--model", m.toString(), "--shutdown-grace", "-1"), "--shutdown-grace");
        Cli.refused(Cli.rast("serve", "--model", m.toString(), "--expert", e.toString(), "--expert-base", b.toString(), "--name", "x",
                "--expert", e.toString(), "--expert-base", b.toString(), "--name", "x"), "two expert pairs are named 'x'");
        Cli.refused(Cli.rast("generate", "--model", m.toString(), "--prompt", "a", "--expert", e.toString(), "--expert-base", b.toString(),
                "--name", "x", "--device", "cpu"), "--name names a pair for rast serve");
    }

    /**
     * Base-only and RAST requests of different settings sent at once decode in one continuous batch (joining
     * between steps) and each gives the tokens it gives alone.
     */
    @Test
    void concurrentMixedRequestsEqualTheirSoloRuns() throws Exception {
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < 6; i++)
            bodies.add("{\"model\": \"" + (i % 2 == 0 ? "tiny" : "tiny+rast") + "\", \"prompt\": \"story " + i + "\", \"n\": " + (1 + i % 3)
                    + ", \"max_tokens\": " + (4 + 3 * i) + ", \"seed\": " + i + ", \"ignore_eos\": true, \"return_token_ids\": true"
                    + (i == 3 ? ", \"rast\": {\"pairs\": [{\"name\": \"pair1\", \"lambda\": 0.25}]}" : "") + (i == 4 ? ", \"stream\": true" : "") + "}");
        List<String> solo = new ArrayList<>();
        for (String body : bodies) solo.add(tokens(post("/v1/completions", body)));
        for (String t : solo) assertTrue(t.contains("0=["), "token ids came back: " + t);
        List<CompletableFuture<HttpResponse<String>>> together = new ArrayList<>();
        for (String body : bodies)
            together.add(client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()));
        for (int i = 0; i < bodies.size(); i++) assertEquals(solo.get(i), tokens(together.get(i).get()), bodies.get(i));
    }

    /**
     * top_logprobs against an independent reference: the base model's logits rows recomputed here (a Lockstep of
     * the base alone, fed the prompt and the chosen tokens), log_softmax in double and a full sort. Tolerance 1e-4:
     * the server's values are f32 logits minus a log-normalizer summed in double, the reference's all in double.
     */
    @Test
    void topLogprobsEqualAReferenceSoftmax() throws Exception {
        String req = "{\"model\": \"tiny\", \"prompt\": [9707, 1879], \"max_tokens\": 5, \"temperature\": 0.7, \"seed\": 4, \"return_token_ids\": true";
        Map<String, Object> c = choices(ok(post("/v1/completions", req + ", \"logprobs\": 3}"))).getFirst();
        int[] ids = ints(c.get("token_ids"));
        Map<?, ?> lp = (Map<?, ?>) c.get("logprobs");
        List<?> tops = (List<?>) lp.get("top_logprobs"), chosen = (List<?>) lp.get("token_logprobs");
        Map<?, ?> chat = (Map<?, ?>) choices(ok(post("/v1/chat/completions", "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}],"
                + " \"max_tokens\": 4, \"seed\": 2, \"logprobs\": true, \"top_logprobs\": 2}"))).getFirst().get("logprobs");
        for (Object entry : (List<?>) chat.get("content")) {
            List<?> alt = (List<?>) ((Map<?, ?>) entry).get("top_logprobs");
            assertEquals(2, alt.size(), entry.toString());
            double l0 = ((Number) ((Map<?, ?>) alt.get(0)).get("logprob")).doubleValue(), l1 = ((Number) ((Map<?, ?>) alt.get(1)).get("logprob")).doubleValue();
            assertTrue(l0 >= l1 && l0 <= 0, entry.toString());
            assertTrue(((Map<?, ?>) alt.get(0)).containsKey("bytes"), entry.toString());
        }
        try (dev.rast.run.Lockstep base = new dev.rast.run.Lockstep(List.of(set.models().getFirst()))) {
            int seq = base.start(new int[] {9707, 1879}, 16);
            for (int t = 0; t < ids.length; t++) {
                float[] row = base.logits(0, seq);
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (float x : row) max = Math.max(max, x);
                for (float x : row) sum += Math.exp(x - max);
                double logZ = max + Math.log(sum);
                Integer[] order = new Integer[row.length];
                for (int v = 0; v < row.length; v++) order[v] = v;
                java.util.Arrays.sort(order, (x, y) -> row[x] != row[y] ? Float.compare(row[y], row[x]) : Integer.compare(x, y));
                Map<?, ?> top = (Map<?, ?>) tops.get(t);
                assertEquals(3, top.size(), top.toString());
                for (int k = 0; k < 3; k++) {
                    String text = set.tokenizer().decode(new int[] {order[k]});
                    assertEquals(row[order[k]] - logZ, ((Number) top.get(text)).doubleValue(), 1e-4, "token " + t + " alternative " + k);
                }
                assertEquals(row[ids[t]] - logZ, ((Number) chosen.get(t)).doubleValue(), 1e-4, "chosen token " + t);
                base.step(new int[] {seq}, new int[] {ids[t]});
            }
        }
    }

    /** Streamed logprobs, concatenated over a choice's chunks, are the whole answer's, for completions and chat. */
    @Test
    void streamedLogprobsEqualWhole() throws Exception {
        String comp = "{\"model\": \"tiny+rast\", \"prompt\": \"Logprobs\", \"n\": 2, \"max_tokens\": 7, \"seed\": 8, \"logprobs\": 2";
        List<Map<String, Object>> whole = choices(ok(post("/v1/completions", comp + "}")));
        List<List<Object>> streamed = List.of(new ArrayList<>(), new ArrayList<>());
        for (var e : events(post("/v1/completions", comp + ", \"stream\": true}")))
            for (var ch : choices(e)) streamed.get(((Number) ch.get("index")).intValue()).addAll((List<?>) ((Map<?, ?>) ch.get("logprobs")).get("token_logprobs"));
        for (int s = 0; s < 2; s++) assertEquals(((Map<?, ?>) whole.get(s).get("logprobs")).get("token_logprobs"), streamed.get(s), "choice " + s);

        String chat = "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"max_tokens\": 6, \"seed\": 3, \"logprobs\": true, \"top_logprobs\": 1";
        Object wholeChat = ((Map<?, ?>) choices(ok(post("/v1/chat/completions", chat + "}"))).getFirst().get("logprobs")).get("content");
        List<Object> streamedChat = new ArrayList<>();
        for (var e : events(post("/v1/chat/completions", chat + ", \"stream\": true}")))
            streamedChat.addAll((List<?>) ((Map<?, ?>) choices(e).getFirst().get("logprobs")).get("content"));
        assertEquals(wholeChat, streamedChat);
    }

    /**
     * Several prompts in one completions request: choice p·n + s is prompt p's sample s (OpenAI's order), equal to
     * that prompt's own request; strings and token-id lists both.
     */
    @Test
    void severalPromptsInOneRequest() throws Exception {
        String settings = ", \"n\": 2, \"max_tokens\": 5, \"seed\": 12, \"ignore_eos\": true, \"return_token_ids\": true}";
        List<Map<String, Object>> both = choices(ok(post("/v1/completions", "{\"model\": \"tiny+rast\", \"prompt\": [\"First one\", [9707, 11, 1879]]" + settings)));
        assertEquals(4, both.size());
        List<Map<String, Object>> first = choices(ok(post("/v1/completions", "{\"model\": \"tiny+rast\", \"prompt\": \"First one\"" + settings)));
        List<Map<String, Object>> second = choices(ok(post("/v1/completions", "{\"model\": \"tiny+rast\", \"prompt\": [9707, 11, 1879]" + settings)));
        for (int s = 0; s < 2; s++) {
            assertEquals((long) s, both.get(s).get("index"));
            assertEquals(first.get(s).get("token_ids"), both.get(s).get("token_ids"), "prompt 0 sample " + s);
            assertEquals(second.get(s).get("token_ids"), both.get(2 + s).get("token_ids"), "prompt 1 sample " + s);
        }
        String streamed = tokens(post("/v1/completions", "{\"model\": \"tiny+rast\", \"prompt\": [\"First one\", [9707, 11, 1879]], \"stream\": true" + settings));
        assertEquals(tokens(post("/v1/completions", "{\"model\": \"tiny+rast\", \"prompt\": [\"First one\", [9707, 11, 1879]]" + settings)), streamed);
    }

    static long metric(Server s, String name) throws Exception {
        String text = send(s, "GET", "/metrics", null, null).body();
        return text.lines().filter(l -> l.startsWith(name + " ")).mapToLong(l -> (long) Double.parseDouble(l.substring(name.length() + 1))).findFirst().orElseThrow();
    }

    /**
     * A client that sends a whole (not streamed) request and closes its connection while it decodes: its sequences
     * end and free their caches within a few heartbeats, long before its 20,000 tokens would have been made.
     */
    @Test
    void departedClientOfAWholeRequestIsCancelled() throws Exception {
        long baseBefore = metric(server, "rast_model_tokens_total{model=\"base\"}");
        String body = "{\"model\": \"tiny+rast\", \"prompt\": \"Cancel me\", \"max_tokens\": 20000, \"ignore_eos\": true}";
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
            byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            socket.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                    + bytes.length + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            socket.getOutputStream().write(bytes);
            socket.getOutputStream().flush();
            long deadline = System.currentTimeMillis() + 10_000;
            while (metric(server, "rast_running_sequences") == 0 && System.currentTimeMillis() < deadline) Thread.sleep(5);
            assertEquals(1, metric(server, "rast_running_sequences"), "the request is decoding");
        }
        long deadline = System.currentTimeMillis() + 10_000;
        // The running count drops when the sequence ends; its caches are freed at the next step, a moment later.
        while ((metric(server, "rast_running_sequences") != 0 || metric(server, "rast_kv_cache_used_bytes") != 0)
                && System.currentTimeMillis() < deadline) Thread.sleep(20);
        assertEquals(0, metric(server, "rast_running_sequences"), "its sequence ended");
        assertEquals(0, metric(server, "rast_kv_cache_used_bytes"), "its caches are freed");
        long ran = metric(server, "rast_model_tokens_total{model=\"base\"}") - baseBefore;
        assertTrue(ran < 20000, "stopped after " + ran + " tokens");
    }

    /**
     * SIGTERM (Process.destroy) to a `rast serve` in a child JVM while a stream runs: with a grace period shorter
     * than the stream, the stream ends cleanly (its choice's finish_reason "abort", then [DONE]) and the process
     * exits 0.
     */
    @Test
    void sigtermDrainsAndExitsZero() throws Exception {
        Process p = new ProcessBuilder(ChildJvm.command(dev.rast.cli.Main.class, "serve", "--model", m.toString(), "--expert", e.toString(),
                "--expert-base", b.toString(), "--port", "0", "--shutdown-grace", "1", "--device", "cpu", "--threads", "1"))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        try {
            var err = new java.io.BufferedReader(new java.io.InputStreamReader(p.getErrorStream(), java.nio.charset.StandardCharsets.UTF_8));
            int port = -1;
            for (String line; port < 0 && (line = err.readLine()) != null; ) {
                var match = java.util.regex.Pattern.compile("listening on http://127.0.0.1:(\\d+)").matcher(line);
                if (match.find()) port = Integer.parseInt(match.group(1));
            }
            assertTrue(port > 0, "the server started");
            HttpResponse<java.io.InputStream> stream = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"M+rast\", \"prompt\": \"Long\", \"max_tokens\": 30000,"
                            + " \"ignore_eos\": true, \"stream\": true}")).build(), HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, stream.statusCode());
            var in = new java.io.BufferedReader(new java.io.InputStreamReader(stream.body(), java.nio.charset.StandardCharsets.UTF_8));
            assertTrue(in.readLine().startsWith("data: "), "decoding");
            p.destroy(); // SIGTERM
            List<String> rest = in.lines().filter(l -> !l.isEmpty()).toList();
            assertEquals("data: [DONE]", rest.getLast());
            Map<String, Object> last = Json.parseObject(rest.get(rest.size() - 2).substring(6), "event");
            assertEquals("abort", choices(last).getFirst().get("finish_reason"));
            assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "the server exited");
            assertEquals(0, p.exitValue());
        } finally {
            p.destroyForcibly();
        }
    }

    /** Each choice's token ids, whole or streamed, as one string. */
    static String tokens(HttpResponse<String> r) {
        List<Map<String, Object>> choices = new ArrayList<>();
        if (r.body().startsWith("data: ")) for (var e : events(r)) choices.addAll(choices(e));
        else choices.addAll(choices(ok(r)));
        java.util.TreeMap<Integer, String> byIndex = new java.util.TreeMap<>();
        for (var c : choices)
            if (c.get("token_ids") != null) byIndex.put(((Number) c.get("index")).intValue(), java.util.Arrays.toString(ints(c.get("token_ids"))));
        return byIndex.toString();
    }
}
