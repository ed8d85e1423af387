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

        // A list, without a picocli defaultValue: picocli cannot read defaults of a repeating group that is absent.
        // Several values (0,0.5,1) sweep λ, which rast eval alone does.
        @Option(names = "--lambda", paramLabel = "L", split = ",", description = "Weight of this pair's delta E − B (default: 1.0); rast eval takes a list (0,0.5,1) to sweep it.")
        List<Float> lambda;

        @Option(names = "--name", paramLabel = "N", description = "rast serve: the name requests give this pair by (default: pair1, pair2, ...).")
        String name;

        /** This pair's λ values: the one given, the list of a sweep, or the default 1. */
        List<Float> lambdas() {
            List<Float> l = lambda == null || lambda.isEmpty() ? List.of(1f) : lambda;
            for (float v : l) if (!Float.isFinite(v)) throw new BadInputException("--lambda must be a finite number, is " + v);
            return l;
        }

        /** The single λ of a command that does not sweep. */
        float single() {
            List<Float> l = lambdas();
            if (l.size() > 1)
                throw new BadInputException("--lambda " + l.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(","))
                        + ": several values sweep λ, which only rast eval does; give one value");
            return l.getFirst();
        }
    }

    /** Set by the commands that name pairs (rast serve); the others refuse --name rather than ignore it. */
    boolean namesPairs;

    /** Each pair's --name, or pairN (N from 1, in order); two pairs of one name are refused. */
    List<String> pairNames() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < pairs.size(); i++) {
            String n = pairs.get(i).name == null ? "pair" + (i + 1) : pairs.get(i).name;
            if (n.isBlank()) throw new BadInputException("--name of pair " + (i + 1) + " is empty");
            if (names.contains(n)) throw new BadInputException("two expert pairs are named '" + n + "': give each its own --name");
            names.add(n);
        }
        return names;
    }

    List<ModelSet.Pair> pairs() {
        List<ModelSet.Pair> out = new ArrayList<>();
        for (PairOptions p : pairs) out.add(new ModelSet.Pair(p.expert, p.expertBase, p.single()));
        return out;
    }

    /** The pairs with λ values {@code lambdas} (one per pair, in order): one point of a sweep. */
    List<ModelSet.Pair> pairs(List<Double> lambdas) {
        List<ModelSet.Pair> out = new ArrayList<>();
        for (int i = 0; i < pairs.size(); i++) out.add(new ModelSet.Pair(pairs.get(i).expert, pairs.get(i).expertBase, lambdas.get(i).floatValue()));
        return out;
    }

    /** Loads the models, each model name (ORG/NAME) taken from the Hub's cache or downloaded first. */
    ModelSet load(Backend backend, WeightDtype weights) { return load(backend, weights, pairs()); }

    /** Loads the base with {@code withPairs} (e.g. one point of a sweep), model names resolved as above. */
    ModelSet load(Backend backend, WeightDtype weights, List<ModelSet.Pair> withPairs) {
        if (!namesPairs)
            for (PairOptions p : pairs)
                if (p.name != null) throw new BadInputException("--name names a pair for rast serve; this command does not use it");
        List<ModelSet.Pair> local = withPairs.stream()
                .map(p -> new ModelSet.Pair(ModelFolders.model(p.expert()), ModelFolders.model(p.base()), p.lambda())).toList();
        return ModelSet.load(ModelFolders.model(model), local, ModelFolders.tokenizer(tokenizer), allowTokenizerMismatch, backend, weights);
    }
}
