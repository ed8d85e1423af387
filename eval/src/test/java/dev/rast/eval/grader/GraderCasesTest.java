package dev.rast.eval.grader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.text.chat.PromptFormat;
import dev.rast.text.Py;
import dev.rast.eval.data.Dataset;
import dev.rast.eval.data.Datasets;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs every case of {@code grader-cases.tsv}: hand-derived expectations for each rule and quirk of SimpleRL's
 * grader (GRADER_NOTES), one dynamic test per line, named by line number and input.
 */
class GraderCasesTest {
    private static final Map<String, Dataset> DATASETS = new HashMap<>();

    record Case(int line, String[] cols) {
        String name() { return "line " + line + ": " + String.join(" | ", cols); }
    }

    static List<Case> cases() throws IOException {
        List<Case> out = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(
                GraderCasesTest.class.getResourceAsStream("/dev/rast/eval/grader-cases.tsv"), StandardCharsets.UTF_8))) {
            int n = 0;
            for (String line; (line = in.readLine()) != null; ) {
                n++;
                if (line.isEmpty() || line.startsWith("#")) continue;
                String[] cols = line.split("\t", -1);
                for (int i = 0; i < cols.length; i++) cols[i] = cols[i].replace("↵", "\n");
                out.add(new Case(n, cols));
            }
        }
        return out;
    }

    @Test
    void atLeastThreeHundredCases() throws IOException {
        assertTrue(cases().size() >= 300, "cases: " + cases().size());
    }

    @TestFactory
    Stream<DynamicTest> everyCase() throws IOException {
        return cases().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> check(c.cols())));
    }

    private static void check(String[] c) {
        String kind = c[0];
        switch (kind) {
            case "float" -> {
                Double v = PyNumbers.parseFloat(c[1]);
                if (c[2].equals("NONE")) assertEquals(null, v);
                else if (c[2].equals("nan")) assertTrue(v != null && v.isNaN(), "nan expected, got " + v);
                else assertEquals(c[2].equals("inf") ? Double.POSITIVE_INFINITY : c[2].equals("-inf") ? Double.NEGATIVE_INFINITY
                        : Double.parseDouble(c[2]), v);
            }
            case "repr" -> assertEquals(c[2], Py.reprFloat(Double.parseDouble(c[1])));
            case "words" -> assertEquals(c[2], WordNumbers.convert(c[1]));
            case "strip" -> assertEquals(c[2], AnswerNormalizer.strip(c[1], false));
            case "strip-keep-units" -> assertEquals(c[2], AnswerNormalizer.strip(c[1], true));
            case "extract" -> assertEquals(c[2], AnswerExtractor.extract(c[1], false));
            case "extract-keep-units" -> assertEquals(c[2], AnswerExtractor.extract(c[1], true));
            case "truncate:qwen-boxed", "truncate:abel" ->
                    assertEquals(c[2], PromptFormat.byName(kind.substring("truncate:".length())).truncate(c[1]));
            case "equal" -> assertEquals(Boolean.parseBoolean(c[3]), MathEqual.equal(c[1], c[2]));
            case "gold" -> assertEquals(c[3], dataset(c[1]).goldFromAnswer(c[2]));
            case "grade" -> {
                Dataset ds = dataset(c[1]);
                Grader.Result r = Grader.grade(c[3], ds.goldFromAnswer(c[4]), ds.skipUnit(), PromptFormat.byName(c[2]));
                assertEquals(c[5].equals("∅") ? null : c[5], r.pred(), "pred");
                assertEquals(Boolean.parseBoolean(c[6]), r.correct(), "correct");
            }
            default -> throw new AssertionError("unknown case kind " + kind);
        }
    }

    private static synchronized Dataset dataset(String name) {
        return DATASETS.computeIfAbsent(name, Datasets::load);
    }
}
