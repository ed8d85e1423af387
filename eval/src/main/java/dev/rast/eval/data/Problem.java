package dev.rast.eval.data;

import dev.rast.run.SourceHash;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One test problem: its position in the data file ({@code idx}, 0-based, SimpleRL's default index) and the line it
 * is on, the question text the prompt is built from, the gold answer already normalized as SimpleRL normalizes it,
 * and the raw row.
 */
public record Problem(int idx, int line, String question, String gold, Map<String, Object> row) {

    /**
     * What a sample of this problem is made and graded from, hashed: the question and the gold answer. A run folder
     * keeps it in every sample row, so that a resumed run can tell an edited data set from the one its samples came
     * from (other fields of the row do not change a sample).
     */
    public String sourceHash() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("question", question);
        m.put("gold", gold);
        return SourceHash.of(m);
    }
}
