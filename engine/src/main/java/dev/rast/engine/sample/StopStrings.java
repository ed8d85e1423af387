package dev.rast.engine.sample;

import dev.rast.engine.BadInputException;
import java.util.List;

/**
 * Watches incrementally decoded text for {@code --stop} strings. {@link #feed} takes each new piece of text and
 * returns what is safe to show: it holds back a tail that could still become a stop string, and when one appears
 * it stops, dropping the stop string and everything after it.
 *
 * <p>The result does not depend on how the text is cut into chunks: the match is the stop string that ends first
 * in the text (the one per-character feeding would see first); of several ending at the same place, the longest.
 * Emitted text never contains the start of a match, because the held tail is the longest suffix that is a proper
 * prefix of some stop string.
 */
public final class StopStrings {
    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder();
    private String matched;

    public StopStrings(List<String> stops) {
        for (String s : stops) if (s.isEmpty()) throw new BadInputException("--stop strings must not be empty");
        this.stops = List.copyOf(stops);
    }

    /** Adds decoded text; returns the part that can be emitted now (possibly empty). After a stop, always "". */
    public String feed(String chunk) {
        if (matched != null) return "";
        pending.append(chunk);
        int bestEnd = Integer.MAX_VALUE, bestStart = 0;
        for (String s : stops) {
            int start = pending.indexOf(s);
            if (start < 0) continue;
            int end = start + s.length();
            if (end < bestEnd || end == bestEnd && start < bestStart) {
                bestEnd = end;
                bestStart = start;
                matched = s;
            }
        }
        if (matched != null) {
            String out = pending.substring(0, bestStart);
            pending.setLength(0);
            return out;
        }
        int emit = pending.length() - heldBack();
        String out = pending.substring(0, emit);
        pending.delete(0, emit);
        return out;
    }

    /** At the end of generation (no stop string hit): the held-back tail, which is now plain text. */
    public String flush() {
        String out = pending.toString();
        pending.setLength(0);
        return out;
    }

    /** Whether a stop string was hit. */
    public boolean stopped() { return matched != null; }

    /** The stop string that was hit, or null. */
    public String matched() { return matched; }

    /** Length of the longest suffix of the pending text that is a proper prefix of a stop string. */
    private int heldBack() {
        int best = 0;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, pending.length()); k > best; k--) {
                if (endsWith(s, k)) {
                    best = k;
                    break;
                }
            }
        }
        return best;
    }

    private boolean endsWith(String s, int k) {
        int off = pending.length() - k;
        for (int i = 0; i < k; i++) if (pending.charAt(off + i) != s.charAt(i)) return false;
        return true;
    }
}
