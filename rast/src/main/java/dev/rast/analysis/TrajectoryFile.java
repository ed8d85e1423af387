package dev.rast.analysis;

import dev.rast.engine.BadInputException;
import dev.rast.engine.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Trajectories as JSON lines: {@code {"prompt_tokens": [ids], "tokens": [ids]}} per line, optionally with an
 * {@code "id"} (string or number) that names the row in tables; other fields are ignored. Blank lines are skipped.
 * Every problem is reported as one line naming the file, the line and the field.
 */
public final class TrajectoryFile {
    private TrajectoryFile() {}

    public static List<Trajectory> read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new BadInputException(file + ": no such file or run folder");
        } catch (IOException e) {
            throw new BadInputException("cannot read " + file + ": " + e.getMessage());
        }
        List<Trajectory> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) continue;
            out.add(parse(lines.get(i), file, i + 1));
        }
        if (out.isEmpty()) throw new BadInputException(file + ": no trajectories (expected JSON lines {\"prompt_tokens\": [...], \"tokens\": [...]})");
        return out;
    }

    /** Line {@code lineNumber} of {@code file}; every message starts with "FILE line N". */
    static Trajectory parse(String line, Path file, int lineNumber) {
        String where = file + " line " + lineNumber;
        if (!(Json.parseLine(line, file, lineNumber) instanceof Map<?, ?> row))
            throw new BadInputException(where + ": expected a JSON object {\"prompt_tokens\": [...], \"tokens\": [...]}");
        Object id = row.get("id");
        String name = id == null ? where : id instanceof String s ? s : Json.line(id);
        return new Trajectory(name, ids(row, "prompt_tokens", where), ids(row, "tokens", where));
    }

    private static int[] ids(Map<?, ?> row, String field, String where) {
        Object a = row.get(field);
        if (a == null) throw new BadInputException(where + ": missing field '" + field + "' (a list of token ids)");
        if (!(a instanceof List<?> list)) throw new BadInputException(where + ": field '" + field + "' must be a list of token ids, is " + kind(a));
        if (list.isEmpty()) throw new BadInputException(where + ": field '" + field + "' is empty");
        int[] ids = new int[list.size()];
        for (int i = 0; i < ids.length; i++) {
            Object v = list.get(i);
            if (!(v instanceof Long x) || x < 0 || x > Integer.MAX_VALUE)
                throw new BadInputException(where + ": " + field + "[" + i + "] = " + Json.line(v) + " is not a token id (a whole number ≥ 0)");
            ids[i] = (int) (long) x;
        }
        return ids;
    }

    /** The JSON kind of a parsed value, for messages. */
    private static String kind(Object v) {
        return switch (v) {
            case String s -> "string";
            case Boolean b -> "boolean";
            case Number n -> "number";
            case Map<?, ?> m -> "object";
            default -> "array";
        };
    }

    /** Checks every trajectory's ids against {@code vocab}; the message names the row and field. */
    public static void checkVocabulary(List<Trajectory> ts, int vocab) {
        for (Trajectory t : ts) t.checkVocabulary(vocab);
    }
}
