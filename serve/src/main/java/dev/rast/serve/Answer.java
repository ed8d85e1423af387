package dev.rast.serve;

import com.sun.net.httpserver.HttpExchange;
import dev.rast.engine.json.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;

/**
 * Turns a queued job's events into OpenAI's answer: one JSON object when every sample has finished, or, streaming,
 * one Server-Sent Event per piece of text and per finish, then {@code data: [DONE]}. A client that goes away while
 * streaming cancels its job.
 */
final class Answer {
    private final RequestParser.Parsed req;
    private final Job job;
    private final boolean chat;
    private final String id;
    private final long created = System.currentTimeMillis() / 1000;

    private final Server server;

    Answer(RequestParser.Parsed req, boolean chat, Server server) {
        this.server = server;
        this.req = req;
        this.job = req.job();
        this.chat = chat;
        this.id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
    }

    private Job.Event next() {
        try {
            return job.events.take();
        } catch (InterruptedException e) {
            job.cancelled = true;
            Thread.currentThread().interrupt();
            throw new ApiError(503, "server_error", null, null, "the server is shutting down");
        }
    }

    void whole(HttpExchange ex) throws IOException {
        StringBuilder[] text = new StringBuilder[job.n];
        Job.Finished[] done = new Job.Finished[job.n];
        for (int s = 0; s < job.n; s++) text[s] = new StringBuilder();
        for (int left = job.n; left > 0; ) {
            switch (next()) {
                case Job.Text t -> text[t.sample()].append(t.chunk());
                case Job.Finished f -> {
                    done[f.sample()] = f;
                    server.generated(f.tokens().length);
                    left--;
                }
                case Job.Failed f -> throw f.error();
            }
        }
        List<Object> choices = new ArrayList<>();
        int completion = 0;
        for (int s = 0; s < job.n; s++) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("index", s);
            if (chat) c.put("message", Map.of("role", "assistant", "content", text[s].toString()));
            else {
                c.put("text", text[s].toString());
                c.put("logprobs", null);
            }
            c.put("finish_reason", done[s].reason());
            if (req.returnTokenIds()) c.put("token_ids", ids(done[s].tokens()));
            if (req.logprobs()) c.put("logprobs", logprobs(done[s]));
            choices.add(c);
            completion += done[s].tokens().length;
        }
        Map<String, Object> body = header(chat ? "chat.completion" : "text_completion");
        body.put("choices", choices);
        body.put("usage", Server.usage(job.prompt.length, completion));
        server.sendJson(ex, 200, body, Map.of());
    }

    void stream(HttpExchange ex) throws IOException {
        // The first event decides the status: a job that fails before any output still gets its error object.
        Job.Event first = next();
        if (first instanceof Job.Failed f) throw f.error();
        ex.getResponseHeaders().set("Content-Type", "text/event-stream");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.sendResponseHeaders(200, 0);
        server.streaming();
        OutputStream out = ex.getResponseBody();
        boolean[] started = new boolean[job.n];
        int completion = 0;
        try {
            Job.Event e = first;
            for (int left = job.n; ; e = next()) {
                switch (e) {
                    case Job.Text t -> send(out, chunk(t.sample(), t.chunk(), null, null, started));
                    case Job.Finished f -> {
                        completion += f.tokens().length;
                        server.generated(f.tokens().length);
                        send(out, chunk(f.sample(), "", f.reason(), req.returnTokenIds() ? ids(f.tokens()) : null, started));
                        left--;
                    }
                    case Job.Failed f -> {
                        send(out, f.error().body());
                        left = 0;
                    }
                }
                if (left == 0) break;
            }
            if (req.includeUsage()) {
                Map<String, Object> u = header(chunkObject());
                u.put("choices", List.of());
                u.put("usage", Server.usage(job.prompt.length, completion));
                send(out, u);
            }
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            out.close();
        } catch (IOException gone) {
            job.cancelled = true;
            throw gone;
        }
    }

    private String chunkObject() { return chat ? "chat.completion.chunk" : "text_completion"; }

    private Map<String, Object> chunk(int sample, String text, String finish, List<Integer> tokenIds, boolean[] started) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("index", sample);
        if (chat) {
            Map<String, Object> delta = new LinkedHashMap<>();
            if (!started[sample]) delta.put("role", "assistant");
            if (!text.isEmpty() || finish == null) delta.put("content", text);
            c.put("delta", delta);
        } else {
            c.put("text", text);
            c.put("logprobs", null);
        }
        started[sample] = true;
        c.put("finish_reason", finish);
        if (tokenIds != null) c.put("token_ids", tokenIds);
        Map<String, Object> body = header(chunkObject());
        body.put("choices", List.of(c));
        return body;
    }

    private Map<String, Object> header(String object) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("id", id);
        body.put("object", object);
        body.put("created", created);
        body.put("model", req.model());
        return body;
    }

    private static void send(OutputStream out, Object event) throws IOException {
        out.write(("data: " + Json.write(event, Json.Layout.COMPACT) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /**
     * The log-probability each token was drawn with (after temperature, top-k, top-p and min-p; as rast generate
     * --json gives), in OpenAI's shape: chat's {"content": [{"token", "logprob", "bytes", "top_logprobs": []}]},
     * completions' {"tokens", "token_logprobs", "top_logprobs": null, "text_offset"}.
     */
    private Map<String, Object> logprobs(Job.Finished f) {
        List<String> pieces = new ArrayList<>();
        for (int t : f.tokens()) pieces.add(server.tokenText(t));
        Map<String, Object> out = new LinkedHashMap<>();
        if (chat) {
            List<Object> content = new ArrayList<>();
            for (int i = 0; i < pieces.size(); i++) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("token", pieces.get(i));
                e.put("logprob", f.logprobs()[i]);
                List<Integer> bytes = new ArrayList<>();
                for (byte b : pieces.get(i).getBytes(StandardCharsets.UTF_8)) bytes.add(b & 0xFF);
                e.put("bytes", bytes);
                e.put("top_logprobs", List.of());
                content.add(e);
            }
            out.put("content", content);
        } else {
            List<Integer> offsets = new ArrayList<>();
            int at = 0;
            for (String p : pieces) {
                offsets.add(at);
                at += p.length();
            }
            out.put("tokens", pieces);
            List<Object> lp = new ArrayList<>();
            for (double v : f.logprobs()) lp.add(v);
            out.put("token_logprobs", lp);
            out.put("top_logprobs", null);
            out.put("text_offset", offsets);
        }
        return out;
    }

    private static List<Integer> ids(int[] tokens) { return IntStream.of(tokens).boxed().toList(); }
}
