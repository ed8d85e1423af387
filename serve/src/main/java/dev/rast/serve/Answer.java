package dev.rast.serve;

import com.sun.net.httpserver.HttpExchange;
import dev.rast.engine.json.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * Turns a request's job events into OpenAI's answer: one JSON object when every choice has finished, or, streaming,
 * one Server-Sent Event per piece of text and per finish, then {@code data: [DONE]}. A client that goes away cancels
 * the request's jobs: while streaming, the next write fails; while waiting for a whole answer, the answer is begun
 * after {@link #HEARTBEAT_MILLIS} (status 200, chunked) and a space is written every {@link #HEARTBEAT_MILLIS} until
 * the JSON follows (leading whitespace is valid JSON), so a closed connection is noticed within about two of them.
 */
final class Answer {
    /** How long a whole answer waits before it begins, and then between the spaces that keep checking the client. */
    static final long HEARTBEAT_MILLIS = 500;

    private final RequestParser.Parsed req;
    private final boolean chat;
    private final String id;
    private final long created = System.currentTimeMillis() / 1000;
    private final int choices;
    private final Server server;

    Answer(RequestParser.Parsed req, boolean chat, Server server) {
        this.server = server;
        this.req = req;
        this.chat = chat;
        this.choices = req.choices();
        this.id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
    }

    private Job.Event next(long timeoutMillis) {
        try {
            return timeoutMillis < 0 ? req.events().take() : req.events().poll(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            req.cancel();
            Thread.currentThread().interrupt();
            throw new ApiError(503, "server_error", null, null, "the server is shutting down");
        }
    }

    void whole(HttpExchange ex) throws IOException {
        StringBuilder[] text = new StringBuilder[choices];
        Job.Finished[] done = new Job.Finished[choices];
        for (int c = 0; c < choices; c++) text[c] = new StringBuilder();
        OutputStream begun = null; // the body, once the answer has begun (status 200 sent)
        ApiError failed = null;
        try {
            long beat = System.nanoTime() + HEARTBEAT_MILLIS * 1_000_000;
            for (int left = choices; left > 0; ) {
                Job.Event e = next(Math.max(1, (beat - System.nanoTime()) / 1_000_000));
                if (System.nanoTime() - beat >= 0) { // still decoding: check that the client is there
                    if (begun == null) {
                        ex.getResponseHeaders().set("Content-Type", "application/json");
                        ex.sendResponseHeaders(200, 0);
                        server.streaming();
                        begun = ex.getResponseBody();
                    }
                    begun.write(' ');
                    begun.flush();
                    beat = System.nanoTime() + HEARTBEAT_MILLIS * 1_000_000;
                }
                if (e == null) continue;
                switch (e) {
                    case Job.Text t -> text[t.choice()].append(t.chunk());
                    case Job.Finished f -> {
                        done[f.choice()] = f;
                        server.generated(f.tokens().length);
                        left--;
                    }
                    case Job.Failed f -> {
                        failed = f.error();
                        left = 0;
                    }
                }
            }
        } catch (IOException gone) {
            req.cancel();
            throw gone;
        }
        if (failed != null && begun == null) throw failed;
        Object body;
        if (failed != null) body = failed.body(); // the status is sent already: the error object is the body
        else {
            List<Object> list = new ArrayList<>();
            int completion = 0;
            for (int c = 0; c < choices; c++) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("index", c);
                if (chat) m.put("message", Map.of("role", "assistant", "content", text[c].toString()));
                else {
                    m.put("text", text[c].toString());
                    m.put("logprobs", null);
                }
                m.put("finish_reason", done[c].reason());
                if (req.returnTokenIds()) m.put("token_ids", ids(done[c].tokens()));
                if (req.logprobs()) m.put("logprobs", logprobs(done[c].logprobs(), 0));
                list.add(m);
                completion += done[c].tokens().length;
            }
            Map<String, Object> b = header(chat ? "chat.completion" : "text_completion");
            b.put("choices", list);
            b.put("usage", Server.usage(req.promptTokens(), completion));
            body = b;
        }
        if (begun == null) server.sendJson(ex, 200, body, Map.of());
        else {
            begun.write(Json.write(body, Json.Layout.COMPACT).getBytes(StandardCharsets.UTF_8));
            begun.close();
        }
    }

    void stream(HttpExchange ex) throws IOException {
        // The first event decides the status: a request that fails before any output still gets its error object.
        Job.Event first = next(-1);
        if (first instanceof Job.Failed f) throw f.error();
        ex.getResponseHeaders().set("Content-Type", "text/event-stream");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.sendResponseHeaders(200, 0);
        server.streaming();
        OutputStream out = ex.getResponseBody();
        boolean[] started = new boolean[choices];
        int[] streamedTokens = new int[choices], textOffset = new int[choices];
        int completion = 0;
        try {
            Job.Event e = first;
            for (int left = choices; ; e = next(-1)) {
                switch (e) {
                    case Job.Text t -> {
                        streamedTokens[t.choice()] += t.tokens().length;
                        send(out, chunk(t.choice(), t.chunk(), null, null, t.logprobs(), textOffset, started));
                    }
                    case Job.Finished f -> {
                        completion += f.tokens().length;
                        server.generated(f.tokens().length);
                        // The tokens no piece of text carried (held back, or past a stop string).
                        Logprobs.Token[] rest = Arrays.copyOfRange(f.logprobs(), Math.min(streamedTokens[f.choice()], f.logprobs().length), f.logprobs().length);
                        send(out, chunk(f.choice(), "", f.reason(), req.returnTokenIds() ? ids(f.tokens()) : null, rest, textOffset, started));
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
                u.put("usage", Server.usage(req.promptTokens(), completion));
                send(out, u);
            }
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            out.close();
        } catch (IOException gone) {
            req.cancel();
            throw gone;
        }
    }

    private String chunkObject() { return chat ? "chat.completion.chunk" : "text_completion"; }

    private Map<String, Object> chunk(int choice, String text, String finish, List<Integer> tokenIds, Logprobs.Token[] lp,
                                      int[] textOffset, boolean[] started) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("index", choice);
        if (chat) {
            Map<String, Object> delta = new LinkedHashMap<>();
            if (!started[choice]) delta.put("role", "assistant");
            if (!text.isEmpty() || finish == null) delta.put("content", text);
            c.put("delta", delta);
            if (req.logprobs()) c.put("logprobs", logprobs(lp, 0));
        } else {
            c.put("text", text);
            c.put("logprobs", req.logprobs() ? logprobs(lp, textOffset[choice]) : null);
        }
        if (req.logprobs() && !chat) for (Logprobs.Token t : lp) textOffset[choice] += server.tokenText(t.id()).length();
        started[choice] = true;
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

    /** The tokens' log-probabilities (and alternatives) in the endpoint's shape; see {@link Logprobs}. */
    private Map<String, Object> logprobs(Logprobs.Token[] tokens, int textOffset) {
        return chat ? Logprobs.chat(tokens, server::tokenText)
                : Logprobs.completion(tokens, server::tokenText, req.topLogprobs() > 0, textOffset);
    }

    private static List<Integer> ids(int[] tokens) { return IntStream.of(tokens).boxed().toList(); }
}
