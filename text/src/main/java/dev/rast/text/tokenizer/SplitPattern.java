package dev.rast.text.tokenizer;

import java.util.List;

/**
 * The pre-tokenizer split of Qwen2/Qwen2.5/Qwen3 and Llama 3, hand-written instead of run through a regex engine.
 * Both tokenizers declare (as a {@code Split} with behaviour {@code Isolated}) the pattern
 *
 * <pre>
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d) | [^\r\n\p{L}\p{N}]?\p{L}+ | \p{N}{1,D} | ?[^\s\p{L}\p{N}]+[\r\n]*
 *   | \s*[\r\n]+ | \s+(?!\S) | \s+
 * </pre>
 *
 * with D = 1 for Qwen and 3 for Llama. The Rust library runs it with Oniguruma, whose {@code \s} is Unicode
 * White_Space (tab..CR, space, NEL, NBSP, U+1680, U+2000..U+200A, U+2028/9, U+202F, U+205F, U+3000), unlike
 * java.util.regex's ASCII {@code \s}; and a backtracking engine tries the alternatives left to right at each
 * position. {@link #matchEnd} reproduces that order, alternative by alternative, including the backtracking of
 * {@code \s*[\r\n]+} and {@code \s+(?!\S)}. It is also several times faster than java.util.regex on this pattern.
 */
final class SplitPattern {
    static final String QWEN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String LLAMA3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private final int maxDigits;

    private SplitPattern(int maxDigits) { this.maxDigits = maxDigits; }

    /** The split for a pattern string from tokenizer.json, or null when it is not one we implement. */
    static SplitPattern forRegex(String regex) {
        if (QWEN.equals(regex)) return new SplitPattern(1);
        if (LLAMA3.equals(regex)) return new SplitPattern(3);
        return null;
    }

    /** Appends the [start, end) char offsets of the pieces of {@code s[from, to)} to {@code bounds}. */
    void split(String s, int from, int to, List<int[]> bounds) {
        int i = from;
        while (i < to) {
            int end = matchEnd(s, i, to);
            bounds.add(new int[] {i, end});
            i = end;
        }
    }

    /** End of the match that starts at {@code i}; every position matches one of the alternatives. */
    int matchEnd(String s, int i, int n) {
        int c = s.codePointAt(i);
        // 1. (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if (c == '\'') {
            int m = contraction(s, i + 1, n);
            if (m > 0) return i + 1 + m;
        }
        // 2. [^\r\n\p{L}\p{N}]?\p{L}+  (the optional char is tried first, then backtracked)
        if (isLetter(c)) return letterRunEnd(s, i, n);
        if (c != '\r' && c != '\n' && !isNumber(c)) {
            int j = i + Character.charCount(c);
            if (j < n && isLetter(s.codePointAt(j))) return letterRunEnd(s, j, n);
        }
        // 3. \p{N}{1,D}
        if (isNumber(c)) {
            int j = i;
            for (int k = 0; k < maxDigits && j < n; k++) {
                int d = s.codePointAt(j);
                if (!isNumber(d)) break;
                j += Character.charCount(d);
            }
            return j;
        }
        // 4. ' '?[^\s\p{L}\p{N}]+[\r\n]*
        int k = c == ' ' ? i + 1 : i;
        if (k < n && isPunct(s.codePointAt(k))) {
            while (k < n && isPunct(s.codePointAt(k))) k += Character.charCount(s.codePointAt(k));
            while (k < n && (s.charAt(k) == '\r' || s.charAt(k) == '\n')) k++;
            return k;
        }
        // c is white space here: every non-space code point matched one of 2, 3 or 4.
        int runEnd = i;
        while (runEnd < n && isSpace(s.charAt(runEnd))) runEnd++;
        // 5. \s*[\r\n]+ : \s* backs off to the last newline of the run, which [\r\n]+ then takes.
        for (int j = runEnd - 1; j >= i; j--) {
            char d = s.charAt(j);
            if (d == '\r' || d == '\n') return j + 1;
        }
        // 6. \s+(?!\S) : all of the run at the end of the text, else the run less its last char (if any remain).
        if (runEnd == n) return runEnd;
        if (runEnd - i >= 2) return runEnd - 1;
        // 7. \s+
        return runEnd;
    }

    /** Length of a contraction suffix after an apostrophe at {@code i}, or 0; case-insensitive as (?i:) is. */
    private static int contraction(String s, int i, int n) {
        if (i >= n) return 0;
        char a = fold(s.charAt(i));
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return 1;
        if (i + 1 < n) {
            char b = fold(s.charAt(i + 1));
            if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 2;
        }
        return 0;
    }

    /**
     * ASCII case folding. Oniguruma does not fold U+017F LONG S to s here (checked against HF: "'ſ" is not a
     * contraction), so nothing outside ASCII folds.
     */
    private static char fold(char c) { return c < 128 ? Character.toLowerCase(c) : c; }

    private static int letterRunEnd(String s, int j, int n) {
        while (j < n) {
            int d = s.codePointAt(j);
            if (!isLetter(d)) break;
            j += Character.charCount(d);
        }
        return j;
    }

    static boolean isLetter(int cp) { return Character.isLetter(cp); }

    static boolean isNumber(int cp) {
        int t = Character.getType(cp);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
    }

    /** Oniguruma's Unicode {@code \s}: the White_Space property. */
    static boolean isSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F
                || cp == 0x3000;
    }

    private static boolean isPunct(int cp) { return !isSpace(cp) && !isLetter(cp) && !isNumber(cp); }
}
