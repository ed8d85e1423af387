package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.text.chat.PromptFormat;
import dev.rast.engine.json.Json;
import dev.rast.run.JsonLinesLog;
import dev.rast.run.ModelSet;
import dev.rast.run.Sample;
import dev.rast.run.SampleRunner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * `rast generate --input prompts.jsonl --output out.jsonl`: every prompt's n samples, through one continuous batch
 * (see {@link SampleRunner#runAll}); a prompt's samples are appended to the output together as soon as its last one
 * finishes, and flushed, so an interrupted run loses at most the prompts in progress. Prompts appear in the order they
 * finish (each line carries its "index"). A re-run reads the output
 * first and makes only the (prompt, sample) pairs not there yet; samples are seeded per prompt and per sample, so the
 * ones it does make are the ones the first run would have made.
 */
final class BatchFile {
    private final ModelSet set;
    private final SampleRunner runner;
    private final PromptFormat format;
    private final int n;
    private final long seed;
    private final int batch;

    BatchFile(ModelSet set, SampleRunner runner, PromptFormat format, int n, long seed, int batch) {
        this.set = set;
        this.runner = runner;
        this.format = format;
        this.n = n;
        this.seed = seed;
        this.batch = batch;
    }

    /** A prompt of the input: its 0-based number, the fields its output rows repeat ("id", when given), its ids. */
    record Row(int index, Map<String, Object> echo, int[] ids) {}

    void run(Path input, Path output) {
        List<Row> rows = read(input);
        if (rows.isEmpty()) throw new BadInputException(input + ": no prompts (every line is blank)");
        Set<Long> done = existing(output);
        // What each prompt still lacks: all n samples unless a run is resumed.
        List<Row> todoRows = new ArrayList<>();
        List<int[]> wantedList = new ArrayList<>();
        for (Row r : rows) {
            int[] w = missing(r.index(), done);
            if (w.length == 0) continue;
            todoRows.add(r);
            wantedList.add(w);
        }
        int todo = todoRows.size();
        if (todo == 0) {
            // Opening the log still repairs a last row written without its newline.
            try (JsonLinesLog w = JsonLinesLog.open(output, BatchFile::isOutputRow)) {
                System.err.printf("%s: all %d prompts already done, nothing to generate%n", output, rows.size());
            } catch (IOException e) {
                throw new BadInputException(output + ": cannot write: " + e.getMessage());
            }
            return;
        }
        if (todo < rows.size())
            System.err.printf("%s: %d of %d prompts already done, resuming%n", output, rows.size() - todo, rows.size());
        List<int[]> prompts = new ArrayList<>();
        long[] seeds = new long[todo];
        int[][] wanted = wantedList.toArray(new int[0][]);
        int[] left = new int[todo];
        for (int i = 0; i < todo; i++) {
            prompts.add(todoRows.get(i).ids());
            seeds[i] = GenerateCommand.promptSeed(seed, todoRows.get(i).index());
            left[i] = wanted[i].length;
        }
        Sample[][] samples = new Sample[todoRows.size()][n];
        long[] tokens = {0};
        int[] finished = {0};
        long t0 = System.nanoTime();
        try (JsonLinesLog w = JsonLinesLog.open(output, BatchFile::isOutputRow);
             ProgressBar bar = new ProgressBar("prompts", todo, "prompts", 1)) {
            runner.runAll(prompts, wanted, seeds, batch, null, () -> {
                tokens[0]++;
                double secs = (System.nanoTime() - t0) / 1e9;
                bar.extra(String.format("%.1f tok/s", tokens[0] / Math.max(secs, 1e-9)));
            }, (i, s, sample) -> {
                samples[i][s] = sample;
                if (--left[i] > 0) return;
                Row r = todoRows.get(i);
                try {
                    for (int k : wanted[i]) w.append(GenerateCommand.toJson(samples[i][k], r.index(), k, r.echo()));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                samples[i] = null;
                bar.update(++finished[0]);
            });
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new BadInputException(output + ": cannot write: " + e.getMessage());
        }
    }

    /** The sample numbers of prompt {@code index} not in the output yet. */
    private int[] missing(int index, Set<Long> done) {
        return java.util.stream.IntStream.range(0, n).filter(s -> !done.contains(key(index, s))).toArray();
    }

    private static long key(int index, int sample) { return ((long) index << 32) | sample; }

    private List<Row> read(Path input) {
        List<String> lines;
        try {
            lines = Files.readAllLines(input, StandardCharsets.UTF_8);
        } catch (java.nio.charset.MalformedInputException e) {
            throw new BadInputException(input + ": not valid UTF-8");
        } catch (IOException e) {
            throw new BadInputException(input + ": cannot read: " + e.getMessage());
        }
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) continue;
            String where = input + " line " + (i + 1);
            if (!(Json.parseLine(lines.get(i), input, i + 1) instanceof Map<?, ?> m))
                throw new BadInputException(where + ": expected a JSON object");
            int[] ids;
            if (m.get("prompt") instanceof String text) {
                try {
                    ids = Prompts.encode(set, format, text);
                } catch (BadInputException e) {
                    throw new BadInputException(where + ": " + e.getMessage());
                }
            } else if (m.get("prompt_tokens") instanceof List<?> l && !l.isEmpty()) {
                ids = new int[l.size()];
                for (int k = 0; k < ids.length; k++) {
                    if (!(l.get(k) instanceof Long id) || id < 0 || id > Integer.MAX_VALUE)
                        throw new BadInputException(where + ": prompt_tokens[" + k + "] is not a token id");
                    ids[k] = (int) (long) id;
                }
                Prompts.checkIds(where, ids, set);
            } else {
                throw new BadInputException(where + ": needs \"prompt\" (text) or \"prompt_tokens\" (a non-empty list of ids)");
            }
            if (outOfRange(m.get("id")))
                throw new BadInputException(where + ": \"id\" holds a number beyond a double's range, which its output rows could only "
                        + "carry as null: give it as a string or an integer");
            rows.add(new Row(rows.size(), m.containsKey("id") ? java.util.Collections.singletonMap("id", m.get("id")) : Map.of(), ids));
        }
        return rows;
    }

    /**
     * Whether a JSON value holds a number read as an infinite double (1e400): ids are copied through as the JSON
     * values they are, integers of any size exactly, and such a number is the one thing that cannot come back.
     */
    private static boolean outOfRange(Object v) {
        return switch (v) {
            case Double d -> !Double.isFinite(d);
            case Map<?, ?> map -> map.values().stream().anyMatch(BatchFile::outOfRange);
            case List<?> list -> list.stream().anyMatch(BatchFile::outOfRange);
            case null, default -> false;
        };
    }

    /**
     * (index, sample) pairs already in the output. A last line that is not JSON and has no newline is a row cut by an
     * interrupted write: it is not counted, and opening the output for appending ({@link JsonLinesLog}) removes it.
     * Any other line that is not an output row means the file is something else, and it is left alone.
     */
    private static Set<Long> existing(Path output) {
        Set<Long> done = new HashSet<>();
        if (!Files.exists(output)) return done;
        String[] lines;
        try {
            lines = JsonLinesLog.readLines(output);
        } catch (IOException e) {
            throw new BadInputException(output + ": cannot read: " + e.getMessage());
        }
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.isBlank()) continue;
            long key = rowKey(line);
            if (key >= 0) done.add(key);
            else if (key == NOT_JSON && i == lines.length - 1 && line.startsWith("{")) continue; // torn tail
            else throw new BadInputException(output + " line " + (i + 1) + ": not an output row of rast generate (remove the file or pick another --output)");
        }
        return done;
    }

    private static boolean isOutputRow(String line) { return rowKey(line) >= 0; }

    private static final long NOT_JSON = -2;

    /** The (index, sample) key of an output row; −1 for other JSON, {@link #NOT_JSON} for a line that is not JSON. */
    private static long rowKey(String line) {
        try {
            if (Json.parse(line, "output row") instanceof Map<?, ?> m && m.get("index") instanceof Long idx && m.get("sample") instanceof Long s
                    && idx >= 0 && idx <= Integer.MAX_VALUE && s >= 0 && s <= Integer.MAX_VALUE)
                return key((int) (long) idx, (int) (long) s);
            return -1;
        } catch (BadInputException e) {
            return NOT_JSON;
        }
    }
}
