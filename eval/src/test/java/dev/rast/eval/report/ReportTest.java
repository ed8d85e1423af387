package dev.rast.eval.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.BadInputException;
import dev.rast.engine.json.Json;
import dev.rast.eval.report.Report.DatasetStats;
import dev.rast.eval.report.Report.RunReport;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

/** Run folders and their reports, on small runs whose numbers are worked out by hand in each test. */
class ReportTest {
    @TempDir Path tmp;

    static RunSettings settings(String dataset, int n) {
        return new RunSettings("models/m", List.of(new RunSettings.Expert("models/s-rl", "models/s")), List.of(1.0),
                dataset, n, 1.0, 0.95, 16384, "qwen-boxed", 0L, null, null, null, null, null, null, null, null);
    }

    /** Writes a run: for each problem the list of (pred, correct, tokens) samples. */
    static Path run(Path dir, String dataset, int n, Object[][][] problems) {
        RunDir rd = new RunDir(dir);
        rd.writeSettings(settings(dataset, n));
        try (RunDir.SampleLog log = rd.openLog()) {
            for (int p = 0; p < problems.length; p++)
                for (int s = 0; s < problems[p].length; s++) {
                    Object[] x = problems[p][s];
                    log.append(new SampleRow(dataset, p, s, "text " + p + "/" + s, (Integer) x[2], (String) x[0], (Boolean) x[1]));
                }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return dir;
    }

    @Test
    void numbersOfASmallRunByHand() throws IOException {
        // n = 2. Problem 0: "1" right, "2" wrong. Problem 1: "5" right twice. Problem 2: one sample only (unfinished).
        Path dir = run(tmp.resolve("run-a"), "math500", 2, new Object[][][] {
                {{"1", true, 10}, {"2", false, 20}}, {{"5", true, 30}, {"5", true, 40}}, {{"9", true, 1000}}});
        RunReport r = Report.write(dir);
        DatasetStats d = r.dataset("math500");
        assertEquals(2, d.problems());
        assertEquals(1, d.incomplete());
        assertEquals(75.0, d.pass1Avg(), 1e-9);              // 3 right of 4
        assertEquals(Map.of(1, 75.0, 2, 100.0), d.passAtK()); // pass@2: each problem has a right sample
        assertEquals(100.0, d.majAtK().get(2), 1e-9);         // problem 0 ties "1"/"2": the first, "1", is right
        assertEquals(25.0, d.meanTokens(), 1e-9);             // (10+20+30+40)/4; the unfinished problem is left out
        assertEquals(0, d.noPrediction());

        Map<String, Object> json = Json.parseObject(Files.readAllBytes(dir.resolve("report.json")), "report.json");
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) ((Map<String, Object>) json.get("datasets")).get("math500");
        assertEquals(75.0, (Double) m.get("pass@1_avg"), 1e-9);
        assertEquals(100.0, (Double) ((Map<?, ?>) m.get("pass@k")).get("2"), 1e-9);
        assertEquals(2L, ((Map<?, ?>) json.get("settings")).get("n"));
        String md = Files.readString(dir.resolve("report.md"));
        assertTrue(md.contains("| math500 | 2 | 75.0 | 75.0 | 100.0 |"), md);
        assertTrue(md.contains("1 problem(s) with fewer than n samples are left out"), md);
    }

    @Test
    void noPredictionCountsAndVotesAsNone() {
        Path dir = run(tmp.resolve("run-b"), "gsm8k", 3, new Object[][][] {{{null, false, 5}, {null, false, 5}, {"4", true, 5}}});
        DatasetStats d = Report.compute(dir).dataset("gsm8k");
        assertEquals(2, d.noPrediction());
        assertEquals(0.0, d.majAtK().get(3), 1e-9); // two "None" votes beat one right answer
        assertEquals(100 * (1 - 1.0 / 3), d.passAtK().get(2), 1e-9); // 1 - C(2,2)/C(3,2)
        assertEquals(100.0, d.passAtK().get(3), 1e-9);
        // "" is what the grader gives when it extracts nothing from a non-empty completion: also no answer
        Path empty = run(tmp.resolve("run-c"), "gsm8k", 3, new Object[][][] {{{"", false, 5}, {null, false, 5}, {"4", true, 5}}});
        assertEquals(2, Report.compute(empty).dataset("gsm8k").noPrediction());
    }

    @Test
    void comparisonAndRecoveryRate() {
        // pass@1 avg: base 25 %, ceiling 75 %, rast 50 % -> recovery (50-25)/(75-25) = 0.5
        Object[][][] quarter = {{{"1", true, 1}, {"x", false, 1}, {"x", false, 1}, {"x", false, 1}}};
        Object[][][] half = {{{"1", true, 1}, {"1", true, 1}, {"x", false, 1}, {"x", false, 1}}};
        Object[][][] threeQ = {{{"1", true, 1}, {"1", true, 1}, {"1", true, 1}, {"x", false, 1}}};
        RunReport base = Report.write(run(tmp.resolve("base"), "aime24", 4, quarter));
        RunReport ceil = Report.write(run(tmp.resolve("ceiling"), "aime24", 4, threeQ));
        RunReport rast = Report.write(run(tmp.resolve("rast"), "aime24", 4, half));
        String table = ReportFormat.comparison(List.of(rast), base, ceil);
        assertTrue(table.contains("| aime24 | 50.0 | 25.0 | 75.0 |"), table);
        assertTrue(table.contains("| aime24 | 0.500 |"), table);
        assertTrue(table.contains("base (base)"), table);
        assertFalse(table.contains("Note:"), table);
        // a base over fewer problems (a --limit run) is flagged, not silently compared
        RunReport small = Report.write(run(tmp.resolve("small"), "aime24", 4, new Object[][][] {quarter[0], quarter[0]}));
        String flagged = ReportFormat.comparison(List.of(rast), small, ceil);
        assertTrue(flagged.contains("Note: on aime24 the runs cover different numbers of complete problems (rast 1, small 2, ceiling 1)"), flagged);
    }

    @Test
    void svgHasOnePanelPerDatasetAndOneLinePerRun() throws Exception {
        Object[][][] one = {{{"1", true, 1}, {"x", false, 1}}};
        RunReport a = Report.compute(run(tmp.resolve("a"), "math500", 2, one));
        RunReport b = Report.compute(run(tmp.resolve("b"), "math500", 2, one));
        Path twoSets = tmp.resolve("c");
        run(twoSets, "math500", 2, one);
        try (RunDir.SampleLog log = new RunDir(twoSets).openLog()) {
            log.append(new SampleRow("gsm8k", 0, 0, "t", 1, "1", true));
            log.append(new SampleRow("gsm8k", 0, 1, "t", 1, "1", false));
        }
        RunReport c = Report.compute(twoSets);
        String svg = SvgPlot.render(List.of(a, b, c));
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        assertEquals("svg", doc.getDocumentElement().getTagName());
        assertEquals(4, doc.getElementsByTagName("polyline").getLength()); // math500: a, b, c; gsm8k: c
        assertTrue(svg.contains(">math500</text>") && svg.contains(">gsm8k</text>"));
    }

    @Test
    void tornLastLineIsIgnoredAndRepairedMalformedMiddleLineIsAnError() throws IOException {
        Path dir = run(tmp.resolve("torn"), "amc23", 1, new Object[][][] {{{"1", true, 3}}, {{"2", true, 3}}});
        Path samples = dir.resolve(RunDir.SAMPLES);
        Files.writeString(samples, "{\"dataset\": \"amc23\", \"idx\": 2, \"sam", java.nio.file.StandardOpenOption.APPEND);
        RunDir.Samples s = new RunDir(dir).readSamples();
        assertEquals(2, s.rows().size());
        assertTrue(s.tornTail());
        try (RunDir.SampleLog log = new RunDir(dir).openLog()) {
            log.append(new SampleRow("amc23", 2, 0, "t", 3, "3", false));
        }
        s = new RunDir(dir).readSamples();
        assertEquals(3, s.rows().size());
        assertFalse(s.tornTail());
        assertEquals(3, Files.readAllLines(samples).size());

        Files.writeString(samples, "{\"dataset\": \"amc23\"}\n" + Files.readString(samples));
        BadInputException e = assertThrows(BadInputException.class, () -> new RunDir(dir).readSamples());
        assertTrue(e.getMessage().contains("samples.jsonl line 1: missing field 'idx'"), e.getMessage());
    }

    @Test
    void aLineTornInsideAMultiByteCharacterIsATornLine() throws IOException {
        Path dir = run(tmp.resolve("utf8"), "amc23", 1, new Object[][][] {{{"1", true, 3}}});
        Path samples = dir.resolve(RunDir.SAMPLES);
        byte[] torn = "{\"dataset\": \"amc23\", \"completion\": \"caf".getBytes(StandardCharsets.UTF_8);
        Files.write(samples, torn, java.nio.file.StandardOpenOption.APPEND);
        Files.write(samples, new byte[] {(byte) 0xC3}, java.nio.file.StandardOpenOption.APPEND); // half of "é"
        RunDir.Samples s = new RunDir(dir).readSamples();
        assertEquals(1, s.rows().size());
        assertTrue(s.tornTail());
        try (RunDir.SampleLog log = new RunDir(dir).openLog()) {
            log.append(new SampleRow("amc23", 2, 0, "t", 3, "3", false));
        }
        assertEquals(2, new RunDir(dir).readSamples().rows().size());
        assertFalse(new RunDir(dir).readSamples().tornTail());
    }

    @Test
    void anIntegerTooLargeForItsFieldNamesTheFieldAndLine() throws IOException {
        Path dir = run(tmp.resolve("big"), "amc23", 1, new Object[][][] {{{"1", true, 3}}});
        Path samples = dir.resolve(RunDir.SAMPLES);
        Files.writeString(samples, "{\"dataset\": \"amc23\", \"idx\": 0, \"sample\": 0, \"completion\": \"\", \"tokens\": 3000000000, "
                + "\"pred\": null, \"correct\": false}\n" + Files.readString(samples));
        BadInputException e = assertThrows(BadInputException.class, () -> new RunDir(dir).readSamples());
        assertTrue(e.getMessage().contains("samples.jsonl line 1: field 'tokens' is out of range (3000000000)"), e.getMessage());
    }

    @Test
    void aLineWhoseNewlineWasLostIsKept() throws IOException {
        Path dir = run(tmp.resolve("nl"), "amc23", 1, new Object[][][] {{{"1", true, 3}}});
        Path samples = dir.resolve(RunDir.SAMPLES);
        String text = Files.readString(samples);
        Files.writeString(samples, text.substring(0, text.length() - 1)); // drop the final newline
        try (RunDir.SampleLog log = new RunDir(dir).openLog()) {
            log.append(new SampleRow("amc23", 1, 0, "t", 3, "3", true));
        }
        assertEquals(2, new RunDir(dir).readSamples().rows().size());
    }

    @Test
    void settingsRoundTripAndErrors() throws IOException {
        RunDir rd = new RunDir(tmp.resolve("s"));
        rd.writeSettings(settings("math500", 32));
        assertEquals(settings("math500", 32), rd.readSettings());
        Files.writeString(rd.file(RunDir.SETTINGS), "{\"dataset\": \"math500\", \"format\": \"abel\"}");
        BadInputException e = assertThrows(BadInputException.class, rd::readSettings);
        assertTrue(e.getMessage().contains("missing field 'n'"), e.getMessage());
        BadInputException missing = assertThrows(BadInputException.class, () -> new RunDir(tmp.resolve("nope")).readSettings());
        assertTrue(missing.getMessage().contains("run folder not found"), missing.getMessage());
    }

    @Test
    void sampleOutsideNIsAnError() {
        Path dir = run(tmp.resolve("big"), "amc23", 1, new Object[][][] {{{"1", true, 3}}});
        try (RunDir.SampleLog log = new RunDir(dir).openLog()) {
            log.append(new SampleRow("amc23", 0, 5, "t", 3, "3", true));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        BadInputException e = assertThrows(BadInputException.class, () -> Report.compute(dir));
        assertTrue(e.getMessage().contains("samples.jsonl line 2: sample 5 of amc23 idx 0 is outside 0..0"), e.getMessage());
    }
}
