package dev.rast.eval.grader;

/**
 * A CharSequence that throws {@link GradingInterrupted} once its thread is interrupted. Java cannot kill a thread,
 * and a regular expression can run for a long time on a long answer; reading the text through this wrapper lets
 * the time budget in {@link TimeBudget} actually stop an abandoned comparison.
 */
record InterruptibleText(CharSequence text) implements CharSequence {
    @Override public char charAt(int index) {
        if (Thread.currentThread().isInterrupted()) throw new GradingInterrupted();
        return text.charAt(index);
    }

    @Override public int length() { return text.length(); }

    @Override public CharSequence subSequence(int start, int end) {
        return new InterruptibleText(text.subSequence(start, end));
    }

    @Override public String toString() { return text.toString(); }
}
