package dev.rast.analysis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The paper's three families of reasoning words (App. C.3) counted in completions. A word is a run of ASCII letters
 * and apostrophes, compared lower-cased and whole ("checking" is not "check", "But" is "but"). Rates are per 1,000
 * words: over one completion, and pooled over a run (all its family words over all its words).
 */
public final class ReasoningWords {
    /** Family name to its words, in the paper's order. */
    public static final Map<String, Set<String>> FAMILIES = families();

    private static final Pattern WORD = Pattern.compile("[A-Za-z']+");

    private static Map<String, Set<String>> families() {
        Map<String, Set<String>> m = new LinkedHashMap<>();
        m.put("branching", Set.of("alternatively", "another", "try", "suppose", "consider", "different", "assume", "also", "option"));
        m.put("backtracking", Set.of("however", "but", "mistake", "error", "contradiction", "wrong", "revisit", "actually", "again", "flawed"));
        m.put("verification", Set.of("check", "verify", "confirm", "satisfy", "plug", "back", "substitute", "ensure", "validate", "test"));
        return java.util.Collections.unmodifiableMap(m);
    }

    /** One completion's counts: words in all, and per family (in {@link #FAMILIES} order). */
    public record Counts(int words, int[] family) {
        /** Family {@code f}'s words per 1,000 words of this completion (0 for an empty one). */
        public double perThousand(int f) { return words == 0 ? 0 : 1000.0 * family[f] / words; }

        public int reasoningWords() {
            int s = 0;
            for (int c : family) s += c;
            return s;
        }
    }

    public static Counts count(String text) {
        List<Set<String>> fams = new ArrayList<>(FAMILIES.values());
        int[] c = new int[fams.size()];
        int words = 0;
        Matcher m = WORD.matcher(text);
        while (m.find()) {
            words++;
            String w = m.group().toLowerCase(Locale.ROOT);
            for (int f = 0; f < c.length; f++) if (fams.get(f).contains(w)) c[f]++;
        }
        return new Counts(words, c);
    }

    /** A run's figures: pooled rates, mean length, and the per-completion counts behind them. */
    public record RunWords(String label, List<String> ids, List<Counts> counts, int[] lengths) {
        public long words() {
            long w = 0;
            for (Counts c : counts) w += c.words();
            return w;
        }

        /** Family {@code f} per 1,000 words over the whole run. */
        public double pooledPerThousand(int f) {
            long n = 0;
            for (Counts c : counts) n += c.family()[f];
            return words() == 0 ? 0 : 1000.0 * n / words();
        }

        /** All three families together per 1,000 words over the whole run. */
        public double pooledAllPerThousand() {
            double s = 0;
            for (int f = 0; f < FAMILIES.size(); f++) s += pooledPerThousand(f);
            return s;
        }

        public Summary length() {
            double[] v = new double[lengths.length];
            for (int i = 0; i < v.length; i++) v[i] = lengths[i];
            return Summary.of(v);
        }

        /** Per completion, all families per 1,000 words, summarised over completions. */
        public Summary perSample() {
            double[] v = new double[counts.size()];
            for (int i = 0; i < v.length; i++) v[i] = 1000.0 * counts.get(i).reasoningWords() / Math.max(1, counts.get(i).words());
            return Summary.of(v);
        }
    }

    public static RunWords run(String label, List<String> ids, List<String> texts, int[] lengths) {
        List<Counts> c = new ArrayList<>();
        for (String t : texts) c.add(count(t));
        return new RunWords(label, List.copyOf(ids), c, lengths.clone());
    }
}
