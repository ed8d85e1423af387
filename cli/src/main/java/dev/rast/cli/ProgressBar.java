package dev.rast.cli;

import java.io.PrintStream;

/**
 * A one-line progress bar on stderr, redrawn in place at most every 200 ms on a terminal. When stderr goes to a file
 * or a CI log, carriage returns would pile up, so it prints a plain line at most every 10 s and one at the end.
 */
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
    private final boolean terminal = System.console() != null && System.console().isTerminal();
    private final long interval = terminal ? 200_000_000L : 10_000_000_000L;

    ProgressBar(String label, long total, String unit, double unitScale) {
        this.label = label;
        this.total = total;
        this.unit = unit;
        this.unitScale = unitScale;
    }

    void update(long done) {
        this.done = done;
        long now = System.nanoTime();
        if (now - lastDraw < interval && done < total) return;
        lastDraw = now;
        draw(now);
    }

    /** Text shown after the rate (e.g. tokens/s), redrawn with the next update. */
    void extra(String text) {
        this.extra = text;
        long now = System.nanoTime();
        if (now - lastDraw >= interval) {
            lastDraw = now;
            draw(now);
        }
    }

    /** A line of its own above the bar (on a terminal the bar is redrawn below it). */
    synchronized void note(String line) {
        if (terminal) err.print("\r\033[K");
        err.println(line);
        if (terminal) draw(System.nanoTime());
        err.flush();
    }

    private long drawnDone = -1;

    private void draw(long now) {
        drawnDone = done;
        double frac = total == 0 ? 1 : Math.min(1, (double) done / total);
        int width = 30, filled = (int) (frac * width);
        double secs = (now - start) / 1e9;
        double rate = secs > 0 ? done / unitScale / secs : 0;
        double eta = frac > 0 ? secs * (1 - frac) / frac : 0;
        err.printf((terminal ? "\r" : "") + "%s [%s%s] %3.0f%% %.0f/%.0f %s  %.1f %s/s  %s  ETA %.0fs   ", label, "#".repeat(filled),
                " ".repeat(width - filled), frac * 100, done / unitScale, total / unitScale, unit, rate, unit, extra, eta);
        if (!terminal) err.println();
        err.flush();
    }

    @Override
    public void close() {
        if (terminal || drawnDone != done) draw(System.nanoTime());
        if (terminal) err.println();
    }
}
