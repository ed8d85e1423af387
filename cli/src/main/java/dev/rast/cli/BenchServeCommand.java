package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.engine.backend.Backend;
import dev.rast.engine.json.Json;
import dev.rast.engine.sample.SamplingParams;
import dev.rast.run.ModelSet;
import dev.rast.run.SampleRunner;
import dev.rast.serve.ServeConfig;
import dev.rast.serve.Server;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code rast bench serve}: starts the server in this process on loopback and drives C concurrent streams (each one
 * request of --prompt-len random prompt ids and --gen tokens, end-of-sequence ignored), for each C of --concurrency:
 * total generated tokens/s, time to first token and inter-token latency (p50, p99). Then the same prompts go through
 * the {@code rast generate --input} path (SampleRunner.runAll with --max-batch C, on the same loaded models), and the
 * server's overhead is its tokens/s below that one's.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measure rast serve: C concurrent streams (for each C of --concurrency) against a server started in this",
                "process on 127.0.0.1: total tokens/s, time to first token and inter-token latency (p50, p99); and the",
                "server's overhead against the same prompts through rast generate --input's path (same models, batch C).",
                "With --expert/--expert-base pairs every request is RAST (S+rast)."},
        footer = {"", "Example:", "  rast synth --arch qwen2.5-0.5b --dtype bf16 --out /tmp/q05",
                "  rast bench serve --model /tmp/q05 --concurrency 1,8,32 --prompt-len 128 --gen 64"})
final class BenchServeCommand implements Callable<Integer> {
    @Mixin ModelOptions models;

    @Option(names = "--concurrency", paramLabel = "C", split = ",", defaultValue = "1,8,32", description = "Concurrent streams, one measurement each (default: ${DEFAULT-VALUE}).")
    List<Integer> concurrency;

    @Option(names = "--prompt-len", paramLabel = "N", defaultValue = "128", description = "Prompt tokens per request (default: ${DEFAULT-VALUE}).")
    int promptLen;

    @Option(names = "--gen", paramLabel = "N", defaultValue = "64", description = "Tokens each request generates (default: ${DEFAULT-VALUE}).")
    int gen;

    @Option(names = "--prefill-chunk", paramLabel = "TOKENS", defaultValue = "512", description = "The server's --prefill-chunk (default: ${DEFAULT-VALUE}).")
    int prefillChunk;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "2", description = "Measurements per concurrency, server and generate path alternating; tokens/s are their medians, latencies pooled (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--json", description = "Print one JSON line per concurrency instead of the table.")
    boolean json;

    @Mixin RuntimeOptions runtime;

    /** One concurrency's figures. */
    record Figures(int streams, double tokensPerSecond, double ttftP50, double ttftP99, double itlP50, double itlP99,
                   double generatePerSecond) {
        double overhead() { return 1 - tokensPerSecond / generatePerSecond; }
    }

    @Override
    public Integer call() throws Exception {
        if (promptLen < 1 || gen < 1) throw new BadInputException("--prompt-len and --gen must be at least 1");
        if (rounds < 1 || rounds > 100) throw new BadInputException("--rounds must be 1..100, is " + rounds);
        if (prefillChunk < 1) throw new BadInputException("--prefill-chunk must be at least 1, is " + prefillChunk);
        for (int c : concurrency) if (c < 1 || c > 1024) throw new BadInputException("--concurrency values must be 1..1024, is " + c);
        models.namesPairs = true;
        List<String> names = models.pairNames();
        int most = concurrency.stream().mapToInt(Integer::intValue).max().orElse(1);
        try (Backend backend = runtime.open(); ModelSet set = models.load(backend, runtime.weights())) {
            runtime.configure(set.models());
            int vocab = Math.min(set.sharedVocab(), 100_000);
            ServeConfig config = new ServeConfig("bench", names, "127.0.0.1", 0, null, Math.max(64, most), most, 1 << 24, 1, prefillChunk, 0);
            List<Figures> all = new ArrayList<>();
            try (Server server = Server.start(set, config); ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
                HttpClient client = HttpClient.newBuilder().executor(threads).build();
                String model = names.isEmpty() ? "bench" : "bench+rast";
                // Warm-up (JIT compilation of both paths): a few streams, then the generate path.
                streams(client, server, model, prompts(Math.min(4, most), vocab, 7), Math.min(gen, 16));
                generatePath(set, prompts(Math.min(4, most), vocab, 7), Math.min(gen, 16), Math.min(4, most));
                for (int c : concurrency) {
                    List<int[]> prompts = prompts(c, vocab, c);
                    // Server and generate path alternate, so that a machine whose speed drifts (shared, throttled)
                    // drifts for both alike.
                    double[] servedRate = new double[rounds], generateRate = new double[rounds];
                    List<double[]> ttft = new ArrayList<>(), itl = new ArrayList<>();
                    for (int r = 0; r < rounds; r++) {
                        double[][] served = streams(client, server, model, prompts, gen);
                        servedRate[r] = served[0][0];
                        ttft.add(served[1]);
                        itl.add(served[2]);
                        generateRate[r] = generatePath(set, prompts, gen, c);
                    }
                    double[] t = ttft.stream().flatMapToDouble(Arrays::stream).toArray(), i = itl.stream().flatMapToDouble(Arrays::stream).toArray();
                    Figures f = new Figures(c, median(servedRate), pct(t, 50), pct(t, 99), pct(i, 50), pct(i, 99), median(generateRate));
                    all.add(f);
                    if (!json) System.err.println("concurrency " + c + " done");
                }
            }
            print(all, set, names);
        }
        return 0;
    }

    /** {@code count} prompts of --prompt-len random ids below {@code vocab}. */
    private List<int[]> prompts(int count, int vocab, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < count; i++) out.add(rnd.ints(promptLen, 0, vocab).toArray());
        return out;
    }

    /**
     * The prompts as concurrent streams. Returns {tokens/s}, the time to first token of each stream (ms), and the
     * inter-token gaps (ms: an event's gap over the tokens it carries, so that a piece of text held back and sent with
     * the next counts as its tokens' gaps).
     */
    private double[][] streams(HttpClient client, Server server, String model, List<int[]> prompts, int tokens) throws Exception {
        long t0 = System.nanoTime();
        List<CompletableFuture<double[]>> runs = new ArrayList<>();
        for (int[] p : prompts) runs.add(CompletableFuture.supplyAsync(() -> stream(client, server, model, p, tokens, t0), Executors.newVirtualThreadPerTaskExecutor()));
        List<double[]> each = new ArrayList<>();
        for (var r : runs) each.add(r.get());
        double seconds = (System.nanoTime() - t0) / 1e9;
        double[] ttft = each.stream().mapToDouble(e -> e[0]).toArray();
        double[] itl = each.stream().flatMapToDouble(e -> Arrays.stream(e, 1, e.length)).toArray();
        return new double[][] {{(double) prompts.size() * tokens / seconds}, ttft, itl};
    }

    /** One stream: [time to first token, then the gap of every token after it], in ms from {@code t0}. */
    private static double[] stream(HttpClient client, Server server, String model, int[] prompt, int tokens, long t0) {
        String body = "{\"model\": \"" + model + "\", \"prompt\": " + Arrays.toString(prompt) + ", \"max_tokens\": " + tokens
                + ", \"temperature\": 0, \"ignore_eos\": true, \"stream\": true, \"logprobs\": 0}";
        try {
            HttpResponse<java.io.InputStream> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
            if (r.statusCode() != 200) throw new IllegalStateException("the server answered " + r.statusCode() + ": " + new String(r.body().readAllBytes(), StandardCharsets.UTF_8));
            List<Double> out = new ArrayList<>();
            long last = t0;
            try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    if (!line.startsWith("data: {")) continue;
                    long now = System.nanoTime();
                    Map<String, Object> event = Json.parseObject(line.substring(6), "event");
                    List<?> choices = (List<?>) event.get("choices");
                    if (choices == null || choices.isEmpty()) continue;
                    Map<?, ?> lp = (Map<?, ?>) ((Map<?, ?>) choices.getFirst()).get("logprobs");
                    int n = lp == null ? 0 : ((List<?>) lp.get("token_logprobs")).size();
                    if (n == 0) continue;
                    if (out.isEmpty()) { // the first event: the first token, and any more it carries
                        out.add((now - t0) / 1e6);
                        for (int i = 1; i < n; i++) out.add(0.0);
                    } else for (int i = 0; i < n; i++) out.add((now - last) / 1e6 / n);
                    last = now;
                }
            }
            return out.stream().mapToDouble(Double::doubleValue).toArray();
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("stream failed: " + e, e);
        }
    }

    /** The same prompts through rast generate --input's path (SampleRunner.runAll, batch {@code batch}): tokens/s. */
    private static double generatePath(ModelSet set, List<int[]> prompts, int tokens, int batch) {
        SampleRunner runner = new SampleRunner(set, new SamplingParams(0, 0, 1, 0, 0), tokens, List.of(), true);
        int[][] samples = new int[prompts.size()][];
        for (int p = 0; p < samples.length; p++) samples[p] = new int[] {0};
        long[] seeds = new long[prompts.size()];
        long t0 = System.nanoTime();
        runner.runAll(prompts, samples, seeds, batch, null, null, (p, s, r) -> {});
        return (double) prompts.size() * tokens / ((System.nanoTime() - t0) / 1e9);
    }

    /** The median (the mean of the middle two for an even count). */
    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    /** The p-th percentile (nearest rank) of {@code values}. */
    static double pct(double[] values, double p) {
        if (values.length == 0) return Double.NaN;
        double[] v = values.clone();
        Arrays.sort(v);
        return v[(int) Math.min(v.length - 1, Math.max(0, Math.ceil(p / 100 * v.length) - 1))];
    }

    private void print(List<Figures> all, ModelSet set, List<String> names) {
        if (json) {
            for (Figures f : all)
                System.out.println(Json.write(Json.Layout.LINE, g -> {
                    g.writeStartObject();
                    g.writeStringField("model", models.model.toString());
                    g.writeNumberField("pairs", names.size());
                    g.writeNumberField("prompt_len", promptLen);
                    g.writeNumberField("gen", gen);
                    g.writeNumberField("streams", f.streams());
                    g.writeNumberField("tok_s", round(f.tokensPerSecond()));
                    g.writeNumberField("ttft_ms_p50", round(f.ttftP50()));
                    g.writeNumberField("ttft_ms_p99", round(f.ttftP99()));
                    g.writeNumberField("itl_ms_p50", round(f.itlP50()));
                    g.writeNumberField("itl_ms_p99", round(f.itlP99()));
                    g.writeNumberField("generate_tok_s", round(f.generatePerSecond()));
                    g.writeNumberField("overhead", round(f.overhead()));
                    g.writeEndObject();
                }));
            return;
        }
        System.out.println("rast bench serve: " + models.model + (names.isEmpty() ? "" : " with " + names.size() + " pair(s), every request RAST")
                + ", prompt " + promptLen + " tokens, " + gen + " generated per stream, greedy, " + rounds + " round(s), prefill chunk " + prefillChunk);
        System.out.println("streams   tok/s   TTFT p50   TTFT p99   ITL p50   ITL p99   generate --input tok/s   overhead");
        for (Figures f : all)
            System.out.println(String.format(Locale.ROOT, "%7d %7.1f %8.1f ms %8.1f ms %6.1f ms %6.1f ms %24.1f %9.1f%%", f.streams(), f.tokensPerSecond(),
                    f.ttftP50(), f.ttftP99(), f.itlP50(), f.itlP99(), f.generatePerSecond(), 100 * f.overhead()));
    }

    private static double round(double v) { return Math.round(v * 100) / 100.0; }
}
