package dev.rast.eval.data;

import dev.rast.engine.BadInputException;
import dev.rast.engine.json.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** JSON Lines reading with errors that name the source and the line number. Blank lines are skipped. */
public final class JsonLines {
    private JsonLines() {}

    /** One parsed object with the 1-based line it came from. */
    public record Line(int number, Map<String, Object> object) {}

    /** Every non-blank line as a JSON object, with its line number (blank lines are skipped, so rows ≠ lines). */
    public static List<Line> readAll(BufferedReader in, String source) {
        List<Line> out = new ArrayList<>();
        forEach(in, source, out::add);
        return out;
    }

    /** Calls {@code action} for each non-blank line, in order, as it is read. */
    public static void forEach(BufferedReader in, String source, Consumer<Line> action) {
        int n = 0;
        try {
            for (String text; (text = in.readLine()) != null; ) {
                n++;
                if (text.isBlank()) continue;
                action.accept(new Line(n, parse(text, source, n)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + source + " at line " + (n + 1), e);
        }
    }

    /** One line as a JSON object, or a BadInputException naming source, line and column. */
    public static Map<String, Object> parse(String text, String source, int lineNumber) {
        return object(Json.parseLine(text, source, lineNumber), source + " line " + lineNumber);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object v, String where) {
        if (!(v instanceof Map)) throw new BadInputException(where + ": expected a JSON object");
        return (Map<String, Object>) v;
    }
}
