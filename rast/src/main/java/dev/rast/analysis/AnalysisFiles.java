package dev.rast.analysis;

import dev.rast.engine.BadInputException;
import dev.rast.engine.files.AtomicFiles;
import dev.rast.engine.files.IoErrors;
import dev.rast.engine.json.Json;
import java.io.IOException;
import java.nio.file.Path;

/** Writes an analysis's files into its --out folder, and its JSON for --json. */
public final class AnalysisFiles {
    private AnalysisFiles() {}

    /** One line of JSON, as every --json output is written (non-finite numbers become null). */
    public static String json(Object value) { return Json.line(value); }

    /** A JSON file people read: one entry per line. */
    public static String prettyJson(Object value) { return Json.pretty(value); }

    /** {@code out/KIND.json} and {@code out/KIND.md}; returns the files written. */
    public static java.util.List<Path> write(Analysis a, Path out) {
        Path json = out.resolve(a.kind() + ".json"), md = out.resolve(a.kind() + ".md");
        write(json, prettyJson(a.toJson()));
        write(md, a.markdown());
        return java.util.List.of(json, md);
    }

    /**
     * Replaces a whole file (creating its folder) through a temporary file and a rename, so that a failed write
     * leaves the old file or none, never a part; failures are one line naming the file.
     */
    public static void write(Path file, String content) {
        try {
            AtomicFiles.write(file, content, AtomicFiles.Durability.RENAMED);
        } catch (IOException e) {
            throw new BadInputException("cannot write " + file + ": " + IoErrors.reason(e));
        }
    }
}
