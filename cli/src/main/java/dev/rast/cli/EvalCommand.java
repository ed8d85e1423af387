package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.engine.backend.Backend;
import dev.rast.engine.files.RunLock;
import dev.rast.text.chat.PromptFormat;
import dev.rast.eval.data.Dataset;
import dev.rast.eval.data.Datasets;
import dev.rast.eval.data.Problem;
import dev.rast.eval.grader.Grader;
import dev.rast.eval.report.Report;
import dev.rast.eval.report.ReportFormat;
import dev.rast.eval.report.RunDir;
import dev.rast.eval.report.RunSettings;
import dev.rast.eval.report.SampleRow;
import dev.rast.eval.report.Sweep;
import dev.rast.eval.report.SweepReport;
import dev.rast.run.ModelSet;
import dev.rast.run.SampleRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the paper's math evaluation and write a report (resumable).", "Generates n samples per problem (batched, with RAST when expert",
                "pairs are given), grade them with SimpleRL's grader, and write pass@1 (Avg.), pass@k, maj@k and mean",
                "length to RUN_DIR/report.md and report.json. Resumable: a re-run continues where the last one stopped;",
                "every finished sample is appended to RUN_DIR/samples.jsonl at once. A list of --lambda (or",
                "--temperature) values sweeps it: one run folder per value under --out (lambda-0.5/, ...), resumable as a",
                "whole, and sweep.md / sweep.svg with accuracy against the value (rast report adds the recovery rate)."},
        footer = {"", "Examples:",
                "  rast eval --model models/Qwen2.5-7B \\",
                "      --expert models/SimpleRL-Zoo-Qwen2.5-1.5B --expert-base models/Qwen2.5-1.5B --lambda 1.0 \\",
                "      --dataset math500 --n 32 --temperature 1.0 --top-p 0.95 --max-tokens 16384 --format qwen-boxed --out runs/rast-7b",
                "  rast eval --model DIR --dataset gsm8k,aime24 --limit 5 --n 4 --max-tokens 512 --out runs/smoke",
                "  rast eval --model M --expert E --expert-base B --lambda 0,0.25,0.5,1 --dataset math500 --out runs/lambda-sweep",
                "  rast report runs/rast-7b --base runs/base-7b --ceiling runs/rl-7b --plot passk.svg"})
final class EvalCommand implements Callable<Integer> {
    @Mixin ModelOptions models;

    @Option(names = "--dataset", required = true, paramLabel = "NAMES",
            description = "math500, gsm8k, aime24, amc23, minerva_math, olympiadbench (comma-separated for several), or a JSONL file.")
    String dataset;

    @Option(names = "--question-field", paramLabel = "F", description = "For a JSONL file: the question field (default: the first of question, problem, Question, input that a row has).")
    String questionField;

    @Option(names = "--answer-field", paramLabel = "F", description = "For a JSONL file: the gold answer field (default: answer).")
    String answerField;

    @Option(names = "--limit", paramLabel = "N", description = "Only the first N problems of each data set.")
    Integer limit;

    @Option(names = "--format", paramLabel = "NAME", defaultValue = "qwen-boxed",
            description = "Prompt format: qwen-boxed (default), abel, chat (the model's template), none.")
    String format;

    @Mixin SamplingOptions sampling;

    @Option(names = "--out", required = true, paramLabel = "RUN_DIR", description = "Run folder: settings.json, samples.jsonl, report.md, report.json.")
    Path out;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "32",
            description = "Most sequences decoding together (default: ${DEFAULT-VALUE}); samples of the next problems fill places as samples finish.")
    int batch;

    @Mixin RuntimeOptions runtime;

    @Override
    public Integer call() {
        sampling.withDefaults(SamplingOptions.EVAL);
        Sweep sweep = sweep();
        try (Loaded loaded = new Loaded()) {
            if (sweep == null) {
                runOne(out, models.pairs(), sampling.params(), loaded);
                Report.RunReport report = Report.write(out);
                Stdout.utf8().append(ReportFormat.markdown(report)).flush();
                return 0;
            }
            checkWritable(out);
            // One sweep per folder; each point's folder is locked too, against a single run aimed at it.
            try (RunLock lock = RunLock.inFolder(out, "rast eval (sweep)", "--out")) {
                sweep.writeOrCheck(out);
                for (Sweep.Point p : sweep.points()) {
                    System.err.println(out.resolve(p.dir()) + ": " + sweep.parameter() + " " + p.value());
                    double t = sweep.parameter().equals("temperature") ? p.value() : sampling.temperature;
                    runOne(out.resolve(p.dir()), models.pairs(p.lambdas()), sampling.params(t), loaded);
                }
            }
        }
        Stdout.utf8().append(SweepReport.write(out, null, null).markdown()).flush();
        return 0;
    }

    /**
     * The backend and models, loaded when a run folder first has samples to make and kept for the other points of a
     * sweep (only λ or the temperature changes between them); a finished folder loads nothing.
     */
    private final class Loaded implements AutoCloseable {
        private Backend backend;
        private ModelSet set;

        /** The models with {@code pairs}' λs. */
        ModelSet with(List<ModelSet.Pair> pairs) {
            if (set == null) {
                backend = runtime.open();
                set = models.load(backend, runtime.weights(), pairs);
                runtime.configure(set.models());
                set.requireTokenizer("rast eval");
            }
            float[] l = new float[pairs.size()];
            for (int i = 0; i < l.length; i++) l[i] = pairs.get(i).lambda();
            return set.withLambdas(l);
        }

        @Override
        public void close() {
            if (set != null) set.close();
            if (backend != null) backend.close();
        }
    }

    /**
     * The sweep the options ask for, or null: a list of --temperature values, or of --lambda values (pairs with one
     * value keep it at every point; pairs with a list must all list as many).
     */
    private Sweep sweep() {
        int lambdaPoints = 1;
        for (ModelOptions.PairOptions p : models.pairs) {
            int k = p.lambdas().size();
            if (k > 1 && lambdaPoints > 1 && k != lambdaPoints)
                throw new BadInputException("--lambda lists of " + lambdaPoints + " and " + k + " values: swept pairs must list as many values each");
            lambdaPoints = Math.max(lambdaPoints, k);
        }
        int temperaturePoints = sampling.temperatures.size();
        if (lambdaPoints > 1 && temperaturePoints > 1)
            throw new BadInputException("--lambda and --temperature both list several values: sweep one at a time");
        if (lambdaPoints == 1 && temperaturePoints == 1) return null;
        List<Sweep.Point> points = new ArrayList<>();
        Set<String> dirs = new HashSet<>();
        for (int i = 0; i < Math.max(lambdaPoints, temperaturePoints); i++) {
            List<Double> lambdas = new ArrayList<>(), swept = new ArrayList<>();
            for (ModelOptions.PairOptions p : models.pairs) {
                List<Float> l = p.lambdas();
                lambdas.add(decimal(l.get(l.size() == 1 ? 0 : i)));
                if (l.size() > 1) swept.add(decimal(l.get(i)));
            }
            boolean byLambda = lambdaPoints > 1;
            double value = byLambda ? swept.getFirst() : sampling.temperatures.get(i);
            String dir = Sweep.dirName(byLambda ? "lambda" : "temperature", byLambda ? swept : List.of(value));
            if (!dirs.add(dir)) throw new BadInputException("the sweep lists " + dir.replace('-', ' ') + " twice");
            points.add(new Sweep.Point(value, lambdas, dir));
        }
        return new Sweep(lambdaPoints > 1 ? "lambda" : "temperature", points);
    }

    /** The double a float option was typed as: 0.1, not 0.10000000149011612 (folder names show it). */
    private static double decimal(float f) { return Double.parseDouble(Float.toString(f)); }

    /** One run folder: generate what it lacks with these pairs and sampling stage. */
    private void runOne(Path out, List<ModelSet.Pair> pairs, dev.rast.engine.sample.SamplingParams params, Loaded loaded) {
        PromptFormat fmt = PromptFormat.byName(format);
        if (limit != null && limit < 1) throw new BadInputException("--limit must be at least 1, is " + limit);
        if (batch < 1) throw new BadInputException("--batch must be at least 1, is " + batch);
        List<Dataset> sets = new ArrayList<>();
        java.util.Set<String> named = new java.util.LinkedHashSet<>(); // "math500,math500" runs math500 once
        for (String name : dataset.split(",", -1)) {
            if (name.isBlank()) throw new BadInputException("--dataset '" + dataset + "': an empty name (a comma too many?)");
            named.add(name.strip());
        }
        for (String name : named) {
            Dataset d = Datasets.load(name, questionField, answerField);
            // Nothing to sample would end in "0/0 problems" and exit 0, as if the evaluation had run.
            if (d.size() == 0) throw new BadInputException("data set " + d.name() + " has no problems (every line is blank)");
            sets.add(d);
        }

        long problems = 0;
        for (Dataset d : sets) problems += limit == null ? d.size() : Math.min(limit, d.size());
        SampleRunner.checkPlan(problems, sampling.n, problems + " problems");
        RunDir run = new RunDir(out);
        checkWritable(out);
        // One run per folder: a second one would make every sample again and append each twice.
        try (RunLock lock = RunLock.inFolder(out, "rast eval", "--out")) {
            fill(run, sets, pairs, params, fmt, loaded);
        }
    }

    /** Generates what the (locked) run folder lacks. */
    private void fill(RunDir run, List<Dataset> sets, List<ModelSet.Pair> pairs, dev.rast.engine.sample.SamplingParams params,
                      PromptFormat fmt, Loaded loaded) {
        Path out = run.dir();
        RunSettings settings = settings(pairs, params.temperature());
        if (Files.exists(run.file(RunDir.SETTINGS))) requireSame(out, run.readSettings(), settings);
        else run.writeSettings(settings);
        RunDir.Samples existing = run.readSamples();
        Set<String> done = new HashSet<>();
        for (int i = 0; i < existing.rows().size(); i++) {
            SampleRow r = existing.rows().get(i);
            checkSource(r, sets, run.file(RunDir.SAMPLES) + " line " + existing.lines().get(i));
            done.add(key(r.dataset(), r.idx(), r.sample()));
        }

        List<Dataset> todoSet = new ArrayList<>();
        List<Problem> todo = new ArrayList<>();
        List<int[]> wantedList = new ArrayList<>(); // the samples each problem still lacks: all n unless resuming
        int total = 0;
        for (Dataset d : sets) {
            List<Problem> ps = d.problems();
            if (limit != null) ps = ps.subList(0, Math.min(limit, ps.size()));
            total += ps.size();
            for (Problem p : ps) {
                int[] w = missing(d, p, done);
                if (w.length == 0) continue;
                todoSet.add(d);
                todo.add(p);
                wantedList.add(w);
            }
        }
        if (todo.size() < total)
            System.err.printf("%s: %d of %d problems already done, resuming%n", out, total - todo.size(), total);

        if (todo.isEmpty()) return;
        ModelSet set = loaded.with(pairs);
        try (RunDir.SampleLog log = run.openLog()) {
            List<String> stops = new ArrayList<>(fmt.stopStrings());
            stops.addAll(sampling.stop);
            SampleRunner runner = new SampleRunner(set, params, sampling.maxTokens, stops, sampling.ignoreEos);
            AtomicLong tokens = new AtomicLong(), samples = new AtomicLong();
            List<int[]> prompts = new ArrayList<>();
            long[] seeds = new long[todo.size()];
            int[][] wanted = wantedList.toArray(new int[0][]);
            int[] left = new int[todo.size()];
            String[] hashes = new String[todo.size()];
            for (int i = 0; i < todo.size(); i++) {
                prompts.add(Prompts.encode(set, fmt, todo.get(i).question()));
                seeds[i] = GenerateCommand.promptSeed(sampling.seed, todo.get(i).idx());
                left[i] = wanted[i].length;
                hashes[i] = todo.get(i).sourceHash();
            }
            int[] problemsDone = {0};
            long t0 = System.nanoTime();
            try (ProgressBar bar = new ProgressBar("eval", todo.size(), "problems", 1)) {
                // All problems go through one continuous batch: as samples finish, samples of the next problems
                // take their places, so the batch stays full while a problem's longest samples run on.
                runner.runAll(prompts, wanted, seeds, batch, null, () -> {
                    long t = tokens.incrementAndGet();
                    if ((t & 15) == 0) bar.extra(rates(t, samples.get(), t0));
                }, (i, s, sample) -> {
                    Dataset d = todoSet.get(i);
                    Problem p = todo.get(i);
                    Grader.Result g = d.grade(sample.text(), p, fmt);
                    log.append(new SampleRow(d.name(), p.idx(), s, sample.text(), sample.tokens().length,
                            g.pred(), g.correct(), hashes[i]));
                    samples.incrementAndGet();
                    if (--left[i] == 0) {
                        bar.extra(rates(tokens.get(), samples.get(), t0));
                        bar.update(++problemsDone[0]);
                    }
                });
            }
        } catch (java.io.IOException e) {
            throw new BadInputException(run.file(RunDir.SAMPLES) + ": " + e.getMessage());
        }
    }

    private static String rates(long tokens, long samples, long t0) {
        double secs = Math.max((System.nanoTime() - t0) / 1e9, 1e-9);
        return String.format(java.util.Locale.ROOT, "%.2f samples/s %.1f tok/s", samples / secs, tokens / secs);
    }

    /**
     * Refuses a sample of a problem that is not the one at its index any more: an edited question or gold answer, or
     * lines inserted or removed before it in a JSONL data set. Such samples are refused rather than made again: they
     * belong to their index and its seed, and a second set under the same index would be counted twice. Problems
     * added at the end have new indexes and are made. A row without a hash (written before rast kept them) is taken by
     * its index, as then.
     */
    private static void checkSource(SampleRow r, List<Dataset> sets, String where) {
        if (r.problemHash() == null) return;
        Dataset d = sets.stream().filter(x -> x.name().equals(r.dataset())).findFirst().orElse(null);
        if (d == null) return; // not a data set of this run (settings.json's list is this run's): the report shows it apart
        if (r.idx() >= d.size())
            throw new BadInputException(where + ": problem " + r.idx() + " of " + d.name() + " is not in the data set any more (it has "
                    + d.size() + " problems): use another --out, or remove that problem's samples");
        Problem now = d.problem(r.idx());
        if (!now.sourceHash().equals(r.problemHash()))
            throw new BadInputException(where + ": problem " + r.idx() + " (" + d.name() + " line " + now.line() + ") changed since its "
                    + "samples were made (its question or gold answer edited, or lines inserted or removed before it); a sample "
                    + "belongs to its problem's index and seed: use another --out, or remove that problem's samples");
    }

    /** The sample numbers of problem {@code p} not in the run folder yet. */
    private int[] missing(Dataset d, Problem p, Set<String> done) {
        return java.util.stream.IntStream.range(0, sampling.n).filter(s -> !done.contains(key(d.name(), p.idx(), s))).toArray();
    }

    private static String key(String dataset, int idx, int sample) { return dataset + "\u0000" + idx + "\u0000" + sample; }

    private RunSettings settings(List<ModelSet.Pair> pairs, double temperature) {
        List<RunSettings.Expert> experts = new ArrayList<>();
        List<Double> lambdas = new ArrayList<>();
        for (ModelSet.Pair p : pairs) {
            experts.add(new RunSettings.Expert(p.expert().toString(), p.base().toString()));
            lambdas.add((double) p.lambda());
        }
        return new RunSettings(models.model.toString(), experts, lambdas, dataset, sampling.n, temperature,
                sampling.topP, sampling.maxTokens, format, sampling.seed, limit,
                runtime.weights().name().toLowerCase(java.util.Locale.ROOT), runtime.kvCache().name().toLowerCase(java.util.Locale.ROOT),
                sampling.topK, sampling.minP, sampling.stop, sampling.ignoreEos,
                models.tokenizer == null ? null : models.tokenizer.toString());
    }

    /** A re-run must use the settings the folder was started with, or the samples would mix two experiments. */
    private static void requireSame(Path out, RunSettings was, RunSettings now) {
        Map<String, Object> a = was.toJson(), b = now.toJson();
        for (String k : b.keySet()) {
            if (k.equals("limit")) continue;   // growing --limit extends a run
            if (!Objects.equals(String.valueOf(a.get(k)), String.valueOf(b.get(k))))
                throw new BadInputException(out + " was started with " + k + " = " + a.get(k) + ", not " + b.get(k)
                        + " (use another --out, or the same settings to resume)");
        }
    }

    private static void checkWritable(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new BadInputException("--out " + dir + ": cannot create the folder (" + e.getMessage() + ")");
        }
        if (!Files.isWritable(dir)) throw new BadInputException("--out " + dir + ": the folder is not writable");
    }
}
