package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.engine.backend.Backend;
import dev.rast.engine.weights.WeightDtype;
import dev.rast.run.ModelSet;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** The models of a run: --model, then zero or more RAST expert pairs, each with its own --lambda. */
final class ModelOptions {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "The (large) base model M." + ModelFolders.HELP)
    Path model;

    @ArgGroup(exclusive = false, multiplicity = "0..*", heading = "RAST expert pairs (repeatable; each --lambda belongs to the pair before it):%n")
    List<PairOptions> pairs = new ArrayList<>();

    @Option(names = "--tokenizer", paramLabel = "DIR", description = "Where tokenizer.json is (default: the --model folder)." + ModelFolders.HELP)
    Path tokenizer;

    @Option(names = "--allow-tokenizer-mismatch", description = "Fuse models even when their tokenizers differ on shared ids.")
    boolean allowTokenizerMismatch;

    static final class PairOptions {
        @Option(names = "--expert", required = true, paramLabel = "DIR", description = "Small RL-trained expert E (e.g. SimpleRL-Zoo 1.5B)." + ModelFolders.HELP)
        Path expert;

        @Option(names = "--expert-base", required = true, paramLabel = "DIR", description = "The base E was trained from (e.g. Qwen2.5-Math-1.5B)." + ModelFolders.HELP)
        Path expertBase;

        // Boxed, without a picocli defaultValue: picocli cannot read defaults of a repeating group that is absent.
        @Option(names = "--lambda", paramLabel = "L", description = "Weight of this pair's delta E − B (default: 1.0).")
        Float lambda;
    }

    List<ModelSet.Pair> pairs() {
        List<ModelSet.Pair> out = new ArrayList<>();
        for (PairOptions p : pairs) {
            float lambda = p.lambda == null ? 1f : p.lambda;
            if (!Float.isFinite(lambda)) throw new BadInputException("--lambda must be a finite number, is " + lambda);
            out.add(new ModelSet.Pair(p.expert, p.expertBase, lambda));
        }
        return out;
    }

    /** Loads the models, each model name (ORG/NAME) taken from the Hub's cache or downloaded first. */
    ModelSet load(Backend backend, WeightDtype weights) {
        List<ModelSet.Pair> local = pairs().stream()
                .map(p -> new ModelSet.Pair(ModelFolders.model(p.expert()), ModelFolders.model(p.base()), p.lambda())).toList();
        return ModelSet.load(ModelFolders.model(model), local, ModelFolders.tokenizer(tokenizer), allowTokenizerMismatch, backend, weights);
    }
}
