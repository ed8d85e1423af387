package dev.rast.cli;

import dev.rast.analysis.Configuration;
import dev.rast.analysis.PathCoverage;
import dev.rast.engine.backend.Backend;
import dev.rast.run.ModelSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "pcr", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Path Coverage Rate (§2.1, Eq. 1-2) of trajectories under a configuration.",
                "How often the configuration's greedy choice is the trajectory's next token. PCR = (1/(n-1)) Σ_{i=1}^{n-1} 1[argmax p(·|prompt, t_1..t_i) ="
                        + " t_{i+1}]. The configuration is --model alone, or RAST's fusion with the expert pairs given."},
        footer = {"", "Example:", "  rast analyze pcr --trajectories runs/rl-7b --model models/Qwen2.5-7B --limit 100 --json"})
final class AnalyzePcrCommand implements Callable<Integer> {
    @Mixin AnalyzeOptions analyze;
    @Mixin ModelOptions models;
    @Mixin RuntimeOptions runtime;

    @Override
    public Integer call() {
        analyze.check();
        try (Backend backend = runtime.open(); ModelSet set = models.load(backend, runtime.weights())) {
            runtime.configure(set.models());
            var ts = analyze.load(set);
            PathCoverage pcr = new PathCoverage(Configuration.fused(set.lambdas(), set.base().config().vocabSize()), ts);
            analyze.teacherForce(set.models(), ts, pcr);
            analyze.emit(pcr);
        }
        return 0;
    }
}
