package dev.rast.cli;

import dev.rast.hub.DownloadListener;
import dev.rast.hub.ModelSpec;
import java.util.concurrent.atomic.AtomicLong;

/** A pull's progress on stderr: one bar over all its files, and its retries and resumptions as lines of their own. */
final class PullProgress implements DownloadListener {
    private final AtomicLong done = new AtomicLong();
    private ProgressBar bar;

    @Override
    public synchronized void started(ModelSpec spec, int files, long totalBytes) {
        if (files == 0) return;
        bar = new ProgressBar("pull " + spec + " (" + files + (files == 1 ? " file)" : " files)"), totalBytes, "MB", 1e6);
    }

    @Override
    public void progressed(long bytes) {
        long now = done.addAndGet(bytes);
        synchronized (this) {
            if (bar != null) bar.update(now);
        }
    }

    @Override
    public synchronized void note(String line) {
        if (bar != null) bar.note("rast: " + line);
        else System.err.println("rast: " + line);
    }

    @Override
    public synchronized void finished() {
        if (bar != null) bar.close();
        bar = null;
    }
}
