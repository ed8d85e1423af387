package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rast grade} and {@code rast report} through the real command line: JSONL line for line, and bad input
 * (unknown data set, malformed JSONL, missing gold, unwritable output) as one line on stderr with exit status 2.
 */
class EvalCommandsTest {
    @TempDir Path tmp;

    @Test
    void gradePrintsOneResultPerLine() {
        String in = """
                {"completion": "so the answer is \\\\boxed{25}.", "gold": "025"}
                {"completion": "\\\\boxed{204}", "idx": 0}
                {"completion": "I give up"}
                """.replace("{\"completion\": \"I give up\"}", "{\"completion\": \"no idea\", \"gold\": 7}");
        Cli.Result r = Cli.withStdin(in, "grade", "--dataset", "aime24");
        assertEquals(0, r.status(), r.stderr());
        List<String> lines = r.stdout().lines().toList();
        assertEquals(3, lines.size(), r.stdout());
        assertEquals(Map.of("pred", "25", "correct", true), Json.parse(lines.get(0), "stdout"));
        assertEquals(Map.of("pred", "204", "correct", true), Json.parse(lines.get(1), "stdout")); // aime24 row 0's answer is 204
        assertEquals(Map.of("pred", "", "correct", false), Json.parse(lines.get(2), "stdout"));
    }

    /** --explain names the rule that decided each row; without it the rows are as before. */
    @Test
    void gradeExplainNamesTheDecidingRule() {
        String in = """
                {"completion": "\\\\boxed{1260}", "gold": "1260"}
                {"completion": "\\\\boxed{1\\\\,260}", "gold": "1260"}
                {"completion": "\\\\boxed{1261}", "gold": "1260"}
                {"completion": "\\\\boxed{(1, \\\\frac{1}{2})}", "gold": "(1, 0.5)"}
                {"completion": "\\\\boxed{100000 + x}", "gold": "100000"}
                {"completion": "\\\\boxed{x > 3}", "gold": "3 > x"}
                {"completion": "", "gold": "1"}
                """;
        Cli.Result r = Cli.withStdin(in, "grade", "--dataset", "math500", "--explain");
        assertEquals(0, r.status(), r.stderr());
        List<String> lines = r.stdout().lines().toList();
        assertEquals(7, lines.size(), r.stdout());
        assertEquals(Map.of("pred", "1260", "correct", true, "rule", "exact string"), Json.parse(lines.get(0), "grade output"));
        // sympy's LaTeX parser drops the thin space: one number 1260
        assertEquals(Map.of("pred", "1\\,260", "correct", true, "rule", "symbolic: same expression"), Json.parse(lines.get(1), "grade output"));
        assertEquals(Map.of("pred", "1261", "correct", false, "rule", "numbers differ"), Json.parse(lines.get(2), "grade output"));
        assertEquals(Map.of("pred", "(1,\\frac{1}{2})", "correct", true, "rule", "tuple element by element"), Json.parse(lines.get(3), "grade output"));
        // a free symbol has no tolerance, however large the constant beside it
        assertEquals(Map.of("pred", "100000+x", "correct", false, "rule", "no rule matched"), Json.parse(lines.get(4), "grade output"));
        // the real grader compares |lhs - rhs| of two relations, whatever their direction
        assertEquals(Map.of("pred", "x>3", "correct", true, "rule", "symbolic: relations with equal sides"), Json.parse(lines.get(5), "grade output"));
        assertEquals("{\"pred\": null, \"correct\": false, \"rule\": \"no answer\"}", lines.get(6));

        Cli.Result plain = Cli.withStdin(in, "grade", "--dataset", "math500");
        assertEquals(Map.of("pred", "1260", "correct", true), Json.parse(plain.stdout().lines().findFirst().orElseThrow(), "grade output"));
    }

    @Test
    void gradeNullPredictionForAnEmptyCompletion() {
        Cli.Result r = Cli.withStdin("{\"completion\": \"<|im_end|>\", \"gold\": \"1\"}\n", "grade", "--dataset", "math500");
        assertEquals(0, r.status(), r.stderr());
        assertEquals("{\"pred\": null, \"correct\": false}", r.stdout().strip());
    }

    @Test
    void unknownDataset() {
        Cli.refused(Cli.withStdin("", "grade", "--dataset", "math5000"), "unknown data set 'math5000'",
                "math500, gsm8k, aime24, amc23, minerva_math, olympiadbench");
    }

    @Test
    void unknownFormat() {
        Cli.refused(Cli.withStdin("", "grade", "--dataset", "gsm8k", "--format", "chatml"), "unknown prompt format 'chatml'", "qwen-boxed, abel");
    }

    @Test
    void malformedStdinLineNamesTheLine() {
        Cli.Result r = Cli.withStdin("{\"completion\": \"\\\\boxed{1}\", \"gold\": \"1\"}\n\n{\"completion\": oops}\n", "grade", "--dataset", "gsm8k");
        Cli.refused(r, "stdin line 3, column 20: not valid JSON: Unrecognized token 'oops'");
        assertEquals(1, r.stdout().lines().count(), "the lines before the bad one were graded");
    }

    @Test
    void malformedDatasetFileNamesFileAndLine() throws IOException {
        Path f = tmp.resolve("mine.jsonl");
        Files.writeString(f, "{\"q\": \"1+1?\", \"a\": \"2\"}\n{\"q\": \"2+2?\" \"a\": \"4\"}\n");
        Cli.refused(Cli.withStdin("", "grade", "--dataset", f.toString(), "--question-field", "q", "--answer-field", "a"),
                "mine.jsonl line 2, column 14: not valid JSON: Unexpected character");
    }

    @Test
    void missingGold() throws IOException {
        Cli.refused(Cli.withStdin("{\"completion\": \"\\\\boxed{1}\"}\n", "grade", "--dataset", "gsm8k"),
                "stdin line 1: missing gold", "\"gold\"", "\"idx\"");
        Path f = tmp.resolve("nogold.jsonl");
        Files.writeString(f, "{\"question\": \"1+1?\", \"answer\": \"2\"}\n{\"question\": \"2+2?\"}\n");
        Cli.refused(Cli.withStdin("", "grade", "--dataset", f.toString()), "nogold.jsonl line 2: missing gold answer field 'answer'");
        Cli.refused(Cli.withStdin("{\"completion\": \"x\", \"idx\": 40}\n", "grade", "--dataset", "amc23"), "stdin line 1: \"idx\" 40 is out of range for amc23 (rows 0..39)");
    }

    /** A run folder of rast eval, written by hand: settings.json and samples.jsonl. */
    Path runFolder(String name, boolean... correct) throws IOException {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("settings.json"), "{\"model\": \"m\", \"dataset\": \"gsm8k\", \"n\": " + correct.length
                + ", \"temperature\": 1.0, \"top_p\": 0.95, \"max_tokens\": 100, \"format\": \"qwen-boxed\", \"seed\": 0}\n");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < correct.length; i++)
            sb.append("{\"dataset\": \"gsm8k\", \"idx\": 0, \"sample\": ").append(i).append(", \"completion\": \"c\", \"tokens\": 7, \"pred\": \"")
                    .append(correct[i] ? "18" : "3").append("\", \"correct\": ").append(correct[i]).append("}\n");
        Files.writeString(dir.resolve("samples.jsonl"), sb.toString());
        return dir;
    }

    @Test
    void reportWritesFilesComparesAndPlots() throws IOException {
        Path base = runFolder("base", true, false, false, false), ceil = runFolder("ceil", true, true, true, true),
                run = runFolder("rast", true, true, false, false);
        Path svg = tmp.resolve("plots/passk.svg");
        Cli.Result r = Cli.withStdin("", "report", run.toString(), "--base", base.toString(), "--ceiling", ceil.toString(), "--plot", svg.toString());
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.stdout().contains("| gsm8k | 50.0 | 25.0 | 100.0 |"), r.stdout());
        assertTrue(r.stdout().contains("| gsm8k | 0.333 |"), r.stdout()); // (50-25)/(100-25)
        assertTrue(Files.exists(run.resolve("report.md")));
        assertTrue(Files.exists(run.resolve("report.json")));
        assertTrue(Files.readString(svg).startsWith("<svg"));
    }

    @Test
    void unwritableReportFolder() throws IOException {
        Path run = runFolder("r1", true, false);
        Files.createDirectories(run.resolve("report.md")); // a folder where the report file must go
        Cli.refused(Cli.withStdin("", "report", run.toString()), "cannot write", "report.md");
    }

    @Test
    void unwritablePlotPath() throws IOException {
        Path run = runFolder("r2", true, false);
        Files.writeString(tmp.resolve("afile"), "x");
        Cli.refused(Cli.withStdin("", "report", run.toString(), "--plot", tmp.resolve("afile/passk.svg").toString()), "cannot write", "passk.svg");
    }

    @Test
    void reportBadInput() throws IOException {
        Cli.refused(Cli.withStdin("", "report", tmp.resolve("nothing").toString()), "run folder not found");
        Path empty = tmp.resolve("empty");
        Files.createDirectories(empty);
        Cli.refused(Cli.withStdin("", "report", empty.toString()), "settings.json: not found");
        Path run = runFolder("r3", true);
        Cli.refused(Cli.withStdin("", "report", run.toString(), "--base", run.toString()), "--base and --ceiling go together");
        Cli.refused(Cli.withStdin("", "report", run.toString(), "--plot", "x.png"), "SVG");
        Files.writeString(run.resolve("samples.jsonl"), "{\"dataset\": \"gsm8k\"\n{}\n");
        Cli.refused(Cli.withStdin("", "report", run.toString()), "samples.jsonl line 1, column 20: not valid JSON: Unexpected end-of-input");
    }
}
