package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.json.Json;
import dev.rast.kernels.cuda.CudaBackend;
import dev.rast.kernels.cuda.GpuTargets;
import dev.rast.kernels.cuda.TestBackends;
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
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * rast serve with its models on the CUDA backend (a real GPU, or the emulator of its kernels): fusion and sampling on
 * the device give the responses the host path gives on the same backend, for requests with different settings
 * decoding in one batch: the base alone and with either or both of two pairs at their own λ, greedy and sampled with
 * top-k, top-p and min-p, n &gt; 1, and the log-probabilities with and without alternatives (top_logprobs, which need
 * the fused rows on the host). The trio's pairs have a vocabulary (1000) shorter than M's (1024).
 *
 * <p>Token ids must be equal, for the reasons DeviceSamplingPathTest gives (the same draws; F32 against double sums
 * could change a choice only within ~1e-6 of a boundary, and the fixed seeds are clear of that). Log-probabilities,
 * the chosen token's and the alternatives', within 1e-4: the device's log-sum-exp is summed in F32 over ≤ 1024 terms,
 * the host's in double; the alternatives are the fused row's values minus the chosen token's log-normalizer, so they
 * inherit that error and nothing more (the fused rows are the same F32 operations on both paths).
 */
class ServeDeviceSamplingTest {
    @RegisterExtension static final TestBackends backends = new TestBackends();
    static final HttpClient client = HttpClient.newHttpClient();

    static Path trio(String name) { return Fixtures.reference("rast-trio/" + name); }

    /** Completions requests over token-id prompts, each with its own pairs, λ and sampling settings. */
    static final List<String> REQUESTS = List.of(
            "{\"model\": \"trio\", \"prompt\": [1, 17, 300, 42, 5], \"max_tokens\": 6, \"temperature\": 0, \"logprobs\": 3}",
            "{\"model\": \"trio+rast\", \"prompt\": [9, 8, 7], \"max_tokens\": 6, \"temperature\": 1.0, \"seed\": 7, \"n\": 2, \"logprobs\": 0}",
            "{\"model\": \"trio+rast\", \"prompt\": [1, 2, 3, 4], \"max_tokens\": 6, \"temperature\": 0.8, \"top_k\": 5, \"seed\": 9,"
                    + " \"rast\": {\"pairs\": [{\"name\": \"p1\", \"lambda\": 0.5}]}, \"logprobs\": 2}",
            "{\"model\": \"trio+rast\", \"prompt\": [40, 41], \"max_tokens\": 6, \"top_p\": 0.95, \"seed\": 8,"
                    + " \"rast\": {\"pairs\": [{\"name\": \"p2\", \"lambda\": 1.5}]}}",
            "{\"model\": \"trio+rast\", \"prompt\": [5, 6, 7, 8, 9, 10], \"max_tokens\": 6, \"temperature\": 1.2, \"min_p\": 0.1, \"seed\": 10,"
                    + " \"rast\": {\"pairs\": [{\"name\": \"p1\", \"lambda\": 0.3}, {\"name\": \"p2\", \"lambda\": -0.7}]}, \"logprobs\": 4}",
            "{\"model\": \"trio+rast\", \"prompt\": [9, 8, 7], \"max_tokens\": 6, \"temperature\": 0, \"logprobs\": 1}");

    @ParameterizedTest
    @MethodSource("dev.rast.kernels.cuda.GpuTargets#targets")
    void deviceSamplingAnswersAsTheHostPath(String target) throws Exception {
        CudaBackend gpu = backends.gpu(target);
        List<ModelSet.Pair> pairs = List.of(new ModelSet.Pair(trio("E1"), trio("B1"), 1.0f), new ModelSet.Pair(trio("E2"), trio("B2"), 0.5f));
        try (ModelSet set = ModelSet.load(trio("M"), pairs, null, false, gpu)) {
            ServeConfig config = new ServeConfig("trio", List.of("p1", "p2"), "127.0.0.1", 0, null, 16, 8, 1 << 16, 4, 64, 0);
            List<Map<String, Object>> onDevice, onHost;
            try (Server s = Server.start(set, config.withHostSampling(false))) {
                assertTrue(s.samplesOnDevice(), "the CUDA backend samples on the device by default");
                onDevice = answers(s);
            }
            try (Server s = Server.start(set, config.withHostSampling(true))) {
                assertFalse(s.samplesOnDevice(), "hostSampling forces the host path");
                onHost = answers(s);
            }
            for (int r = 0; r < REQUESTS.size(); r++) {
                String what = target + " request " + r;
                sameJson(onHost.get(r).get("choices"), onDevice.get(r).get("choices"), what + " choices");
            }
            // The sampled requests' draws matter: the two samples of request 1 differ.
            List<?> choices = (List<?>) onHost.get(1).get("choices");
            assertFalse(((Map<?, ?>) choices.get(0)).get("token_ids").equals(((Map<?, ?>) choices.get(1)).get("token_ids")),
                    "samples 0 and 1 of request 1 differ");
        }
    }

    /** Every request sent at once (so that they decode in one batch), each with ignore_eos and its ids returned. */
    static List<Map<String, Object>> answers(Server s) throws Exception {
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        for (String body : REQUESTS) {
            String b = body.substring(0, body.length() - 1) + ", \"ignore_eos\": true, \"return_token_ids\": true}";
            sent.add(client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(b)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (var f : sent) {
            HttpResponse<String> r = f.get();
            assertEquals(200, r.statusCode(), r.body());
            out.add(Json.parseObject(r.body(), "response"));
        }
        return out;
    }

    /** Equal JSON, numbers that are not integers within 1e-4 (log-probabilities; see the class comment). */
    static void sameJson(Object want, Object got, String where) {
        if (want instanceof Map<?, ?> w) {
            Map<?, ?> g = assertInstanceOf(Map.class, got, where);
            assertEquals(w.keySet(), g.keySet(), where);
            for (var e : w.entrySet()) sameJson(e.getValue(), g.get(e.getKey()), where + "." + e.getKey());
        } else if (want instanceof List<?> w) {
            List<?> g = assertInstanceOf(List.class, got, where);
            assertEquals(w.size(), g.size(), where);
            for (int i = 0; i < w.size(); i++) sameJson(w.get(i), g.get(i), where + "[" + i + "]");
        } else if (want instanceof Double || want instanceof Float || got instanceof Double || got instanceof Float) {
            double a = ((Number) want).doubleValue(), b = ((Number) got).doubleValue();
            assertTrue(Math.abs(a - b) <= 1e-4, where + ": host " + a + ", device " + b);
        } else {
            assertEquals(want, got, where);
        }
    }
}
