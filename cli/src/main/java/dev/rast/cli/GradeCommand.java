package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.text.chat.PromptFormat;
import dev.rast.engine.json.Json;
import dev.rast.eval.data.Dataset;
import dev.rast.eval.data.Datasets;
import dev.rast.eval.data.JsonLines;
import dev.rast.eval.grader.Grader;
import dev.rast.eval.grader.PyNumbers;
import java.io.PrintStream;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "grade", mixinStandardHelpOptions = true,
        description = {"Grade completions as SimpleRL's math evaluation does (the paper's grader).",
                "Reads JSONL on stdin, one object per line:",
                "  {\"completion\": ..., \"gold\": ...}  gold as the data set states it (\"025\")",
                "  {\"completion\": ..., \"idx\": N}     gold of row N (0-based) of the data set",
                "Prints {\"pred\": ..., \"correct\": true|false} per line; pred is \"\" when no answer",
                "could be extracted and null for an empty completion (as SimpleRL's grader; both are wrong).",
                "Each comparison gets 3 s; past that it is wrong.",
                "--explain adds \"rule\": the rule that decided, e.g. \"exact string\", \"numeric within tolerance\",",
                "\"numbers differ\", \"tuple element by element\", \"symbolic: exactly equal\", \"no rule matched\", \"timeout\"."},
        footer = {"", "Examples:",
                "  echo '{\"completion\": \"... so the answer is \\\\boxed{25}.\", \"gold\": \"025\"}' | rast grade --dataset aime24",
                "  rast grade --dataset math500 --format qwen-boxed < completions.jsonl",
                "  rast grade --dataset minerva_math --explain < completions.jsonl",
                "  rast grade --dataset my.jsonl --question-field q --answer-field a < completions.jsonl"})
final class GradeCommand implements Callable<Integer> {
    @Option(names = "--dataset", required = true, paramLabel = "NAME",
            description = "math500, gsm8k, aime24, amc23, minerva_math, olympiadbench, or a JSONL file.")
    String dataset;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "qwen-boxed",
            description = "Prompt format, which decides the stop strings completions are cut at: qwen-boxed, abel, "
                    + "chat or none (the last two: only </s>, <|im_end|>, <|endoftext|>) (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--question-field", paramLabel = "FIELD", description = "For a JSONL file: the question field (default: the first of question, problem, Question, input that a row has).")
    String questionField;

    @Option(names = "--answer-field", paramLabel = "FIELD", description = "For a JSONL file: the gold answer field (default: answer).")
    String answerField;

    @Option(names = "--explain", description = "Add a \"rule\" field: which of the grader's rules decided the row.")
    boolean explain;

    @Option(names = "--verbose", description = "Show stack traces on errors.")
    boolean verbose;

    @Override
    public Integer call() {
        PromptFormat fmt = PromptFormat.byName(format);
        Dataset ds = Datasets.load(dataset, questionField, answerField);
        PrintStream out = System.out;
        JsonLines.forEach(System.in, "stdin", line -> {
            Map<String, Object> o = line.object();
            String where = "stdin line " + line.number();
            if (!(o.get("completion") instanceof String completion))
                throw new BadInputException(where + ": missing \"completion\" (a string)");
            Grader.Result r = Grader.grade(completion, gold(ds, o, where), ds.skipUnit(), fmt);
            Map<String, Object> res = new LinkedHashMap<>();
            res.put("pred", r.pred());
            res.put("correct", r.correct());
            if (explain) res.put("rule", r.rule());
            out.println(Json.line(res));
            out.flush();
        });
        return 0;
    }

    private static String gold(Dataset ds, Map<String, Object> o, String where) {
        Object g = o.get("gold");
        if (g != null) {
            if (g instanceof Map || g instanceof List) throw new BadInputException(where + ": \"gold\" must be a string or number");
            return ds.goldFromAnswer(PyNumbers.str(g));
        }
        Object idx = o.get("idx");
        if (idx instanceof Long || idx instanceof BigInteger) {
            if (!(idx instanceof Long i) || i < 0 || i >= ds.size())
                throw new BadInputException(where + ": \"idx\" " + idx + " is out of range for " + ds.name() + " (rows 0.." + (ds.size() - 1) + ")");
            return ds.problem((int) (long) i).gold();
        }
        if (idx != null) throw new BadInputException(where + ": \"idx\" must be an integer");
        throw new BadInputException(where + ": missing gold: give \"gold\" (the answer) or \"idx\" (a row of " + ds.name() + ")");
    }
}
