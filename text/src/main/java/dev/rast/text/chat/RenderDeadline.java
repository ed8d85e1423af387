package dev.rast.text.chat;

import com.hubspot.jinjava.interpret.InterpretException;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.tree.Node;

/**
 * A time limit on one render, checked before every node Jinjava renders (its node pre-processor hook). Past the
 * deadline each node fails at once, so even loops nested without end unwind in moments; the render's owner then
 * reports the limit, whatever errors the unwinding left.
 */
final class RenderDeadline {
    private RenderDeadline() {}

    /** This thread's render: {deadline in System.nanoTime units, 1 once passed}. */
    private static final ThreadLocal<long[]> CURRENT = new ThreadLocal<>();

    static void start(int seconds) { CURRENT.set(new long[] {System.nanoTime() + seconds * 1_000_000_000L, 0}); }

    /** Ends the render's limit; whether it was passed. */
    static boolean stop() {
        long[] d = CURRENT.get();
        CURRENT.remove();
        return d != null && d[1] != 0;
    }

    static void check(Node node, JinjavaInterpreter interpreter) {
        long[] d = CURRENT.get();
        if (d == null) return;
        if (d[1] == 0 && System.nanoTime() - d[0] < 0) return;
        d[1] = 1;
        throw new InterpretException("render time limit passed", node.getLineNumber());
    }
}
