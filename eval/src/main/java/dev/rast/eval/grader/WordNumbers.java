package dev.rast.eval.grader;

import dev.rast.text.Py;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The word-to-number step of SimpleRL's normalizer (GRADER_NOTES §2 step 8), which calls the PyPI package
 * {@code word2number}'s {@code word_to_num} and keeps the input when it raises. Reproduced here from that
 * package's documented behaviour: an all-digit string becomes its integer ({@code 025} → {@code 25}); otherwise
 * the number words anywhere in the string (every other word is ignored) are combined into a number, so
 * {@code "the answer is one"} becomes {@code 1}.
 */
final class WordNumbers {
    private WordNumbers() {}

    private static final Map<String, Long> VALUES = Map.ofEntries(
            Map.entry("zero", 0L), Map.entry("one", 1L), Map.entry("two", 2L), Map.entry("three", 3L),
            Map.entry("four", 4L), Map.entry("five", 5L), Map.entry("six", 6L), Map.entry("seven", 7L),
            Map.entry("eight", 8L), Map.entry("nine", 9L), Map.entry("ten", 10L), Map.entry("eleven", 11L),
            Map.entry("twelve", 12L), Map.entry("thirteen", 13L), Map.entry("fourteen", 14L),
            Map.entry("fifteen", 15L), Map.entry("sixteen", 16L), Map.entry("seventeen", 17L),
            Map.entry("eighteen", 18L), Map.entry("nineteen", 19L), Map.entry("twenty", 20L),
            Map.entry("thirty", 30L), Map.entry("forty", 40L), Map.entry("fifty", 50L), Map.entry("sixty", 60L),
            Map.entry("seventy", 70L), Map.entry("eighty", 80L), Map.entry("ninety", 90L),
            Map.entry("hundred", 100L), Map.entry("thousand", 1000L), Map.entry("million", 1000000L),
            Map.entry("billion", 1000000000L));
    private static final List<String> DECIMAL_WORDS =
            List.of("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine");

    /** Thrown where word_to_num raises; the caller then keeps the text unchanged. */
    private static final class NotANumber extends Exception {
        NotANumber() { super(null, null, false, false); }
    }

    /** {@code convert_word_number}: the number as Python prints it, or the text unchanged. */
    static String convert(String text) {
        try {
            return wordToNum(text);
        } catch (NotANumber e) {
            return text;
        }
    }

    private static String wordToNum(String sentence) throws NotANumber {
        String s = sentence.replace('-', ' ').toLowerCase(Locale.ROOT);
        if (PyNumbers.isDecimal(s)) return PyNumbers.intString(s);
        List<String> clean = new java.util.ArrayList<>();
        for (String w : Py.split(s)) if (VALUES.containsKey(w) || w.equals("point")) clean.add(w);
        if (clean.isEmpty()) throw new NotANumber();
        if (count(clean, "thousand") > 1 || count(clean, "million") > 1 || count(clean, "billion") > 1
                || count(clean, "point") > 1) throw new NotANumber();
        List<String> decimals = List.of();
        int point = clean.indexOf("point");
        if (point >= 0) {
            decimals = clean.subList(point + 1, clean.size());
            clean = clean.subList(0, point);
        }
        int bi = clean.indexOf("billion"), mi = clean.indexOf("million"), ti = clean.indexOf("thousand");
        if ((ti > -1 && (ti < mi || ti < bi)) || (mi > -1 && mi < bi)) throw new NotANumber();
        long total = 0;
        int n = clean.size();
        if (n == 1) {
            total = VALUES.get(clean.get(0));
        } else if (n > 1) {
            if (bi > -1) total += formation(clean.subList(0, bi)) * 1000000000L;
            if (mi > -1) total += formation(bi > -1 ? clean.subList(bi + 1, mi) : clean.subList(0, mi)) * 1000000L;
            if (ti > -1) {
                List<String> part = mi > -1 ? clean.subList(mi + 1, ti)
                        : bi > -1 ? clean.subList(bi + 1, ti) : clean.subList(0, ti);
                total += formation(part) * 1000L;
            }
            long hundreds;
            if (ti > -1 && ti != n - 1) hundreds = formation(clean.subList(ti + 1, n));
            else if (mi > -1 && mi != n - 1 && ti != n - 1) hundreds = formation(clean.subList(mi + 1, n));
            else if (bi > -1 && bi != n - 1) hundreds = formation(clean.subList(bi + 1, n));
            else if (ti == -1 && mi == -1 && bi == -1) hundreds = formation(clean);
            else hundreds = 0;
            total += hundreds;
        }
        if (!decimals.isEmpty()) {
            StringBuilder digits = new StringBuilder("0.");
            for (String w : decimals) {
                if (!DECIMAL_WORDS.contains(w)) return Long.toString(total); // word2number adds an int 0 here
                digits.append(VALUES.get(w));
            }
            return Py.reprFloat(total + Double.parseDouble(digits.toString()));
        }
        return Long.toString(total);
    }

    /** word2number's number_formation: how 1 to 4 words before a multiplier combine. */
    private static long formation(List<String> words) throws NotANumber {
        if (words.isEmpty()) throw new NotANumber(); // Python raises IndexError there
        long[] v = new long[words.size()];
        for (int i = 0; i < v.length; i++) v[i] = VALUES.get(words.get(i));
        return switch (v.length) {
            case 4 -> v[0] * v[1] + v[2] + v[3];
            case 3 -> v[0] * v[1] + v[2];
            case 2 -> (v[0] == 100 || v[1] == 100) ? v[0] * v[1] : v[0] + v[1];
            default -> v[0];
        };
    }

    private static int count(List<String> xs, String w) {
        int c = 0;
        for (String x : xs) if (x.equals(w)) c++;
        return c;
    }
}
