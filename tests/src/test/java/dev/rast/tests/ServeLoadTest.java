package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bounded load test on loopback: 64 streaming requests at once, of mixed prompt lengths, max tokens, n, sampling
 * settings and RAST settings (base alone, each pair, both, negative λ), on tiny synthetic models, with a batch of 32
 * (so half wait in the queue) and prompts prefilled 16 tokens a step. Every request completes; its streamed text,
 * token count and per-token logprobs add up to exactly what the same request gives alone (no token lost or
 * duplicated), and its ids equal its solo run's.
 */
class ServeLoadTest {
    @TempDir static Path dir;

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void sixtyFourConcurrentStreamsEachEqualTheirSoloRun() throws Exception {
        Path m = dir.resolve("M"), e = dir.resolve("E"), b = dir.resolve("B"), d = dir.resolve("D");
        int seed = 0;
        for (Path p : List.of(m, e, b, d))
            assertEquals(0, Cli.rast("synth", "--arch", "tiny", "--dtype", "f32", "--seed", String.valueOf(seed++), "--out", p.toString()).status());
        try (Backend backend = new CpuBackend(2);
             ModelSet set = ModelSet.load(m, List.of(new ModelSet.Pair(e, b, 1.0f), new ModelSet.Pair(d, b, 0.5f)), null, false, backend);
             Server server = Server.start(set, new ServeConfig("tiny", List.of("p1", "p2"), "127.0.0.1", 0, null, 64, 32, 1 << 20, 4, 16, 0))) {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            String[] rast = {"", ", \"rast\": {\"pairs\": [{\"name\": \"p1\"}]}", ", \"rast\": {\"pairs\": [{\"name\": \"p2\", \"lambda\": -0.3}]}",
                    ", \"rast\": {\"pairs\": [{\"name\": \"p1\", \"lambda\": 0.5}, {\"name\": \"p2\"}]}"};
            List<String> bodies = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                String prompt = "Request " + i + " says" + " and then some more words".repeat(i % 7 * 2);
                bodies.add("{\"model\": \"" + (i % 5 == 0 ? "tiny+rast" : "tiny") + "\", \"prompt\": " + Json.quote(prompt) + ", \"n\": " + (1 + i % 2)
                        + ", \"max_tokens\": " + (2 + (i * 7) % 18) + ", \"temperature\": " + (i % 3 == 0 ? 0 : 0.8) + ", \"top_p\": 0.9, \"seed\": " + i
                        + ", \"ignore_eos\": " + (i % 4 != 0) + ", \"return_token_ids\": true, \"logprobs\": 0" + rast[i % 4]);
            }
            List<CompletableFuture<HttpResponse<String>>> streams = new ArrayList<>();
            for (String body : bodies)
                streams.add(client.sendAsync(post(server, body + ", \"stream\": true}"), HttpResponse.BodyHandlers.ofString()));
            List<HttpResponse<String>> streamed = new ArrayList<>();
            for (var f : streams) streamed.add(f.get(240, TimeUnit.SECONDS));
            for (int i = 0; i < bodies.size(); i++) {
                Map<String, Object> solo = Json.parseObject(client.send(post(server, bodies.get(i) + "}"), HttpResponse.BodyHandlers.ofString()).body(), "solo");
                List<?> soloChoices = (List<?>) solo.get("choices");
                assertNotNull(soloChoices, solo.toString());
                HttpResponse<String> r = streamed.get(i);
                assertEquals(200, r.statusCode(), r.body());
                List<String> lines = r.body().lines().filter(l -> !l.isEmpty()).toList();
                assertEquals("data: [DONE]", lines.getLast(), bodies.get(i));
                int n = soloChoices.size();
                StringBuilder[] text = new StringBuilder[n];
                List<List<Object>> logprobs = new ArrayList<>();
                Object[] ids = new Object[n], finish = new Object[n];
                for (int c = 0; c < n; c++) {
                    text[c] = new StringBuilder();
                    logprobs.add(new ArrayList<>());
                }
                for (String line : lines.subList(0, lines.size() - 1)) {
                    Map<String, Object> event = Json.parseObject(line.substring(6), "event");
                    for (Object o : (List<?>) event.get("choices")) {
                        Map<?, ?> ch = (Map<?, ?>) o;
                        int c = ((Number) ch.get("index")).intValue();
                        text[c].append(ch.get("text"));
                        logprobs.get(c).addAll((List<?>) ((Map<?, ?>) ch.get("logprobs")).get("token_logprobs"));
                        if (ch.get("finish_reason") != null) {
                            assertEquals(null, finish[c], "one finish per choice");
                            finish[c] = ch.get("finish_reason");
                            ids[c] = ch.get("token_ids");
                        }
                    }
                }
                for (int c = 0; c < n; c++) {
                    Map<?, ?> want = (Map<?, ?>) soloChoices.get(c);
                    String what = "request " + i + " choice " + c;
                    assertEquals(want.get("token_ids"), ids[c], what);
                    assertEquals(want.get("text"), text[c].toString(), what);
                    assertEquals(want.get("finish_reason"), finish[c], what);
                    // One logprob per token, each token streamed once: none lost, none repeated.
                    assertEquals(((Map<?, ?>) want.get("logprobs")).get("token_logprobs"), logprobs.get(c), what);
                }
            }
        }
    }

    static HttpRequest post(Server s, String body) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }
}
