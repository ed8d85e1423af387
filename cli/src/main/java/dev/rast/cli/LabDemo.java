package dev.rast.cli;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.config.ModelConfig;
import dev.rast.engine.sample.SamplingParams;
import dev.rast.engine.weights.WeightDtype;
import dev.rast.eval.data.Dataset;
import dev.rast.eval.data.Datasets;
import dev.rast.eval.data.Problem;
import dev.rast.eval.grader.Grader;
import dev.rast.eval.metrics.Metrics;
import dev.rast.plan.ModelFootprint;
import dev.rast.run.ModelSet;
import dev.rast.run.SampleRunner;
import dev.rast.text.chat.PromptFormat;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * `rast demo` on the pocket lab (docs/lab.md): one test problem answered by M alone and by RAST side by side, then
 * greedy accuracy over the test split for M, M_RL, E, B and RAST at each λ, with the paper's recovery rate.
 * Every run is one continuous batch over the whole split, as `rast eval` runs it.
 */
final class LabDemo {
    static final PromptFormat FORMAT = PromptFormat.QWEN_BOXED;
    private static final int MAX_BATCH = 64;

    private final LabModels.Lab lab;
    private final Backend backend;
    private final RuntimeOptions runtime;
    private final WeightDtype weights;
    private final int maxTokens;
    private long tokens;

    LabDemo(LabModels.Lab lab, Backend backend, RuntimeOptions runtime, int maxTokens) {
        this.lab = lab;
        this.backend = backend;
        this.runtime = runtime;
        this.weights = runtime.weights();
        this.maxTokens = maxTokens;
    }

    /** One model's (or fusion's) greedy answers to the problems, graded. */
    record Answers(String[] texts, boolean[] correct) {
        double accuracy() {
            int c = 0;
            for (boolean b : correct) if (b) c++;
            return correct.length == 0 ? Double.NaN : (double) c / correct.length;
        }
    }

    void run(PrintStream out, float exampleLambda, float[] lambdas, Integer limit, Integer problemIdx, String prompt) {
        long t0 = System.nanoTime();
        Dataset test = Datasets.load(lab.testSplit().toString(), null, null);
        List<Problem> problems = test.problems();
        if (limit != null) problems = problems.subList(0, Math.min(limit, problems.size()));
        if (problemIdx != null && problemIdx >= test.size())
            throw new dev.rast.engine.BadInputException("--problem " + problemIdx + " is past the test split's last problem ("
                    + (test.size() - 1) + ")");
        List<String> questions = new ArrayList<>();
        for (Problem p : problems) questions.add(p.question());

        out.println("RAST demo: the pocket lab, models trained here by scripts/lab/train.py (docs/lab.md).");
        out.println("Task: multi-step integer word problems; greedy decoding, qwen-boxed prompt, graded like SimpleRL.");
        for (String m : LabModels.MODELS) out.println("  " + describe(m));
        out.println();

        Answers mAlone, mRl, e, b;
        List<Answers> fused = new ArrayList<>();
        try (ModelSet set = load(lab.model("M"), lab.model("E"), lab.model("B"), exampleLambda)) {
            List<int[]> prompts = encode(set, questions);
            for (float l : lambdas) fused.add(answers(set.withLambdas(new float[] {l}), prompts, problems, test));
            // M alone is loaded by itself: through the fusion at λ = 0 it would give the same tokens
            // (M + 0·(E − B) = M exactly) at three models' cost.
            try (ModelSet m = load(lab.model("M"), null, null, 0)) { mAlone = answers(m, prompts, problems, test); }
            try (ModelSet m = load(lab.model("M_RL"), null, null, 0)) { mRl = answers(m, prompts, problems, test); }
            try (ModelSet m = load(lab.model("E"), null, null, 0)) { e = answers(m, prompts, problems, test); }
            try (ModelSet m = load(lab.model("B"), null, null, 0)) { b = answers(m, prompts, problems, test); }
            int at = indexOf(lambdas, exampleLambda);
            Answers exampleRast = at >= 0 ? fused.get(at) : answers(set, prompts, problems, test);
            printExample(out, set, problems, test, exampleLambda, problemIdx, prompt, mAlone, exampleRast);
        }

        out.printf(Locale.ROOT, "%nAccuracy on the %d test problems (greedy, up to %d tokens each):%n", problems.size(), maxTokens);
        out.printf(Locale.ROOT, "  %-32s %7.1f%%%n", "B     small base", 100 * b.accuracy());
        out.printf(Locale.ROOT, "  %-32s %7.1f%%%n", "E     B after RL", 100 * e.accuracy());
        out.printf(Locale.ROOT, "  %-32s %7.1f%%%n", "M     large base", 100 * mAlone.accuracy());
        out.printf(Locale.ROOT, "  %-32s %7.1f%%%n", "M_RL  M after RL (the ceiling)", 100 * mRl.accuracy());
        for (int i = 0; i < lambdas.length; i++) {
            double acc = fused.get(i).accuracy();
            double rec = Metrics.recoveryRate(acc, mAlone.accuracy(), mRl.accuracy());
            out.printf(Locale.ROOT, "  %-32s %7.1f%%   recovery %s%n", String.format(Locale.ROOT, "RAST  M + %s·(E − B)", lambda(lambdas[i])),
                    100 * acc, Double.isNaN(rec) ? "n/a (M_RL is no better than M here)" : String.format(Locale.ROOT, "%.0f%%", 100 * rec));
        }
        out.println("  recovery = (acc_RAST − acc_M) / (acc_M_RL − acc_M): the share of RL's gain on M that RAST gets");
        out.println("  without training M.");
        double secs = (System.nanoTime() - t0) / 1e9;
        out.printf(Locale.ROOT, "%nDone in %.1f s: %d generated tokens over %d runs of the split (M, E and B step together in each"
                + " RAST run).%n", secs, tokens, 4 + lambdas.length);
        out.println("Random-weight mechanics (tokens where the delta changed M's choice): rast demo --random");
    }

    /**
     * M alone and RAST at {@code lambda} side by side on one question: {@code prompt} if given, else test problem
     * {@code idx}, else the first problem M gets wrong and RAST right.
     */
    private void printExample(PrintStream out, ModelSet set, List<Problem> problems, Dataset test, float lambda, Integer idx,
                              String prompt, Answers mAlone, Answers rast) {
        String question;
        Problem problem = null;
        if (prompt != null) {
            question = prompt;
        } else {
            problem = idx != null ? test.problem(idx) : pickExample(problems, mAlone, rast);
            question = problem.question();
        }
        List<int[]> ids = encode(set, List.of(question));
        String mText = generate(set.withLambdas(new float[] {0f}), ids)[0];
        String rText = generate(set.withLambdas(new float[] {lambda}), ids)[0];
        out.println();
        out.println((problem == null ? "Question" : "Test problem " + problem.idx()) + ": " + question);
        if (problem != null) out.println("Gold answer: " + problem.gold());
        out.println();
        int w = 34;
        out.printf("  %-" + w + "s   %s%n", "M alone", "RAST: M + " + lambda(lambda) + "·(E − B)");
        out.printf("  %-" + w + "s   %s%n", "-".repeat(w), "-".repeat(w));
        List<String> a = wrap(mText, w), r = wrap(rText, w);
        for (int i = 0; i < Math.max(a.size(), r.size()); i++)
            out.printf("  %-" + w + "s   %s%n", i < a.size() ? a.get(i) : "", i < r.size() ? r.get(i) : "");
        if (problem != null) {
            out.printf("  %-" + w + "s   %s%n", verdict(mText, problem), verdict(rText, problem));
            if (idx == null && !mAlone.correct()[problem.idx()] && rast.correct()[problem.idx()])
                out.println("(the first test problem M gets wrong and RAST right; --problem N shows another)");
        }
    }

    /** The text's lines, each cut into pieces of at most {@code width} characters. */
    private static List<String> wrap(String text, int width) {
        List<String> out = new ArrayList<>();
        for (String line : text.strip().split("\n", -1)) {
            for (int i = 0; i < line.length(); i += width) out.add(line.substring(i, Math.min(line.length(), i + width)));
            if (line.isEmpty()) out.add("");
        }
        return out;
    }

    private static int indexOf(float[] values, float v) {
        for (int i = 0; i < values.length; i++) if (values[i] == v) return i;
        return -1;
    }

    /** The first problem M alone gets wrong and RAST right, else the first M gets wrong, else the first. */
    private static Problem pickExample(List<Problem> problems, Answers m, Answers rast) {
        for (int i = 0; i < problems.size(); i++) if (!m.correct()[i] && rast.correct()[i]) return problems.get(i);
        for (int i = 0; i < problems.size(); i++) if (!m.correct()[i]) return problems.get(i);
        return problems.getFirst();
    }

    private static String verdict(String text, Problem p) {
        Grader.Result g = Grader.grade(text, p.gold(), false, FORMAT);
        return "→ " + (g.pred() == null || g.pred().isEmpty() ? "(no answer)" : g.pred()) + (g.correct() ? "  ✓" : "  ✗");
    }

    private static String lambda(float l) {
        return l == Math.rint(l) ? String.valueOf((int) l) : String.valueOf(l);
    }

    private String describe(String name) {
        ModelConfig c = ModelConfig.load(lab.model(name));
        String role = switch (name) {
            case "M" -> "the large base";
            case "B" -> "the small base";
            case "E" -> "the expert: B after RL on answer correctness";
            default -> "the ceiling: M after the same RL";
        };
        return String.format(Locale.ROOT, "%-5s %s (%d layers, hidden %d, %.2fM parameters)", name, role, c.numLayers(),
                c.hiddenSize(), ModelFootprint.parameters(c) / 1e6);
    }

    private ModelSet load(Path m, Path e, Path b, float lambda) {
        List<ModelSet.Pair> pairs = e == null ? List.of() : List.of(new ModelSet.Pair(e, b, lambda));
        ModelSet set = ModelSet.load(m, pairs, null, false, backend, weights);
        runtime.configure(set.models());
        return set;
    }

    private static List<int[]> encode(ModelSet set, List<String> questions) {
        List<int[]> ids = new ArrayList<>();
        for (String q : questions) ids.add(Prompts.encode(set, FORMAT, q));
        return ids;
    }

    private Answers answers(ModelSet set, List<int[]> prompts, List<Problem> problems, Dataset test) {
        String[] texts = generate(set, prompts);
        boolean[] ok = new boolean[texts.length];
        for (int i = 0; i < texts.length; i++) ok[i] = test.grade(texts[i], problems.get(i), FORMAT).correct();
        return new Answers(texts, ok);
    }

    /** Greedy completions of every prompt, cut at the format's stop strings, in one continuous batch. */
    private String[] generate(ModelSet set, List<int[]> prompts) {
        SampleRunner runner = new SampleRunner(set, SamplingParams.greedy(), maxTokens, FORMAT.stopStrings(), false);
        String[] texts = new String[prompts.size()];
        int[][] samples = new int[prompts.size()][];
        java.util.Arrays.fill(samples, new int[] {0});
        runner.runAll(prompts, samples, new long[prompts.size()], MAX_BATCH, null, null, (p, s, sample) -> {
            texts[p] = sample.text();
            tokens += sample.tokens().length;
        });
        return texts;
    }
}
