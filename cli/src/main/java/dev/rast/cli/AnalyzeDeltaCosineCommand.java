package dev.rast.cli;

import dev.rast.analysis.DeltaCosine;
import dev.rast.engine.BadInputException;
import dev.rast.engine.backend.Backend;
import dev.rast.run.ModelSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "delta-cosine", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Similarity of expert pairs' corrections (§4.1): along each trajectory, the cosine between",
                "ΔR_i = E_i - B_i and ΔR_j = E_j - B_j at every position, averaged per trajectory and over",
                "trajectories, for every two of the pairs given (two or more). --model names the tokenizer and the",
                "prompt format's folder; it is loaded but does not run. --lambda is ignored."},
        footer = {"", "Example:",
                "  rast analyze delta-cosine --trajectories runs/rast-7b --model models/Qwen2.5-7B \\",
                "      --expert models/SimpleRL-Zoo-Qwen2.5-7B --expert-base models/Qwen2.5-7B \\",
                "      --expert models/SimpleRL-Zoo-Qwen2.5-1.5B --expert-base models/Qwen2.5-1.5B --json"})
final class AnalyzeDeltaCosineCommand implements Callable<Integer> {
    @Mixin AnalyzeOptions analyze;
    @Mixin ModelOptions models;
    @Mixin RuntimeOptions runtime;

    @Override
    public Integer call() {
        analyze.check();
        if (models.pairs.size() < 2)
            throw new BadInputException("delta-cosine compares expert pairs: give at least two (--expert DIR --expert-base DIR, twice)");
        try (Backend backend = runtime.open(); ModelSet set = models.load(backend, runtime.weights())) {
            runtime.configure(set.models());
            var ts = analyze.load(set);
            DeltaCosine cos = new DeltaCosine(set.pairs().size(), ts);
            analyze.teacherForce(set.models().subList(1, set.models().size()), ts, cos);
            analyze.emit(cos);
        }
        return 0;
    }
}
