package dev.rast.hub;

/**
 * How often and how patiently a request is tried again after a 5xx, 429 or 408 answer or a dropped connection:
 * {@code attempts} tries in all, waiting {@code firstDelayMs} after the first failure and twice as long after each
 * next one, at most {@code maxDelayMs}. A download that received bytes before failing starts its count again.
 */
public record RetryPolicy(int attempts, long firstDelayMs, long maxDelayMs) {
    public static final RetryPolicy DEFAULT = new RetryPolicy(6, 500, 8_000);

    public RetryPolicy {
        if (attempts < 1 || firstDelayMs < 0 || maxDelayMs < firstDelayMs) throw new IllegalArgumentException("bad retry policy");
    }

    /** Waits before try {@code failed + 1}, after {@code failed} failures (1, 2, ...). */
    void pause(int failed) {
        long ms = firstDelayMs;
        for (int i = 1; i < failed && ms < maxDelayMs; i++) ms *= 2;
        try {
            Thread.sleep(Math.min(ms, maxDelayMs));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("download interrupted");
        }
    }

    static boolean retryable(int status) { return status >= 500 || status == 429 || status == 408; }
}
