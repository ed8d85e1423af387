package dev.rast.eval.report;

import dev.rast.engine.BadInputException;
import dev.rast.engine.files.AtomicFiles;
import dev.rast.engine.files.IoErrors;
import dev.rast.engine.json.Json;
import dev.rast.eval.data.JsonLines;
import dev.rast.run.JsonLinesLog;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A run directory: what {@code rast eval} writes and {@code rast report} reads.
 *
 * <pre>
 * RUN_DIR/
 *   settings.json   the run's {@link RunSettings}, written when the run starts
 *   samples.jsonl   one {@link SampleRow} per line: {"dataset","idx","sample","completion","tokens","pred","correct"},
 *                   appended as each sample finishes (any order), one write per line so a crash or Ctrl-C
 *                   loses at most the line being written
 *   report.md       written by {@link Report#write}: Markdown tables
 *   report.json     the same numbers for programs
 * </pre>
 *
 * Resuming a run means reading {@link #readSamples()} and generating only the (dataset, idx, sample) triples that
 * are missing; {@link #openLog()} repairs a line torn by a crash before appending.
 */
public final class RunDir {
    public static final String SETTINGS = "settings.json";
    public static final String SAMPLES = "samples.jsonl";
    public static final String REPORT_MD = "report.md";
    public static final String REPORT_JSON = "report.json";

    private final Path dir;

    public RunDir(Path dir) { this.dir = dir; }

    public Path dir() { return dir; }

    public Path file(String name) { return dir.resolve(name); }

    /** The run's settings; a missing folder or file, or bad JSON, is a BadInputException naming it. */
    public RunSettings readSettings() {
        if (!Files.isDirectory(dir)) throw new BadInputException("run folder not found: " + dir);
        Path f = file(SETTINGS);
        String text;
        try {
            text = Files.readString(f, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new BadInputException(f + ": not found (is " + dir + " a run folder of rast eval?)");
        } catch (IOException e) {
            throw new BadInputException("cannot read " + f + ": " + reason(e));
        }
        return RunSettings.fromJson(Json.parseObject(text, f), f.toString());
    }

    /**
     * Creates the folder if needed and writes settings.json, whole or not at all, and to the disk before the run
     * starts: every later run of the folder is checked against it.
     */
    public void writeSettings(RunSettings s) {
        write(file(SETTINGS), Json.pretty(s.toJson()), AtomicFiles.Durability.SYNCED);
    }

    /**
     * The samples read back, the line of samples.jsonl each came from (for errors found later), and whether the last
     * line was torn (a crash mid-write; that line is ignored).
     */
    public record Samples(List<SampleRow> rows, List<Integer> lines, boolean tornTail) {}

    /** All complete sample lines; an absent samples.jsonl is an empty run. */
    public Samples readSamples() {
        Path f = file(SAMPLES);
        if (!Files.exists(f)) return new Samples(List.of(), List.of(), false);
        String[] lines;
        try {
            lines = JsonLinesLog.readLines(f);
        } catch (IOException e) {
            throw new BadInputException("cannot read " + f + ": " + reason(e));
        }
        List<SampleRow> rows = new ArrayList<>();
        List<Integer> numbers = new ArrayList<>();
        boolean torn = false;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.isBlank()) continue;
            boolean last = i == lines.length - 1; // text after the final newline: the write may have been cut
            try {
                rows.add(SampleRow.fromJson(JsonLines.parse(line, f.toString(), i + 1), f + " line " + (i + 1)));
                numbers.add(i + 1);
            } catch (BadInputException e) {
                if (!last) throw e;
                torn = true;
            }
        }
        return new Samples(rows, numbers, torn);
    }

    /** Opens samples.jsonl for appending, creating the folder and file as needed. */
    public SampleLog openLog() {
        try {
            Files.createDirectories(dir);
            return new SampleLog(file(SAMPLES));
        } catch (IOException e) {
            throw new BadInputException("cannot write " + file(SAMPLES) + ": " + reason(e));
        }
    }

    /** Appends sample lines, one write each; a torn last line from an earlier crash is repaired first. */
    public static final class SampleLog implements AutoCloseable {
        private final JsonLinesLog log;

        SampleLog(Path f) throws IOException {
            log = JsonLinesLog.open(f, SampleLog::isCompleteRow);
        }

        private static boolean isCompleteRow(String line) {
            try {
                SampleRow.fromJson(JsonLines.parse(line, SAMPLES, 0), SAMPLES);
                return true;
            } catch (BadInputException e) {
                return false;
            }
        }

        public void append(SampleRow row) {
            try {
                log.append(Json.line(row.toJson()));
            } catch (IOException e) {
                throw new BadInputException("cannot append to samples.jsonl: " + reason(e));
            }
        }

        @Override public void close() throws IOException { log.close(); }
    }

    /**
     * Replaces a whole file (creating the folder) through a temporary file and a rename, so that a failed write (a
     * full disk) leaves the old file or none, never a part; a BadInputException names the file and the reason.
     */
    static void write(Path f, String content, AtomicFiles.Durability durability) {
        try {
            AtomicFiles.write(f, content, durability);
        } catch (IOException e) {
            throw new BadInputException("cannot write " + f + ": " + reason(e));
        }
    }

    /** An I/O failure in words, without the exception class names. */
    static String reason(IOException e) { return IoErrors.reason(e); }
}
