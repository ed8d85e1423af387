package dev.rast.eval.data;

import dev.rast.engine.BadInputException;
import dev.rast.eval.data.Dataset.GoldSource;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * The six benchmark test sets shipped inside the jar (gzip-compressed copies of SimpleRL's files; see
 * {@code datasets/SOURCES.md} beside them), by name, and any JSONL file given by path with its question and
 * answer fields.
 */
public final class Datasets {
    private Datasets() {}

    private record Builtin(GoldSource gold, String answerField) {}

    private static final Map<String, Builtin> BUILTIN = new LinkedHashMap<>();
    static {
        BUILTIN.put("math500", new Builtin(GoldSource.SOLUTION_BOXED, null));
        BUILTIN.put("gsm8k", new Builtin(GoldSource.AFTER_HASHES, null));
        BUILTIN.put("aime24", new Builtin(GoldSource.FIELD, "answer"));
        BUILTIN.put("amc23", new Builtin(GoldSource.FIELD, "answer"));
        BUILTIN.put("minerva_math", new Builtin(GoldSource.SOLUTION_BOXED_KEEP_UNITS, null));
        BUILTIN.put("olympiadbench", new Builtin(GoldSource.FIRST_FINAL_ANSWER, null));
    }

    /** The built-in data set names, in the paper's order. */
    public static List<String> names() { return List.copyOf(BUILTIN.keySet()); }

    public static boolean isBuiltin(String name) { return BUILTIN.containsKey(name); }

    /** A built-in data set by name. */
    public static Dataset load(String name) { return load(name, null, null); }

    /**
     * A built-in data set by name, or a JSONL file by path. For a file, {@code answerField} (default "answer")
     * holds the gold answer, normalized as SimpleRL normalizes aime24's, and {@code questionField} the question
     * (default: the first of question, problem, Question, input).
     */
    public static Dataset load(String nameOrPath, String questionField, String answerField) {
        Builtin b = BUILTIN.get(nameOrPath);
        if (b != null) {
            if (questionField != null || answerField != null)
                throw new BadInputException("--question-field and --answer-field are for JSONL files, not the built-in data set " + nameOrPath);
            String resource = "/dev/rast/eval/datasets/" + nameOrPath + ".jsonl.gz";
            try (InputStream raw = Datasets.class.getResourceAsStream(resource)) {
                if (raw == null) throw new IllegalStateException("missing resource " + resource);
                try (InputStream in = new GZIPInputStream(raw)) {
                    return new Dataset(nameOrPath, b.gold(), null, b.answerField(), JsonLines.readAll(in, nameOrPath + ".jsonl"), nameOrPath + ".jsonl");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        Path file = Path.of(nameOrPath);
        if (!nameOrPath.endsWith(".jsonl") && !Files.isRegularFile(file))
            throw new BadInputException("unknown data set '" + nameOrPath + "'; known: " + String.join(", ", names())
                    + ", or a path to a .jsonl file");
        if (!Files.isRegularFile(file)) throw new BadInputException("data set file not found: " + file);
        try (InputStream in = Files.newInputStream(file)) {
            return new Dataset(file.toString(), GoldSource.FIELD, questionField, answerField == null ? "answer" : answerField,
                    JsonLines.readAll(in, file.toString()), file.toString());
        } catch (IOException e) {
            throw new BadInputException("cannot read data set " + file + ": " + e.getMessage());
        }
    }
}
