package dev.rast.cli;

import dev.rast.analysis.AnalysisFiles;
import dev.rast.analysis.DeltaCosine;
import dev.rast.engine.BadInputException;
import dev.rast.engine.backend.Backend;
import dev.rast.eval.metrics.Metrics;
import dev.rast.eval.report.Report;
import dev.rast.run.ModelSet;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "delta-cosine", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Similarity of expert pairs' corrections along trajectories (§4.1).",
                "At every position the cosine between ΔR_i = E_i - B_i and ΔR_j = E_j - B_j, averaged per trajectory and over"
                        + " trajectories, for every two of the pairs given (two or more). --model names the tokenizer and"
                        + " the prompt format's folder; it is loaded but does not run. --lambda is ignored. With"
                        + " --recovery-runs (RAST runs with pairs 2, 3, ...), --base-run and --ceiling-run: each pair's"
                        + " recovery rate against its cosine with pair 1, as a table and (with --out) delta-cosine.svg, the"
                        + " paper's Fig. 4."},
        footer = {"", "Example:",
                "  rast analyze delta-cosine --trajectories runs/rast-7b --model models/Qwen2.5-7B \\",
                "      --expert models/SimpleRL-Zoo-Qwen2.5-7B --expert-base models/Qwen2.5-7B \\",
                "      --expert models/SimpleRL-Zoo-Qwen2.5-1.5B --expert-base models/Qwen2.5-1.5B --json"})
final class AnalyzeDeltaCosineCommand implements Callable<Integer> {
    @Mixin AnalyzeOptions analyze;
    @Mixin ModelOptions models;

    @Option(names = "--recovery-runs", paramLabel = "DIR,...", split = ",",
            description = "RAST run folders of pairs 2, 3, ... (one each, in order): their recovery rates against the cosine with pair 1 (the paper's Fig. 4); needs --base-run and --ceiling-run.")
    List<Path> recoveryRuns;

    @Option(names = "--base-run", paramLabel = "DIR", description = "The base model's run folder (recovery rate 0).")
    Path baseRun;

    @Option(names = "--ceiling-run", paramLabel = "DIR", description = "The ceiling run folder, e.g. the RL-trained large model (recovery rate 1).")
    Path ceilingRun;

    @Mixin RuntimeOptions runtime;

    @Override
    public Integer call() {
        analyze.check();
        if (models.pairs.size() < 2)
            throw new BadInputException("delta-cosine compares expert pairs: give at least two (--expert DIR --expert-base DIR, twice)");
        double[] rates = recoveryRuns == null ? null : recoveryRates();
        try (Backend backend = runtime.open(); ModelSet set = models.load(backend, runtime.weights())) {
            runtime.configure(set.models());
            var ts = analyze.load(set);
            DeltaCosine cos = new DeltaCosine(set.pairs().size(), ts);
            if (rates != null) cos.withRecovery(rates, recoveryRuns.stream().map(p -> p.getFileName() == null ? p.toString() : p.getFileName().toString()).toList());
            analyze.teacherForce(set.models().subList(1, set.models().size()), ts, cos);
            analyze.emit(cos);
            if (rates != null && analyze.out != null) {
                AnalysisFiles.write(analyze.out.resolve("delta-cosine.svg"), cos.scatterSvg());
                System.err.println("wrote " + analyze.out.resolve("delta-cosine.svg"));
            }
        }
        return 0;
    }

    /** Each --recovery-runs folder's recovery rate, averaged over the data sets the three runs share. */
    private double[] recoveryRates() {
        if (baseRun == null || ceilingRun == null) throw new BadInputException("--recovery-runs needs --base-run and --ceiling-run (recovery rate 0 and 1)");
        if (recoveryRuns.size() != models.pairs.size() - 1)
            throw new BadInputException("--recovery-runs has " + recoveryRuns.size() + " folders for pairs 2.." + models.pairs.size()
                    + ": give one RAST run folder per pair after the first");
        Report.RunReport base = Report.compute(baseRun), ceiling = Report.compute(ceilingRun);
        double[] out = new double[recoveryRuns.size()];
        for (int i = 0; i < out.length; i++) {
            Report.RunReport run = Report.compute(recoveryRuns.get(i));
            double sum = 0;
            int n = 0;
            for (Report.DatasetStats d : run.datasets()) {
                Report.DatasetStats b = base.dataset(d.dataset()), c = ceiling.dataset(d.dataset());
                if (b == null || c == null) continue;
                double r = Metrics.recoveryRate(d.pass1Avg(), b.pass1Avg(), c.pass1Avg());
                if (Double.isNaN(r)) continue;
                sum += r;
                n++;
            }
            if (n == 0) throw new BadInputException(recoveryRuns.get(i) + ": no data set it shares with --base-run and --ceiling-run has a recovery rate");
            out[i] = sum / n;
        }
        return out;
    }
}
