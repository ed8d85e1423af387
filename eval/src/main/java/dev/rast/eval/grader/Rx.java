package dev.rast.eval.grader;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Regular expressions with Python 3 {@code re} semantics where they differ from Java's defaults: {@code \d},
 * {@code \w}, {@code \W} are Unicode-aware, and only {@code \n} ends a line for {@code .} and {@code $}. Matching
 * runs over an {@link InterruptibleText} so that a grading thread abandoned at its time budget stops promptly.
 */
final class Rx {
    private Rx() {}

    static Pattern compile(String regex) {
        return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNIX_LINES);
    }

    static Matcher matcher(Pattern p, String s) { return p.matcher(new InterruptibleText(s)); }

    /** {@code re.sub(p, template, s)} where the template uses Java's {@code $1} group syntax. */
    static String sub(Pattern p, String s, String template) { return matcher(p, s).replaceAll(template); }

    /** {@code re.sub} with a replacement taken literally. */
    static String subLiteral(Pattern p, String s, String replacement) {
        return matcher(p, s).replaceAll(Matcher.quoteReplacement(replacement));
    }
}
