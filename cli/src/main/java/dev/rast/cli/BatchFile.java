package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.engine.files.IoErrors;
import dev.rast.engine.files.Utf8Lines;
import dev.rast.text.chat.PromptFormat;
import dev.rast.engine.json.Json;
import dev.rast.run.JsonLinesLog;
import dev.rast.run.ModelSet;
import dev.rast.run.Sample;
import dev.rast.run.SampleRunner;
import dev.rast.run.SourceHash;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
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
 *
 * <p>Each row also carries what it was made from: {@code prompt_hash} (the prompt's ids and its id) and
 * {@code settings_hash} (models, format and sampling). A re-run refuses rows whose source is not this run's: made
 * with other settings, or for a line of the input that now holds another prompt (edited, or moved by lines inserted
 * or removed before it), or for a line that is gone. Such rows are refused rather than redone: a row belongs to its
 * prompt's line and seed, and redoing it would leave two sets of samples under one index. Prompts added at the end
 * are new lines, so they are simply made. Rows written before rast kept these hashes are taken by their line, as then.
 */
final class BatchFile {
    private final ModelSet set;
    private final SampleRunner runner;
    private final PromptFormat format;
    private final int n;
    private final long seed;
    private final int batch;
    private final String settingsHash;

    /** {@code settings}: what decides the samples besides the prompt (see {@link GenerateCommand}), hashed into every row. */
    BatchFile(ModelSet set, SampleRunner runner, PromptFormat format, int n, long seed, int batch, Map<String, Object> settings) {
        this.set = set;
        this.runner = runner;
        this.format = format;
        this.n = n;
        this.seed = seed;
        this.batch = batch;
        this.settingsHash = SourceHash.of(settings);
    }

    /**
     * A prompt of the input: its 0-based number, its line in the file, the fields its output rows repeat ("id", when
     * given), its ids, and the hash of the last two.
     */
    record Row(int index, int line, Map<String, Object> echo, int[] ids, String hash) {}

    void run(Path input, Path output) {
        List<Row> rows = read(input);
        if (rows.isEmpty()) throw new BadInputException(input + ": no prompts (every line is blank)");
        SampleRunner.checkPlan(rows.size(), n, rows.size() + " prompts");
        Set<Long> done = existing(output, input, rows);
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
        Sample[][] samples = new Sample[todoRows.size()][]; // made when a prompt's first sample ends, dropped after its last
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
                if (samples[i] == null) samples[i] = new Sample[n];
                samples[i][s] = sample;
                if (--left[i] > 0) return;
                Row r = todoRows.get(i);
                Map<String, Object> source = new LinkedHashMap<>();
                source.put(PROMPT_HASH, r.hash());
                source.put(SETTINGS_HASH, settingsHash);
                try {
                    for (int k : wanted[i]) w.append(GenerateCommand.toJson(samples[i][k], r.index(), k, r.echo(), source));
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
        List<String> lines = new ArrayList<>();
        try (java.io.InputStream in = Files.newInputStream(input)) {
            Utf8Lines.forEach(in, input.toString(), (number, text) -> lines.add(text)); // bytes that are not UTF-8 name their line
        } catch (IOException e) {
            throw new BadInputException(input + ": cannot read: " + IoErrors.reason(e));
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
            Map<String, Object> echo = m.containsKey("id") ? java.util.Collections.singletonMap("id", m.get("id")) : Map.of();
            Map<String, Object> source = new LinkedHashMap<>(echo);
            source.put("prompt_tokens", java.util.stream.IntStream.of(ids).boxed().toList());
            rows.add(new Row(rows.size(), i + 1, echo, ids, SourceHash.of(source)));
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
     * (index, sample) pairs already in the output, each checked against the prompt of the input it was made from
     * (see the class comment). A last line that is not JSON and has no newline is a row cut by an interrupted write:
     * it is not counted, and opening the output for appending ({@link JsonLinesLog}) removes it. Any other line that
     * is not an output row means the file is something else, and it is left alone.
     */
    private Set<Long> existing(Path output, Path input, List<Row> rows) {
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
            OutputRow r = outputRow(line);
            if (r == NOT_JSON && i == lines.length - 1 && line.startsWith("{")) continue; // torn tail
            String where = output + " line " + (i + 1);
            if (r == null || r == NOT_JSON)
                throw new BadInputException(where + ": not an output row of rast generate (remove the file or pick another --output)");
            checkSource(r, where, input, rows);
            done.add(key(r.index(), r.sample()));
        }
        return done;
    }

    /** Refuses a row made with other settings, or for a line of the input that now holds another prompt, or none. */
    private void checkSource(OutputRow r, String where, Path input, List<Row> rows) {
        if (r.settingsHash() != null && !r.settingsHash().equals(settingsHash))
            throw new BadInputException(where + ": made with other settings than this run's (models, --format, sampling, --max-tokens, "
                    + "--stop, --ignore-eos, --dtype or --kv-cache-dtype): resume with the settings it was made with, or use another --output");
        if (r.promptHash() == null) return; // written before rows kept their source: taken by its line, as then
        if (r.index() >= rows.size())
            throw new BadInputException(where + ": prompt " + r.index() + " is not in " + input + " (it has " + rows.size()
                    + " prompts now): prompts were removed since; use another --output, or remove that prompt's rows");
        Row now = rows.get(r.index());
        if (!now.hash().equals(r.promptHash()))
            throw new BadInputException(where + ": prompt " + r.index() + " (" + input + " line " + now.line() + ") changed since its "
                    + "samples were made (its prompt or id edited, or lines inserted or removed before it); a row belongs to its "
                    + "prompt's line and seed: use another --output, or remove that prompt's rows");
    }

    /** Field names of what a row was made from (see the class comment). */
    static final String PROMPT_HASH = "prompt_hash", SETTINGS_HASH = "settings_hash";

    /** A row of the output as read back; the hashes are null in rows written before rast kept them. */
    private record OutputRow(int index, int sample, String promptHash, String settingsHash) {}

    /** What {@link #outputRow} returns for a line that is not JSON. */
    private static final OutputRow NOT_JSON = new OutputRow(-1, -1, null, null);

    private static boolean isOutputRow(String line) {
        OutputRow r = outputRow(line);
        return r != null && r != NOT_JSON;
    }

    /** The output row on a line; null for other JSON, {@link #NOT_JSON} for a line that is not JSON. */
    private static OutputRow outputRow(String line) {
        Object v;
        try {
            v = Json.parse(line, "output row");
        } catch (BadInputException e) {
            return NOT_JSON;
        }
        if (v instanceof Map<?, ?> m && m.get("index") instanceof Long idx && m.get("sample") instanceof Long s
                && idx >= 0 && idx <= Integer.MAX_VALUE && s >= 0 && s <= Integer.MAX_VALUE
                && (m.get(PROMPT_HASH) instanceof String) == m.containsKey(PROMPT_HASH)
                && (m.get(SETTINGS_HASH) instanceof String) == m.containsKey(SETTINGS_HASH))
            return new OutputRow((int) (long) idx, (int) (long) s, (String) m.get(PROMPT_HASH), (String) m.get(SETTINGS_HASH));
        return null;
    }
}
