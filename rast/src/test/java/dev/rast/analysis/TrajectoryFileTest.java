package dev.rast.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.BadInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Trajectory JSONL: rows read, and every bad row refused by file, line and field. */
class TrajectoryFileTest {
    @TempDir Path dir;

    Path file(String content) throws Exception {
        Path f = dir.resolve("t.jsonl");
        Files.writeString(f, content);
        return f;
    }

    @Test
    void readsRowsWithOptionalIds() throws Exception {
        List<Trajectory> ts = TrajectoryFile.read(file("{\"prompt_tokens\": [1, 2], \"tokens\": [3], \"text\": \"x\"}\n\n{\"id\": 7, \"prompt_tokens\": [4], \"tokens\": [5, 6]}\n"));
        assertEquals(2, ts.size());
        assertTrue(ts.get(0).id().endsWith("t.jsonl line 1"), ts.get(0).id());
        assertEquals("7", ts.get(1).id());
        assertArrayEquals(new int[] {5, 6}, ts.get(1).tokens());
    }

    void refused(String content, String... fragments) throws Exception {
        Path f = file(content);
        BadInputException e = assertThrows(BadInputException.class, () -> TrajectoryFile.read(f));
        for (String s : fragments) assertTrue(e.getMessage().contains(s), "'" + s + "' in: " + e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }

    @Test
    void badRowsNameFileLineAndField() throws Exception {
        refused("{\"prompt_tokens\": [1], \"tokens\": [2]}\n{oops\n", "t.jsonl line 2, column 2", "not valid JSON");
        refused("[1, 2]\n", "line 1", "JSON object");
        refused("{\"tokens\": [2]}\n", "line 1", "missing field 'prompt_tokens'");
        refused("{\"prompt_tokens\": [1], \"tokens\": \"2\"}\n", "line 1", "'tokens' must be a list");
        refused("{\"prompt_tokens\": [1], \"tokens\": []}\n", "line 1", "'tokens' is empty");
        refused("{\"prompt_tokens\": [1], \"tokens\": [2, -1]}\n", "line 1", "tokens[1] = -1");
        refused("{\"prompt_tokens\": [1.5], \"tokens\": [2]}\n", "prompt_tokens[0] = 1.5");
        refused("{\"prompt_tokens\": [1], \"tokens\": [99999999999]}\n", "tokens[0]");
        refused("\n\n", "no trajectories");
        BadInputException missing = assertThrows(BadInputException.class, () -> TrajectoryFile.read(dir.resolve("none.jsonl")));
        assertTrue(missing.getMessage().contains("none.jsonl"), missing.getMessage());
    }

    @Test
    void idsOutsideTheVocabularyAreNamed() throws Exception {
        List<Trajectory> ts = TrajectoryFile.read(file("{\"id\": \"a\", \"prompt_tokens\": [1], \"tokens\": [2, 1000]}\n"));
        BadInputException e = assertThrows(BadInputException.class, () -> TrajectoryFile.checkVocabulary(ts, 1000));
        assertTrue(e.getMessage().contains("a: tokens[1] = 1000") && e.getMessage().contains("0..999"), e.getMessage());
    }
}
