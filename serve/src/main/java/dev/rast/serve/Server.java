package dev.rast.serve;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.rast.engine.BadInputException;
import dev.rast.engine.json.Json;
import dev.rast.run.ModelSet;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The HTTP side of {@code rast serve}: the JDK's own server (jdk.httpserver: no dependency, chunked responses for
 * streaming) with one virtual thread per request, so a request blocked on its job costs no platform thread. It
 * checks the key, reads and parses the body, queues the job on the {@link Scheduler} and answers from the job's
 * events, whole or as Server-Sent Events.
 */
public final class Server implements AutoCloseable {
    private final ServeConfig config;
    private final RequestParser parser;
    private final Scheduler scheduler;
    private final HttpServer http;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final byte[] apiKey;
    private final Metrics metrics;
    private final dev.rast.text.tokenizer.Tokenizer tokenizer;

    private Server(ModelSet models, ServeConfig config) throws IOException {
        this.config = config;
        this.parser = new RequestParser(models, config);
        this.apiKey = config.apiKey() == null ? null : config.apiKey().getBytes(StandardCharsets.UTF_8);
        this.http = HttpServer.create(new InetSocketAddress(config.host(), config.port()), 0);
        Metrics[] m = new Metrics[1]; // the scheduler reports step times to the metrics, which read its gauges
        this.scheduler = new Scheduler(models, config, nanos -> m[0].step(nanos));
        this.tokenizer = models.tokenizer();
        this.metrics = m[0] = new Metrics(scheduler::waiting, scheduler::running, scheduler.gauges(), modelLabels(config));
        http.setExecutor(executor);
        http.createContext("/", this::handle);
    }

    /** Starts serving {@code models} (owned by the caller, who closes them after the server). */
    public static Server start(ModelSet models, ServeConfig config) {
        try {
            Server s = new Server(models, config);
            s.http.start();
            return s;
        } catch (IOException e) {
            throw new BadInputException("cannot listen on " + config.host() + ":" + config.port() + ": " + e.getMessage());
        }
    }

    /** A label per model of the set for /metrics: base, then each pair's expert and expert base. */
    private static List<String> modelLabels(ServeConfig config) {
        List<String> labels = new java.util.ArrayList<>(List.of("base"));
        for (String pair : config.pairNames()) {
            labels.add(pair + ".expert");
            labels.add(pair + ".expert_base");
        }
        return labels;
    }

    /** The port listened on (the one the system chose when the config said 0). */
    public int port() { return http.getAddress().getPort(); }

    /** Whether the server fuses and samples on the device (the models' backend can, and the host path is not forced). */
    public boolean samplesOnDevice() { return scheduler.samplesOnDevice(); }

    private void handle(HttpExchange ex) {
        try (ex) {
            try {
                route(ex);
            } catch (ApiError e) {
                sendJson(ex, e.status, e.body(), e.status == 429 ? Map.of("Retry-After", "1") : Map.of());
            } catch (RuntimeException e) {
                // Not the request's fault: say what failed, in the error object (no stack trace).
                sendJson(ex, 500, new ApiError(500, "server_error", null, null, "internal error: " + e).body(), Map.of());
            }
        } catch (IOException | RuntimeException e) {
            // The client went away mid-answer, or the answer could not be written: nothing more to tell it.
        }
    }

    private void route(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath(), method = ex.getRequestMethod();
        switch (path) {
            case "/health" -> {
                requireMethod(method, "GET");
                sendJson(ex, 200, Map.of("status", "ok"), Map.of());
            }
            case "/metrics" -> {
                authorize(ex);
                requireMethod(method, "GET");
                byte[] text = metrics.text().getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                ex.sendResponseHeaders(200, text.length);
                ex.getResponseBody().write(text);
            }
            case "/v1/models" -> {
                authorize(ex);
                requireMethod(method, "GET");
                List<Map<String, Object>> data = parser.modelNames().stream().map(n -> Map.<String, Object>of(
                        "id", n, "object", "model", "created", 0, "owned_by", "rast")).toList();
                sendJson(ex, 200, Map.of("object", "list", "data", data), Map.of());
            }
            case "/v1/completions", "/v1/chat/completions" -> {
                authorize(ex);
                requireMethod(method, "POST");
                complete(ex, path.equals("/v1/chat/completions"));
            }
            default -> throw new ApiError(404, "invalid_request_error", null, "not_found", "no such endpoint: " + method + " " + path);
        }
    }

    private static void requireMethod(String method, String allowed) {
        if (!method.equals(allowed)) throw new ApiError(405, "invalid_request_error", null, "method_not_allowed", "use " + allowed);
    }

    /** Bearer key, compared in constant time so the answer's timing tells nothing about the key. */
    private void authorize(HttpExchange ex) {
        if (apiKey == null) return;
        String h = ex.getRequestHeaders().getFirst("Authorization");
        byte[] given = h != null && h.startsWith("Bearer ") ? h.substring(7).getBytes(StandardCharsets.UTF_8) : new byte[0];
        if (!MessageDigest.isEqual(apiKey, given))
            throw new ApiError(401, "authentication_error", null, "invalid_api_key", "missing or wrong API key (Authorization: Bearer KEY)");
    }

    private void complete(HttpExchange ex, boolean chat) throws IOException {
        Map<String, Object> body;
        try {
            body = Json.parseObject(readBody(ex), "request body");
        } catch (BadInputException e) {
            throw ApiError.invalid(null, e.getMessage());
        }
        RequestParser.Parsed req = parser.parse(body, chat);
        for (Job job : req.jobs())
            if (!scheduler.everFits(job))
                throw ApiError.invalid("max_tokens", "the request's KV caches (n = " + job.n + " samples of " + job.prompt.length
                        + " prompt tokens + " + job.maxTokens + " max_tokens, in every model it uses) would never fit the server's"
                        + " KV-cache memory of " + config.kvCacheBytes() + " bytes (--kv-cache-memory); ask for fewer tokens or samples");
        if (scheduler.closing()) throw new ApiError(503, "server_error", null, null, "the server is shutting down");
        if (!scheduler.offer(req.jobs()))
            throw new ApiError(429, "rate_limit_error", null, "queue_full", "the server is busy (" + config.queueCapacity()
                    + " requests waiting); retry later");
        metrics.prompt(req.promptTokens());
        Answer answer = new Answer(req, chat, this);
        if (req.stream()) answer.stream(ex);
        else answer.whole(ex);
    }

    private byte[] readBody(HttpExchange ex) throws IOException {
        String length = ex.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            try {
                if (Long.parseLong(length.strip()) > config.maxBodyBytes()) throw tooLarge();
            } catch (NumberFormatException e) {
                throw ApiError.invalid(null, "bad Content-Length");
            }
        }
        try (InputStream in = ex.getRequestBody()) {
            byte[] bytes = in.readNBytes(config.maxBodyBytes() + 1);
            if (bytes.length > config.maxBodyBytes()) throw tooLarge();
            return bytes;
        }
    }

    private ApiError tooLarge() {
        return new ApiError(413, "invalid_request_error", null, "body_too_large", "the request body is over " + config.maxBodyBytes() + " bytes");
    }

    void sendJson(HttpExchange ex, int status, Object body, Map<String, String> headers) throws IOException {
        metrics.answered(status);
        byte[] bytes = (Json.write(body, Json.Layout.COMPACT)).getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** A streamed answer has begun (status 200). */
    void streaming() { metrics.answered(200); }

    void generated(int tokens) { metrics.generated(tokens); }

    /**
     * One token's text (special tokens as written), for logprobs; "" for an id the tokenizer does not have (a
     * model's padding rows past the tokenizer's ids, which decode to nothing in the text too).
     */
    String tokenText(int id) {
        if (tokenizer == null) return String.valueOf(id);
        return tokenizer.token(id) == null ? "" : tokenizer.decode(new int[] {id});
    }

    /**
     * Stops listening, ends running samples at their next step and refuses the queued ones; request threads still
     * waiting are interrupted after a second.
     */
    @Override
    public void close() { shutdown(0); }

    /**
     * Stops taking requests (new ones are answered 503), lets the queued and running ones finish for up to
     * {@code graceMillis}, then ends the running choices ("abort") and refuses what still waits (503); the answers
     * are written (a second at most), then the server stops listening.
     */
    public void shutdown(long graceMillis) {
        scheduler.shutdown(graceMillis);
        http.stop(1);
        executor.shutdownNow();
    }

    static Map<String, Object> usage(int prompt, int completion) {
        Map<String, Object> u = new LinkedHashMap<>();
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
        return u;
    }
}
