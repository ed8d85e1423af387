package dev.rast.hub;

/**
 * Hears how a pull goes: called from the download threads, so an implementation must be thread-safe. Bytes count
 * what is on disk, so they go back (a negative {@code bytes}) when a partial or corrupt file is thrown away.
 */
public interface DownloadListener {
    /** The pull of {@code spec} will fetch {@code files} files, {@code totalBytes} bytes in all (bytes already on disk included). */
    void started(ModelSpec spec, int files, long totalBytes);

    void progressed(long bytes);

    /** Something worth a line on its own: a retry, a resumed or refused download. */
    void note(String line);

    void finished();

    DownloadListener NONE = new DownloadListener() {
        @Override public void started(ModelSpec spec, int files, long totalBytes) {}
        @Override public void progressed(long bytes) {}
        @Override public void note(String line) {}
        @Override public void finished() {}
    };
}
