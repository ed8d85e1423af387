package dev.rast.eval.grader;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The unit vocabulary SimpleRL's normalizer deletes from answers (GRADER_NOTES §2 step 6): words mostly taken from
 * the MathQA data set, then each word again with "s" appended. The list is data that decides grading results, so
 * it is reproduced entry for entry and in order (order matters: each entry rewrites the string the earlier ones
 * left). Entries are regular expressions, not literals: the "." in {@code "q ."} matches any character.
 */
final class UnitWords {
    private UnitWords() {}

    private static final String[] BASE = {
        "east", "degree", "mph", "kmph", "ft", "m sqaure", " m east", "sq m", "deg", "mile", "q .", "monkey",
        "prime", "ratio", "profit of rs", "rd", "o", "gm", "p . m", "lb", "tile", "per", "dm", "lt", "gain", "ab",
        "way", "west", "a .", "b .", "c .", "d .", "e .", "f .", "g .", "h .", "t", "a", "h", "no change", "men",
        "soldier", "pie", "bc", "excess", "st", "inches", "noon", "percent", "by", "gal", "kmh", "c", "acre",
        "rise", "a . m", "th", "π r 2", "sq", "mark", "l", "toy", "coin", "sq . m", "gallon", "° f", "profit",
        "minw", "yr", "women", "feet", "am", "pm", "hr", "cu cm", "square", "v â € ™", "are", "rupee", "rounds",
        "cubic", "cc", "mtr", "s", "ohm", "number", "kmph", "day", "hour", "minute", "min", "second", "man",
        "woman", "sec", "cube", "mt", "sq inch", "mp", "∏ cm ³", "hectare", "more", "sec", "unit", "cu . m",
        "cm 2", "rs .", "rs", "kg", "g", "month", "km", "m", "cm", "mm", "apple", "liter", "loss", "yard", "pure",
        "year", "increase", "decrease", "d", "less", "Surface", "litre", "pi sq m", "s .", "metre", "meter", "inch",
    };

    /**
     * One entry: its pattern {@code (^|\W)ENTRY($|\W)} ({@code \W} in Python's Unicode sense) and, when the
     * entry has no "." wildcard, the literal text that must occur for the pattern to match at all: a cheap test
     * that skips most of the ~300 regular expressions on a typical answer.
     */
    record Unit(Pattern pattern, String literal) {
        boolean mayMatch(String s) { return literal == null || s.contains(literal); }
    }

    /** Every entry, then every entry + "s", in SimpleRL's order. */
    static final List<Unit> UNITS;

    static {
        List<String> all = new ArrayList<>(List.of(BASE));
        for (String w : BASE) all.add(w + "s");
        List<Unit> us = new ArrayList<>(all.size());
        for (String w : all)
            us.add(new Unit(Pattern.compile("(^|\\W)" + w + "($|\\W)", Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNIX_LINES),
                    w.contains(".") ? null : w));
        UNITS = Collections.unmodifiableList(us);
    }
}
