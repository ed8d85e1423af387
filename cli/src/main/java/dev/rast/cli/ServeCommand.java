package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.engine.backend.Backend;
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

    @Mixin RuntimeOptions runtime;

    @Override
    public Integer call() throws InterruptedException {
        if (port < 0 || port > 65535) throw new BadInputException("--port must be 0..65535, is " + port);
        if (maxQueue < 1) throw new BadInputException("--max-queue must be at least 1, is " + maxQueue);
        if (maxBatch < 1) throw new BadInputException("--max-batch must be at least 1, is " + maxBatch);
        if (maxN < 1) throw new BadInputException("--max-n must be at least 1, is " + maxN);
        if (maxBodyBytes < 1) throw new BadInputException("--max-body-bytes must be at least 1, is " + maxBodyBytes);
        String key = apiKey != null ? apiKey : System.getenv("RAST_API_KEY");
        if (key != null && key.isEmpty()) throw new BadInputException("--api-key is empty");
        models.namesPairs = true;
        var names = models.pairNames();
        try (Backend backend = runtime.open(); ModelSet set = models.load(backend, runtime.weights())) {
            runtime.configure(set.models());
            String name = servedModelName != null ? servedModelName : set.baseDir().toAbsolutePath().normalize().getFileName().toString();
            ServeConfig config = new ServeConfig(name, names, host, port, key, maxQueue, maxBatch, maxBodyBytes, maxN);
            CountDownLatch stopped = new CountDownLatch(1);
            try (Server server = Server.start(set, config)) {
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    server.close();
                    stopped.countDown();
                }));
                System.err.println("rast serve: listening on http://" + host + ":" + server.port() + " (models: " + name
                        + (names.isEmpty() ? "" : ", " + config.rastModelName() + " with pairs " + String.join(", ", names)) + ")");
                stopped.await();
            }
        }
        return 0;
    }
}
