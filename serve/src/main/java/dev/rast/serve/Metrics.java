package dev.rast.serve;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * The counters behind {@code GET /metrics}, written in Prometheus' text format: answers by HTTP status, prompt and
 * generated tokens, and the scheduler's queue depth and running sequences at the time of the scrape.
 */
final class Metrics {
    private final Map<Integer, LongAdder> byStatus = new ConcurrentHashMap<>();
    private final LongAdder promptTokens = new LongAdder(), generatedTokens = new LongAdder();
    private final IntSupplier queueDepth, running;

    Metrics(IntSupplier queueDepth, IntSupplier running) {
        this.queueDepth = queueDepth;
        this.running = running;
    }

    void answered(int status) { byStatus.computeIfAbsent(status, s -> new LongAdder()).increment(); }

    void prompt(int tokens) { promptTokens.add(tokens); }

    void generated(int tokens) { generatedTokens.add(tokens); }

    String text() {
        StringBuilder out = new StringBuilder();
        out.append("# HELP rast_requests_total HTTP requests answered, by status.\n# TYPE rast_requests_total counter\n");
        new TreeMap<>(byStatus).forEach((status, n) -> out.append("rast_requests_total{status=\"").append(status).append("\"} ").append(n.sum()).append('\n'));
        metric(out, "rast_prompt_tokens_total", "counter", "Prompt tokens of the requests admitted.", promptTokens.sum());
        metric(out, "rast_generation_tokens_total", "counter", "Tokens generated.", generatedTokens.sum());
        metric(out, "rast_queue_depth", "gauge", "Requests waiting for a place in the batch.", queueDepth.getAsInt());
        metric(out, "rast_running_sequences", "gauge", "Sequences decoding now.", running.getAsInt());
        return out.toString();
    }

    private static void metric(StringBuilder out, String name, String type, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(' ').append(type).append('\n')
                .append(name).append(' ').append(value).append('\n');
    }
}
