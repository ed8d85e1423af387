package dev.rast.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Standard output as UTF-8 whatever the locale: System.out encodes with stdout.encoding, which is ASCII under a
 * POSIX locale and would turn generated text into '?'. Wraps the current System.out so tests can capture it.
 */
final class Stdout {
    private Stdout() {}

    static PrintStream utf8() { return new PrintStream(System.out, false, StandardCharsets.UTF_8); }
}
