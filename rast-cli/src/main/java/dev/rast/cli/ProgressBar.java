package dev.rast.cli;

import java.io.PrintStream;

/** A one-line progress bar on stderr, redrawn at most every 200 ms; silent when stderr is not a terminal-like sink. */
final class ProgressBar implements AutoCloseable {
    private final String label;
    private final long total;
    private final String unit;
    private final double unitScale;
    private final PrintStream err = System.err;
    private final long start = System.nanoTime();
    private long lastDraw;
    private long done;
    private volatile String extra = "";

    ProgressBar(String label, long total, String unit, double unitScale) {
        this.label = label;
        this.total = total;
        this.unit = unit;
        this.unitScale = unitScale;
    }

    void update(long done) {
        this.done = done;
        long now = System.nanoTime();
        if (now - lastDraw < 200_000_000L && done < total) return;
        lastDraw = now;
        draw(now);
    }

    /** Text shown after the rate (e.g. tokens/s), redrawn with the next update. */
    void extra(String text) {
        this.extra = text;
        long now = System.nanoTime();
        if (now - lastDraw >= 200_000_000L) {
            lastDraw = now;
            draw(now);
        }
    }

    private void draw(long now) {
        double frac = total == 0 ? 1 : Math.min(1, (double) done / total);
        int width = 30, filled = (int) (frac * width);
        double secs = (now - start) / 1e9;
        double rate = secs > 0 ? done / unitScale / secs : 0;
        double eta = frac > 0 ? secs * (1 - frac) / frac : 0;
        err.printf("\r%s [%s%s] %3.0f%% %.0f/%.0f %s  %.1f %s/s  %s  ETA %.0fs   ", label, "#".repeat(filled),
                " ".repeat(width - filled), frac * 100, done / unitScale, total / unitScale, unit, rate, unit, extra, eta);
        err.flush();
    }

    @Override
    public void close() {
        draw(System.nanoTime());
        err.println();
    }
}
