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
 * @param prefillChunk   most prompt tokens prefilled in one step, beside the running sequences' decode
 * @param kvCacheBytes   KV-cache bytes admitted requests may reserve (prompt + max_tokens per sample, in every model
 *                       it uses); ≤ 0: no limit beyond {@code maxBatch}
 * @param hostSampling   fuse and sample on the host even where the models' backend could do it on the device (the
 *                       constructors without it take {@code -Drast.sampling=host}, as {@code rast generate} does)
 */
public record ServeConfig(String servedModelName, List<String> pairNames, String host, int port, String apiKey,
                          int queueCapacity, int maxBatch, int maxBodyBytes, int maxN, int prefillChunk, long kvCacheBytes,
                          boolean hostSampling) {
    /** The default {@code --prefill-chunk}. */
    public static final int DEFAULT_PREFILL_CHUNK = 512;

    public ServeConfig {
        pairNames = List.copyOf(pairNames);
        if (queueCapacity < 1) throw new IllegalArgumentException("queue capacity must be at least 1");
        if (maxBatch < 1) throw new IllegalArgumentException("batch must be at least 1");
        if (prefillChunk < 1) throw new IllegalArgumentException("prefill chunk must be at least 1");
    }

    /** Sampling where {@code -Drast.sampling} says (the device unless it is "host"). */
    public ServeConfig(String servedModelName, List<String> pairNames, String host, int port, String apiKey,
                       int queueCapacity, int maxBatch, int maxBodyBytes, int maxN, int prefillChunk, long kvCacheBytes) {
        this(servedModelName, pairNames, host, port, apiKey, queueCapacity, maxBatch, maxBodyBytes, maxN, prefillChunk, kvCacheBytes,
                "host".equals(System.getProperty("rast.sampling", "device")));
    }

    /** As {@code config} with {@code hostSampling} set as given. */
    public ServeConfig withHostSampling(boolean host) {
        return new ServeConfig(servedModelName, pairNames, this.host, port, apiKey, queueCapacity, maxBatch, maxBodyBytes, maxN,
                prefillChunk, kvCacheBytes, host);
    }

    /** Default prefill chunk, no KV-cache budget. */
    public ServeConfig(String servedModelName, List<String> pairNames, String host, int port, String apiKey,
                       int queueCapacity, int maxBatch, int maxBodyBytes, int maxN) {
        this(servedModelName, pairNames, host, port, apiKey, queueCapacity, maxBatch, maxBodyBytes, maxN, DEFAULT_PREFILL_CHUNK, 0);
    }

    /** The model name that means the base with every pair. */
    public String rastModelName() { return servedModelName + "+rast"; }
}
