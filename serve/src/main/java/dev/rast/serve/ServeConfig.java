package dev.rast.serve;

import java.util.List;

/**
 * How the server is set up: the name clients use for the base model ({@code S}; {@code S+rast} is the base with
 * every pair at its default λ), the pairs' names (in the model set's order), where it listens, the optional API key,
 * and its limits.
 *
 * @param queueCapacity  requests that may wait for the scheduler; one more is answered 429
 * @param maxBatch       most sequences (samples of all requests) decoding together
 * @param maxBodyBytes   request bodies above this are answered 413
 * @param maxN           the largest n a request may ask for
 */
public record ServeConfig(String servedModelName, List<String> pairNames, String host, int port, String apiKey,
                          int queueCapacity, int maxBatch, int maxBodyBytes, int maxN) {
    public ServeConfig {
        pairNames = List.copyOf(pairNames);
        if (queueCapacity < 1) throw new IllegalArgumentException("queue capacity must be at least 1");
        if (maxBatch < 1) throw new IllegalArgumentException("batch must be at least 1");
    }

    /** The model name that means the base with every pair. */
    public String rastModelName() { return servedModelName + "+rast"; }
}
