package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.engine.backend.Backend;
import dev.rast.plan.MemoryPlan;
import dev.rast.run.ModelSet;
import dev.rast.serve.ServeConfig;
import dev.rast.serve.Server;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Serve the models over an OpenAI-compatible HTTP API (see docs/serve.md).",
                "GET /v1/models lists S (the base alone) and S+rast (the base with every pair at its --lambda);",
                "a request's \"rast\": {\"pairs\": [{\"name\": N, \"lambda\": L}]} picks pairs and λ for itself."},
        footer = {"", "Examples:",
                "  rast serve --model models/Qwen2.5-7B --port 8000",
                "  rast serve --model models/Qwen2.5-7B \\",
                "      --expert models/SimpleRL-Zoo-Qwen2.5-1.5B --expert-base models/Qwen2.5-1.5B --lambda 1.0 --name math \\",
                "      --served-model-name qwen7b --api-key \"$KEY\""})
final class ServeCommand implements Callable<Integer> {
    @Mixin ModelOptions models;

    @Option(names = "--served-model-name", paramLabel = "S", description = "The base model's name in requests (default: its folder's name); S+rast is the base with every pair.")
    String servedModelName;

    @Option(names = "--host", paramLabel = "HOST", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}, this machine only).")
    String host;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8000", description = "Port to listen on; 0 = any free port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--api-key", paramLabel = "KEY", description = "Require Authorization: Bearer KEY on /v1/* (default: the environment's RAST_API_KEY, else none).")
    String apiKey;

    @Option(names = "--max-queue", paramLabel = "N", defaultValue = "64", description = "Requests that may wait for a place in the batch; more are answered 429 (default: ${DEFAULT-VALUE}).")
    int maxQueue;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "32", description = "Most sequences (samples of all requests) decoding together; requests join between steps as places free up (default: ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--max-n", paramLabel = "N", defaultValue = "16", description = "Largest n a request may ask for (default: ${DEFAULT-VALUE}).")
    int maxN;

    @Option(names = "--max-body-bytes", paramLabel = "N", defaultValue = "1048576", description = "Larger request bodies are answered 413 (default: ${DEFAULT-VALUE}).")
    int maxBodyBytes;

    @Option(names = "--prefill-chunk", paramLabel = "TOKENS", defaultValue = "512", description = "Most prompt tokens prefilled in one step, beside the running sequences' decode step, so they keep streaming while a long prompt goes in (default: ${DEFAULT-VALUE}).")
    int prefillChunk;

    @Option(names = "--kv-cache-memory", paramLabel = "SIZE", defaultValue = "auto", description = "KV-cache memory: it sizes each model's pool of 16-position blocks, and a request reserves whole blocks for prompt + max_tokens per sample in every model it uses: bytes, or e.g. 8GiB, 500MB; a request waits until its blocks fit, one that never fits is a 400. auto (default): 90%% of the device's free memory after loading the models; none: no limit beyond --max-batch.")
    String kvCacheMemory;

    @Option(names = "--shutdown-grace", paramLabel = "SECONDS", defaultValue = "30", description = "On SIGTERM or Ctrl-C: stop taking requests, let running and queued ones finish for up to SECONDS, then end the rest (finish_reason abort) and exit 0 (default: ${DEFAULT-VALUE}).")
    double shutdownGrace;

    @Mixin RuntimeOptions runtime;

    @Override
    public Integer call() throws InterruptedException {
        if (port < 0 || port > 65535) throw new BadInputException("--port must be 0..65535, is " + port);
        if (maxQueue < 1) throw new BadInputException("--max-queue must be at least 1, is " + maxQueue);
        if (maxBatch < 1) throw new BadInputException("--max-batch must be at least 1, is " + maxBatch);
        if (maxN < 1) throw new BadInputException("--max-n must be at least 1, is " + maxN);
        if (maxBodyBytes < 1) throw new BadInputException("--max-body-bytes must be at least 1, is " + maxBodyBytes);
        if (prefillChunk < 1) throw new BadInputException("--prefill-chunk must be at least 1, is " + prefillChunk);
        if (!(shutdownGrace >= 0 && shutdownGrace <= 86_400)) throw new BadInputException("--shutdown-grace must be 0..86400 seconds, is " + shutdownGrace);
        Long kvLimit = switch (kvCacheMemory) {
            case "auto" -> null;
            case "none" -> 0L;
            default -> {
                Long b = MemoryPlan.parseBytes(kvCacheMemory);
                if (b == null || b <= 0) throw new BadInputException("--kv-cache-memory " + kvCacheMemory + ": expected auto, none, or a size such as 8GiB, 500MB or 1073741824");
                yield b;
            }
        };
        String key = apiKey != null ? apiKey : System.getenv("RAST_API_KEY");
        if (key != null && key.isEmpty()) throw new BadInputException("--api-key is empty");
        models.namesPairs = true;
        var names = models.pairNames();
        CountDownLatch closed = new CountDownLatch(1);
        try (Backend backend = runtime.open(); ModelSet set = models.load(backend, runtime.weights())) {
            runtime.configure(set.models());
            String name = servedModelName != null ? servedModelName : set.baseDir().toAbsolutePath().normalize().getFileName().toString();
            long kvBytes = kvLimit != null ? kvLimit : autoKvBudget(backend);
            ServeConfig config = new ServeConfig(name, names, host, port, key, maxQueue, maxBatch, maxBodyBytes, maxN, prefillChunk, kvBytes);
            CountDownLatch stopped = new CountDownLatch(1);
            try (Server server = Server.start(set, config)) {
                // SIGTERM (or Ctrl-C) runs this: drain within the grace period, let this thread close the models,
                // then end the process with status 0 (a JVM stopped by a signal would otherwise exit 143).
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    System.err.println("rast serve: stopping (up to " + shutdownGrace + " s for running requests)");
                    server.shutdown((long) (shutdownGrace * 1000));
                    stopped.countDown();
                    try {
                        closed.await(10, java.util.concurrent.TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    System.err.println("rast serve: stopped");
                    System.err.flush();
                    Runtime.getRuntime().halt(0);
                }));
                System.err.println("rast serve: listening on http://" + host + ":" + server.port() + " (models: " + name
                        + (names.isEmpty() ? "" : ", " + config.rastModelName() + " with pairs " + String.join(", ", names)) + ")"
                        + (kvBytes > 0 ? "; KV-cache memory " + String.format(java.util.Locale.ROOT, "%.2f GiB", kvBytes / (double) (1L << 30)) : ""));
                stopped.await();
            }
        } finally {
            closed.countDown();
        }
        return 0;
    }

    /** 90% of what the device has free once the models are loaded; 0 (no limit) where that is unknown. */
    private static long autoKvBudget(Backend backend) {
        long free = backend.freeMemoryBytes();
        return free > 0 ? free / 10 * 9 : 0;
    }
}
