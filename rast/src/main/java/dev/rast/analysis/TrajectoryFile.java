package dev.rast.analysis;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rast.engine.BadInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Trajectories as JSON lines: {@code {"prompt_tokens": [ids], "tokens": [ids]}} per line, optionally with an
 * {@code "id"} (string or number) that names the row in tables; other fields are ignored. Blank lines are skipped.
 * Every problem is reported as one line naming the file, the line and the field.
 */
public final class TrajectoryFile {
    private static final ObjectMapper JSON = new ObjectMapper();

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
            out.add(parse(lines.get(i), file + " line " + (i + 1)));
        }
        if (out.isEmpty()) throw new BadInputException(file + ": no trajectories (expected JSON lines {\"prompt_tokens\": [...], \"tokens\": [...]})");
        return out;
    }

    /** One row; {@code where} ("FILE line N") starts every message. */
    static Trajectory parse(String line, String where) {
        JsonNode row;
        try {
            row = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new BadInputException(where + ": not JSON (" + e.getOriginalMessage() + ")");
        }
        if (row == null || !row.isObject()) throw new BadInputException(where + ": expected a JSON object {\"prompt_tokens\": [...], \"tokens\": [...]}");
        JsonNode id = row.get("id");
        String name = id == null || id.isNull() ? where : id.isTextual() ? id.asText() : id.toString();
        return new Trajectory(name, ids(row, "prompt_tokens", where), ids(row, "tokens", where));
    }

    private static int[] ids(JsonNode row, String field, String where) {
        JsonNode a = row.get(field);
        if (a == null) throw new BadInputException(where + ": missing field '" + field + "' (a list of token ids)");
        if (!a.isArray()) throw new BadInputException(where + ": field '" + field + "' must be a list of token ids, is " + a.getNodeType().toString().toLowerCase(java.util.Locale.ROOT));
        if (a.isEmpty()) throw new BadInputException(where + ": field '" + field + "' is empty");
        int[] ids = new int[a.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode v = a.get(i);
            if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 0)
                throw new BadInputException(where + ": " + field + "[" + i + "] = " + v + " is not a token id (a whole number ≥ 0)");
            ids[i] = v.asInt();
        }
        return ids;
    }

    /** Checks every trajectory's ids against {@code vocab}; the message names the row and field. */
    public static void checkVocabulary(List<Trajectory> ts, int vocab) {
        for (Trajectory t : ts) t.checkVocabulary(vocab);
    }
}
