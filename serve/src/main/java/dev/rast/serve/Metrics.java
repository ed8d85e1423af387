package dev.rast.serve;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * The counters behind {@code GET /metrics}, written in Prometheus' text format: answers by HTTP status, prompt and
 * generated tokens, the tokens each model ran, a histogram of the scheduler's step times, KV-cache bytes, and the
 * scheduler's queue depth and running sequences at the time of the scrape.
 */
final class Metrics {
    /** Upper bounds (seconds) of the step-time histogram's buckets: 1 ms to 10 s, about ×2.5 apart. */
    static final double[] STEP_BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    private final Map<Integer, LongAdder> byStatus = new ConcurrentHashMap<>();
    private final LongAdder promptTokens = new LongAdder(), generatedTokens = new LongAdder();
    private final IntSupplier queueDepth, running;
    private final Scheduler.Gauges gauges;
    private final List<String> modelNames;
    /** Steps per bucket (the last: over every bound), their count and their total time in nanoseconds. */
    private final AtomicLongArray stepBuckets = new AtomicLongArray(STEP_BUCKETS.length + 1);
    private final LongAdder steps = new LongAdder(), stepNanos = new LongAdder();

    /** {@code modelNames}: a label per model of the set, in its order (base, then each pair's expert and base). */
    Metrics(IntSupplier queueDepth, IntSupplier running, Scheduler.Gauges gauges, List<String> modelNames) {
        this.queueDepth = queueDepth;
        this.running = running;
        this.gauges = gauges;
        this.modelNames = List.copyOf(modelNames);
    }

    void answered(int status) { byStatus.computeIfAbsent(status, s -> new LongAdder()).increment(); }

    void prompt(int tokens) { promptTokens.add(tokens); }

    void generated(int tokens) { generatedTokens.add(tokens); }

    /** One scheduler step (every model's pass) took {@code nanos}. */
    void step(long nanos) {
        double seconds = nanos / 1e9;
        int b = 0;
        while (b < STEP_BUCKETS.length && seconds > STEP_BUCKETS[b]) b++;
        stepBuckets.incrementAndGet(b);
        steps.increment();
        stepNanos.add(nanos);
    }

    String text() {
        StringBuilder out = new StringBuilder();
        out.append("# HELP rast_requests_total HTTP requests answered, by status.\n# TYPE rast_requests_total counter\n");
        new TreeMap<>(byStatus).forEach((status, n) -> out.append("rast_requests_total{status=\"").append(status).append("\"} ").append(n.sum()).append('\n'));
        metric(out, "rast_prompt_tokens_total", "counter", "Prompt tokens of the requests admitted.", promptTokens.sum());
        metric(out, "rast_generation_tokens_total", "counter", "Tokens generated.", generatedTokens.sum());
        metric(out, "rast_queue_depth", "gauge", "Requests waiting for a place in the batch.", queueDepth.getAsInt());
        metric(out, "rast_running_sequences", "gauge", "Sequences decoding now.", running.getAsInt());
        out.append("# HELP rast_model_tokens_total Tokens each model ran (prompt and decode): a model runs only for the sequences that use it.\n")
                .append("# TYPE rast_model_tokens_total counter\n");
        for (int m = 0; m < modelNames.size(); m++)
            out.append("rast_model_tokens_total{model=\"").append(modelNames.get(m)).append("\"} ").append(gauges.modelTokens(m)).append('\n');
        out.append("# HELP rast_step_seconds Time of one scheduler step: every model's batched pass (decode and prefill chunks).\n")
                .append("# TYPE rast_step_seconds histogram\n");
        long cumulative = 0;
        for (int b = 0; b <= STEP_BUCKETS.length; b++) {
            cumulative += stepBuckets.get(b);
            out.append("rast_step_seconds_bucket{le=\"").append(b < STEP_BUCKETS.length ? String.valueOf(STEP_BUCKETS[b]) : "+Inf")
                    .append("\"} ").append(cumulative).append('\n');
        }
        out.append("rast_step_seconds_sum ").append(stepNanos.sum() / 1e9).append('\n');
        out.append("rast_step_seconds_count ").append(steps.sum()).append('\n');
        metric(out, "rast_kv_cache_used_bytes", "gauge", "Bytes the KV caches of the running sequences take now (as grown so far).", gauges.kvUsed());
        metric(out, "rast_kv_cache_reserved_bytes", "gauge", "KV-cache bytes reserved by admitted sequences: prompt + max_tokens each, in every model it uses.", gauges.kvReserved());
        long budget = gauges.kvBudget();
        if (budget > 0) {
            metric(out, "rast_kv_cache_budget_bytes", "gauge", "KV-cache memory admission may reserve (--kv-cache-memory).", budget);
            metric(out, "rast_kv_cache_free_bytes", "gauge", "KV-cache bytes not reserved: budget - reserved.", budget - gauges.kvReserved());
        }
        return out.toString();
    }

    private static void metric(StringBuilder out, String name, String type, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(' ').append(type).append('\n')
                .append(name).append(' ').append(value).append('\n');
    }
}
