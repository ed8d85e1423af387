package dev.rast.eval.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.BadInputException;
import dev.rast.text.chat.PromptFormat;
import dev.rast.eval.grader.AnswerNormalizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The six shipped test sets: row counts and gold answers of every row, checked against facts stated in
 * SOURCES.md and against a second, independent route to the same gold (e.g. math500's {@code answer} field,
 * which SimpleRL ignores but which equals the solution's last box in all 500 rows).
 */
class DatasetsTest {
    @TempDir Path tmp;

    @Test
    void rowCountsAsInSources() {
        Map<String, Integer> rows = Map.of("math500", 500, "gsm8k", 1319, "aime24", 30, "amc23", 40, "minerva_math", 272, "olympiadbench", 675);
        for (String n : Datasets.names()) assertEquals(rows.get(n), Datasets.load(n).size(), n);
        assertEquals(List.of("math500", "gsm8k", "aime24", "amc23", "minerva_math", "olympiadbench"), Datasets.names());
    }

    @Test
    void math500GoldFromTheSolutionEqualsTheNormalizedAnswerFieldInAllRows() {
        Dataset ds = Datasets.load("math500");
        for (Problem p : ds.problems()) {
            String answer = (String) p.row().get("answer");
            assertEquals(ds.goldFromAnswer(answer), p.gold(), "row " + p.idx() + " answer " + answer);
            assertEquals(p.row().get("problem"), p.question(), "question field");
        }
        // the one row whose gold normalizes to the empty string (\text{east}: unit word, then \text{} removed)
        assertEquals("", ds.problem(97).gold());
        assertEquals("\\frac{14}{3}", ds.problem(2).gold());
        assertEquals("(3,\\frac{\\pi}{2})", ds.problem(0).gold());
    }

    /** The number after "####", read with a plain regex, commas dropped: what every gsm8k gold must be. */
    @Test
    void gsm8kGoldIsTheNumberAfterTheHashesInAllRows() {
        Dataset ds = Datasets.load("gsm8k");
        Pattern hashes = Pattern.compile("####\\s*(-?[0-9.,]+)\\s*$");
        int withCommas = 0;
        for (Problem p : ds.problems()) {
            String answer = (String) p.row().get("answer");
            Matcher m = hashes.matcher(answer);
            assertTrue(m.find(), "row " + p.idx());
            if (m.group(1).contains(",")) withCommas++;
            assertEquals(m.group(1), p.gold(), "row " + p.idx());
            assertEquals(((Long) p.row().get("idx")).intValue(), p.idx(), "idx field equals the row number");
            assertEquals(p.row().get("question"), p.question());
        }
        assertEquals(14, withCommas, "SOURCES.md: 14 golds have thousands separators");
    }

    @Test
    void aime24GoldIsTheIntegerWithoutLeadingZerosInAllRows() {
        Dataset ds = Datasets.load("aime24");
        for (Problem p : ds.problems())
            assertEquals(Integer.toString(Integer.parseInt((String) p.row().get("answer"))), p.gold(), "row " + p.idx());
        assertEquals("25", ds.problem(7).gold()); // "025" in the file
    }

    @Test
    void amc23GoldIsTheIntegerValueOfTheFloatInAllRows() {
        Dataset ds = Datasets.load("amc23");
        for (Problem p : ds.problems()) {
            double v = (Double) p.row().get("answer");
            assertEquals(Long.toString((long) v), p.gold(), "row " + p.idx());
        }
        assertEquals("27", ds.problem(0).gold());
        assertEquals("-1", ds.problem(15).gold());
    }

    @Test
    void minervaGoldIsTheSingleBoxWithUnitsKeptInAllRows() {
        Dataset ds = Datasets.load("minerva_math");
        assertTrue(ds.skipUnit());
        for (Problem p : ds.problems()) {
            String solution = (String) p.row().get("solution");
            assertEquals(solution.indexOf("boxed"), solution.lastIndexOf("boxed"), "exactly one box, row " + p.idx());
            assertFalse(p.gold().contains(" "), "spaces removed, row " + p.idx());
            assertEquals(((Long) p.row().get("idx")).intValue(), p.idx());
        }
        assertEquals("1.6", ds.problem(0).gold());
        assertEquals("4.5e33", ds.problem(1).gold());
        assertEquals("np.arcsin(10/13)", ds.problem(5).gold());
    }

    @Test
    void olympiadbenchGoldIsTheFirstFinalAnswerInAllRows() {
        Dataset ds = Datasets.load("olympiadbench");
        int integers = 0;
        for (Problem p : ds.problems()) {
            String fa = (String) ((List<?>) p.row().get("final_answer")).get(0);
            String bare = fa.replaceAll("^\\$+|\\$+$", "");
            if (bare.matches("[1-9][0-9]*")) { assertEquals(bare, p.gold(), "row " + p.idx()); integers++; }
            assertEquals(AnswerNormalizer.strip(AnswerNormalizer.strip(bare, false), false), p.gold(), "row " + p.idx());
        }
        assertTrue(integers > 300, "most answers are plain integers: " + integers);
        assertEquals("69,84", ds.problem(13).gold());
        assertEquals("(1,8,19),(2,7,13),(4,5,7)", ds.problem(5).gold());
    }

    /**
     * The whole pipeline on the data sets' own reference solutions, given as completions: each must be graded
     * correct, except two Minerva rows where SimpleRL's rules themselves get in the way (explained below).
     */
    @Test
    void referenceSolutionsAreGradedCorrect() {
        for (String name : List.of("math500", "gsm8k", "minerva_math")) {
            Dataset ds = Datasets.load(name);
            List<Integer> wrong = new java.util.ArrayList<>();
            for (Problem p : ds.problems()) {
                String solution = (String) p.row().get(name.equals("gsm8k") ? "answer" : "solution");
                if (!ds.grade(solution, p, PromptFormat.QWEN_BOXED).correct()) wrong.add(p.idx());
            }
            // minerva 45: the solution says "cluser", which contains the qwen-boxed stop word "user", so the text is
            // cut before its box. minerva 139: \boxed{\lambda_{\text {red}} / \sqrt{2}}; the prediction's second
            // normalization pass sees "\text{red}}/\sqrt{2}" as trailing \text{...} and cuts it to "\lambda_{".
            assertEquals(name.equals("minerva_math") ? List.of(45, 139) : List.of(), wrong, name);
        }
    }

    @Test
    void noGoldAsksForTrueFalseSuffixes() {
        for (String n : Datasets.names())
            for (Problem p : Datasets.load(n).problems())
                assertFalse(p.question().endsWith("(True or False)") || p.question().endsWith("(Yes or No)"), n + " " + p.idx());
    }

    @Test
    void promptsAsSimpleRLBuildsThem() {
        String q = Datasets.load("gsm8k").problem(0).question();
        assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n" + q
                + "\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n<|im_start|>assistant\n",
                PromptFormat.QWEN_BOXED.apply(q));
        assertEquals("Question:\n" + q + "\nAnswer:\nLet's think step by step.\n", PromptFormat.ABEL.apply(q));
    }

    @Test
    void customJsonlWithFields() throws IOException {
        Path f = tmp.resolve("mine.jsonl");
        Files.writeString(f, "{\"q\": \"What is 1+1?\", \"a\": 2}\n\n{\"q\": \"Is 2 prime?\", \"a\": \"Yes\"}\n");
        Dataset ds = Datasets.load(f.toString(), "q", "a");
        assertEquals(2, ds.size());
        assertEquals("2", ds.problem(0).gold());
        assertEquals("Is 2 prime? (Yes or No)", ds.problem(1).question());
    }

    @Test
    void badInputNamesFileAndLine() throws IOException {
        BadInputException e = assertThrows(BadInputException.class, () -> Datasets.load("math5000"));
        assertTrue(e.getMessage().contains("math500, gsm8k, aime24, amc23, minerva_math, olympiadbench"), e.getMessage());
        Path f = tmp.resolve("bad.jsonl");
        Files.writeString(f, "{\"question\": \"a\", \"answer\": \"1\"}\n{\"question\": \"b\", \"answer\": \"2\"}\n{\"question\": \"c\", answer}\n");
        e = assertThrows(BadInputException.class, () -> Datasets.load(f.toString(), null, null));
        assertTrue(e.getMessage().endsWith("bad.jsonl line 3, column 19: not valid JSON: Unexpected character ('a' (code 97)): "
                + "was expecting double-quote to start field name"), e.getMessage());
        Files.writeString(f, "{\"question\": \"a\", \"answer\": \"1\"}\n{\"question\": \"b\"}\n");
        e = assertThrows(BadInputException.class, () -> Datasets.load(f.toString(), null, null));
        assertTrue(e.getMessage().contains("bad.jsonl line 2: missing gold answer field 'answer'"), e.getMessage());
        // blank lines are skipped, but errors still name the line of the file, not the row's index
        Files.writeString(f, "\n{\"question\": \"a\", \"answer\": \"1\"}\n\n{\"question\": \"b\"}\n");
        e = assertThrows(BadInputException.class, () -> Datasets.load(f.toString(), null, null));
        assertTrue(e.getMessage().contains("bad.jsonl line 4: missing gold answer field 'answer'"), e.getMessage());
        assertThrows(BadInputException.class, () -> Datasets.load("aime24", "q", null));
        assertThrows(BadInputException.class, () -> Datasets.load("aime24").problem(30));
    }
}
