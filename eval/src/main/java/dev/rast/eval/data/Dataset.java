package dev.rast.eval.data;

import dev.rast.engine.BadInputException;
import dev.rast.text.chat.PromptFormat;
import dev.rast.text.Py;
import dev.rast.eval.grader.AnswerExtractor;
import dev.rast.eval.grader.AnswerNormalizer;
import dev.rast.eval.grader.Grader;
import dev.rast.eval.grader.PyNumbers;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A test set and its grading rules: where the gold answer comes from and how SimpleRL normalizes it
 * (SOURCES.md, GRADER_NOTES §0.4), which field holds the question, and whether units are kept (Minerva).
 */
public final class Dataset {
    /** Where a row's gold answer is found. */
    public enum GoldSource {
        /** The last {@code \boxed{}} of {@code solution}, units removed (math500). */
        SOLUTION_BOXED,
        /** The last {@code \boxed{}} of {@code solution}, units kept, normalized once (minerva_math). */
        SOLUTION_BOXED_KEEP_UNITS,
        /** The text after {@code ####} in {@code answer} (gsm8k). */
        AFTER_HASHES,
        /** The first element of {@code final_answer}, surrounding {@code $} removed (olympiadbench). */
        FIRST_FINAL_ANSWER,
        /** A field as Python's str() prints it (aime24, amc23, any JSONL with --answer-field). */
        FIELD
    }

    /** SimpleRL reads the question from the first of these fields present. */
    static final List<String> QUESTION_FIELDS = List.of("question", "problem", "Question", "input");

    private final String name;
    private final GoldSource goldSource;
    private final String questionField;
    private final String answerField;
    private final List<Problem> problems;

    Dataset(String name, GoldSource goldSource, String questionField, String answerField,
            List<JsonLines.Line> rows, String source) {
        this.name = name;
        this.goldSource = goldSource;
        this.questionField = questionField;
        this.answerField = answerField;
        Problem[] ps = new Problem[rows.size()];
        for (int i = 0; i < ps.length; i++) ps[i] = problem(i, rows.get(i).number(), rows.get(i).object(), source + " line " + rows.get(i).number());
        this.problems = List.of(ps);
    }

    public String name() { return name; }

    public List<Problem> problems() { return problems; }

    public int size() { return problems.size(); }

    /** The problem at a 0-based row index, or a BadInputException naming the valid range. */
    public Problem problem(int idx) {
        if (idx < 0 || idx >= problems.size())
            throw new BadInputException("idx " + idx + " is out of range for data set " + name + " (0.." + (problems.size() - 1) + ")");
        return problems.get(idx);
    }

    /**
     * Grades a completion for one of this data set's problems: {@link Grader#grade} with the problem's gold and
     * this data set's unit rule. What {@code rast eval} calls per finished sample.
     */
    public Grader.Result grade(String completion, Problem problem, PromptFormat format) {
        return Grader.grade(completion, problem.gold(), skipUnit(), format);
    }

    /** Minerva answers keep their units: SimpleRL's skip_unit is true for this data set only. */
    public boolean skipUnit() { return goldSource == GoldSource.SOLUTION_BOXED_KEEP_UNITS; }

    /**
     * The gold answer for an answer given as text (e.g. an {@code answer} field, or the content of the solution's
     * box), normalized exactly as the rows of this data set are. Equal to {@link Problem#gold()} when given the
     * text the row's gold comes from.
     */
    public String goldFromAnswer(String text) {
        return switch (goldSource) {
            case SOLUTION_BOXED -> strip(strip(AnswerExtractor.finish(text, false)));
            case SOLUTION_BOXED_KEEP_UNITS -> relations(AnswerExtractor.finish(text, true));
            default -> strip(strip(text));
        };
    }

    private Problem problem(int idx, int line, Map<String, Object> row, String where) {
        String raw = rawAnswer(row, where);
        // parse_ground_truth: what the prompt's True/False check sees
        String parsed = switch (goldSource) {
            case SOLUTION_BOXED -> strip(AnswerExtractor.extract(raw, false));
            case SOLUTION_BOXED_KEEP_UNITS -> relations(AnswerExtractor.extract(raw, true));
            default -> strip(raw);
        };
        // evaluate() parses the sample again: one more pass for every data set but Minerva
        String gold = goldSource == GoldSource.SOLUTION_BOXED_KEEP_UNITS ? parsed : strip(parsed);
        return new Problem(idx, line, question(row, parsed, where), gold, row);
    }

    private String rawAnswer(Map<String, Object> row, String where) {
        return switch (goldSource) {
            case SOLUTION_BOXED, SOLUTION_BOXED_KEEP_UNITS -> stringField(row, "solution", where);
            case AFTER_HASHES -> {
                List<String> parts = Py.split(stringField(row, "answer", where), "####");
                if (parts.size() != 2)
                    throw new BadInputException(where + ": field 'answer' must contain '####' exactly once, found " + (parts.size() - 1));
                yield parts.get(1);
            }
            case FIRST_FINAL_ANSWER -> {
                if (!(row.get("final_answer") instanceof List<?> l) || l.isEmpty() || !(l.get(0) instanceof String s))
                    throw new BadInputException(where + ": missing gold answer: 'final_answer' must be a non-empty list of strings");
                yield Py.strip(s, "$");
            }
            case FIELD -> {
                Object v = row.get(answerField);
                if (v == null)
                    throw new BadInputException(where + ": missing gold answer field '" + answerField + "'");
                if (v instanceof Map || v instanceof List)
                    throw new BadInputException(where + ": gold answer field '" + answerField + "' must be a string or number");
                yield PyNumbers.str(v);
            }
        };
    }

    private static String stringField(Map<String, Object> row, String field, String where) {
        if (!(row.get(field) instanceof String s))
            throw new BadInputException(where + ": missing gold answer: field '" + field + "' must be a string");
        return s;
    }

    /** parse_question: the question field, plus "(True or False)" / "(Yes or No)" when the gold is such a word. */
    private String question(Map<String, Object> row, String parsedGold, String where) {
        String q = null;
        if (questionField != null) {
            if (!(row.get(questionField) instanceof String s))
                throw new BadInputException(where + ": missing question field '" + questionField + "'");
            q = s;
        } else {
            for (String f : QUESTION_FIELDS) {
                if (row.containsKey(f)) { q = String.valueOf(row.get(f)); break; }
            }
            if (q == null) throw new BadInputException(where + ": no question field (looked for " + String.join(", ", QUESTION_FIELDS) + ")");
        }
        String g = parsedGold.toLowerCase(Locale.ROOT);
        if (g.equals("true") || g.equals("false")) q += " (True or False)";
        if (g.equals("yes") || g.equals("no")) q += " (Yes or No)";
        return Py.strip(q);
    }

    private static String strip(String s) { return AnswerNormalizer.strip(s, false); }

    private static String relations(String s) {
        return s.replace("\\neq", "\\ne").replace("\\leq", "\\le").replace("\\geq", "\\ge");
    }
}
