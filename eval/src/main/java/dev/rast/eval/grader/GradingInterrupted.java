package dev.rast.eval.grader;

/** A comparison ran past its time budget and was told to stop; it counts as wrong, as SimpleRL's timeout does. */
public final class GradingInterrupted extends RuntimeException {
    public GradingInterrupted() { super("comparison abandoned at its time budget", null, false, false); }

    /** Throws when the current thread has been interrupted; long loops call this between steps. */
    public static void check() {
        if (Thread.currentThread().isInterrupted()) throw new GradingInterrupted();
    }
}
