package dev.rast.eval.data;

import dev.rast.engine.BadInputException;
import dev.rast.engine.files.Utf8Lines;
import dev.rast.engine.json.Json;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * JSON Lines reading with errors that name the source and the line number. Blank lines are skipped. Input is strict
 * UTF-8 ({@link Utf8Lines}): bytes that are not are an error naming the line, never replaced.
 */
public final class JsonLines {
    private JsonLines() {}

    /** One parsed object with the 1-based line it came from. */
    public record Line(int number, Map<String, Object> object) {}

    /** Every non-blank line as a JSON object, with its line number (blank lines are skipped, so rows ≠ lines). */
    public static List<Line> readAll(InputStream in, String source) {
        List<Line> out = new ArrayList<>();
        forEach(in, source, out::add);
        return out;
    }

    /** Calls {@code action} for each non-blank line, in order, as it is read. */
    public static void forEach(InputStream in, String source, Consumer<Line> action) {
        Utf8Lines.forEach(in, source, (n, text) -> {
            if (!text.isBlank()) action.accept(new Line(n, parse(text, source, n)));
        });
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
