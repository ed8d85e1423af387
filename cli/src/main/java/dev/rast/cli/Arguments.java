package dev.rast.cli;

/**
 * Checks the command line's arguments as text. The JVM decodes them with the locale's charset (sun.jnu.encoding)
 * and puts U+FFFD, the replacement character, wherever bytes do not decode: under a UTF-8 locale for bytes that are
 * not UTF-8, under LC_ALL=C for every non-ASCII byte. A prompt or path holding one is refused, never used garbled.
 */
final class Arguments {
    private Arguments() {}

    static final char REPLACEMENT = '\uFFFD';

    /** Why an argument cannot be used as text, or null when every one decoded. */
    static String undecodable(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].indexOf(REPLACEMENT) < 0) continue;
            String what = i > 0 && args[i - 1].startsWith("-") ? "the value of " + args[i - 1] : "argument " + (i + 1);
            String charset = System.getProperty("sun.jnu.encoding", "UTF-8");
            if (charset.equalsIgnoreCase("UTF-8") || charset.equalsIgnoreCase("UTF8"))
                return what + " is not valid UTF-8 (it holds bytes that do not decode, or U+FFFD itself): give text as UTF-8";
            return what + " has characters the locale's charset (" + charset + ") cannot decode: run under a UTF-8 locale,"
                    + " e.g. LC_ALL=C.UTF-8 (bin/rast chooses one itself where the system has it)";
        }
        return null;
    }
}
