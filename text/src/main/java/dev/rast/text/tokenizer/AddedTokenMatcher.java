package dev.rast.text.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds added tokens in text, leftmost first and longest at that position (the Rust library's leftmost-longest
 * Aho-Corasick). Texts are short and added tokens few, so a first-character index suffices.
 */
final class AddedTokenMatcher {
    /** A match: token at [start, end), with {@code from}/{@code to} widened over stripped white space. */
    record Match(AddedToken token, int from, int to) {}

    private final Map<Character, List<AddedToken>> byFirstChar = new HashMap<>();

    AddedTokenMatcher(List<AddedToken> tokens) {
        for (AddedToken t : tokens) {
            if (t.content().isEmpty()) continue;
            byFirstChar.computeIfAbsent(t.content().charAt(0), k -> new ArrayList<>()).add(t);
        }
        for (List<AddedToken> l : byFirstChar.values())
            l.sort(Comparator.comparingInt((AddedToken t) -> t.content().length()).reversed());
    }

    boolean isEmpty() { return byFirstChar.isEmpty(); }

    /** The matches in {@code s}, in order, not overlapping. */
    List<Match> find(String s) {
        List<Match> out = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            List<AddedToken> cands = byFirstChar.get(s.charAt(i));
            AddedToken hit = null;
            if (cands != null) {
                for (AddedToken t : cands) {
                    if (s.startsWith(t.content(), i)) { hit = t; break; }
                }
            }
            if (hit == null) { i++; continue; }
            int from = i, to = i + hit.content().length();
            int floor = out.isEmpty() ? 0 : out.getLast().to();
            if (hit.lstrip()) while (from > floor && SplitPattern.isSpace(s.charAt(from - 1))) from--;
            if (hit.rstrip()) while (to < s.length() && SplitPattern.isSpace(s.charAt(to))) to++;
            out.add(new Match(hit, from, to));
            i = to;
        }
        return out;
    }
}
