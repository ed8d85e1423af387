package dev.rast.cli;

import picocli.CommandLine.Command;

@Command(name = "analyze", mixinStandardHelpOptions = true,
        description = {"The paper's analyses of token trajectories (sections 2.1, 4.1, 4.2, App. C.3).",
                "Every kind reads --trajectories FILE.jsonl (rows {\"prompt_tokens\": [...], \"tokens\": [...]})"
                        + " or a rast eval run folder, takes the models as rast generate does, prints Markdown (or one JSON"
                        + " object with --json: \"mean\" is the headline figure, \"per_sample\" the per-trajectory figures)"
                        + " and writes tables, plots and pages into --out DIR. Models read each trajectory by teacher"
                        + " forcing: whole slices per pass, no sampling, about the cost of a prefill."},
        subcommands = {AnalyzePcrCommand.class, AnalyzeKlCommand.class, AnalyzeDeltaCosineCommand.class, AnalyzeTokensCommand.class},
        footer = {"", "Examples:",
                "  rast analyze pcr --trajectories runs/rl-7b --model models/Qwen2.5-7B --limit 200",
                "  rast analyze kl --trajectories runs/rast-7b --model M --expert E --expert-base B --out analysis/kl",
                "  rast analyze delta-cosine --trajectories t.jsonl --model M --expert E1 --expert-base B1 --expert E2 --expert-base B2",
                "  rast analyze tokens --trajectories runs/base-7b --trajectories runs/rast-7b --out analysis/tokens"})
final class AnalyzeCommand implements Runnable {
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() { throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing analysis: pcr, kl, delta-cosine or tokens"); }
}
