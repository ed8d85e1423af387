package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.cli.Main;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs the real `rast` command line in-process with a given stdin, capturing stdout, stderr and the exit status. */
final class Cli {
    private Cli() {}

    record Result(int status, String stdout, String stderr) {}

    static Result withStdin(byte[] stdin, String... args) {
        InputStream oldIn = System.in;
        PrintStream oldErr = System.err, oldOut = System.out;
        ByteArrayOutputStream err = new ByteArrayOutputStream(), out = new ByteArrayOutputStream();
        try {
            System.setIn(new ByteArrayInputStream(stdin));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            int status = Main.run(args);
            return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setIn(oldIn);
            System.setErr(oldErr);
            System.setOut(oldOut);
        }
    }

    static Result withStdin(String stdin, String... args) { return withStdin(stdin.getBytes(StandardCharsets.UTF_8), args); }

    static Result rast(String... args) { return withStdin(new byte[0], args); }

    /** Bad input: exit status 2, exactly one line "error: ..." containing every fragment, no stack trace. */
    static void refused(Result r, String... fragments) {
        String msg = r.stderr().strip();
        assertEquals(Main.EXIT_BAD_INPUT, r.status(), "exit status; stderr was: " + msg);
        assertEquals(1, msg.lines().count(), "exactly one line: " + msg);
        assertTrue(msg.startsWith("error: "), msg);
        assertFalse(msg.contains("Exception") || msg.contains("\tat "), "no stack trace: " + msg);
        for (String f : fragments) assertTrue(msg.contains(f), "message should contain '" + f + "': " + msg);
    }
}
