package dev.rast.cli;

import dev.rast.analysis.AnalysisFiles;
import dev.rast.analysis.ReasoningWords;
import dev.rast.analysis.TokenWordsReport;
import dev.rast.analysis.Trajectory;
import dev.rast.analysis.TrajectoryFile;
import dev.rast.engine.BadInputException;
import dev.rast.eval.analysis.RunTrajectories;
import dev.rast.text.tokenizer.Tokenizer;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "tokens", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Reasoning-word families and output lengths (App. C.3), side by side across runs.",
                "Counts the paper's branching-out, backtracking and verification words per 1,000 words (whole"
                        + " words, case-insensitive) and the completions' lengths in tokens, for each --trajectories given"
                        + " (run folders, or JSONL files decoded with --tokenizer). No model runs."},
        footer = {"", "Example:",
                "  rast analyze tokens --trajectories runs/base-7b --trajectories runs/rl-7b --trajectories runs/rast-7b --out analysis/tokens"})
final class AnalyzeTokensCommand implements Callable<Integer> {
    @Option(names = "--trajectories", required = true, paramLabel = "RUN_DIR|FILE.jsonl",
            description = "A run folder (its completions' text), or trajectories JSONL (decoded with --tokenizer); repeat for several runs.")
    List<Path> trajectories;

    @Option(names = "--tokenizer", paramLabel = "DIR", description = "Folder with tokenizer.json, to decode JSONL trajectories.")
    Path tokenizer;

    @Option(names = "--limit", paramLabel = "N", description = "Only the first N samples of each run.")
    Integer limit;

    @Option(names = "--out", paramLabel = "DIR", description = "Write tokens.md, tokens.json and tokens.svg into DIR.")
    Path out;

    @Option(names = "--json", description = "Print one JSON object: \"mean\" and \"per_sample\" of the first run, \"runs\" for all.")
    boolean json;

    @Option(names = "--verbose", description = "Show stack traces on errors.")
    boolean verbose;

    @Override
    public Integer call() {
        if (limit != null && limit < 1) throw new BadInputException("--limit must be at least 1, is " + limit);
        Tokenizer tok = tokenizer == null ? null : Tokenizer.load(tokenizer);
        List<ReasoningWords.RunWords> runs = new ArrayList<>();
        for (Path p : trajectories) runs.add(read(p, tok));
        TokenWordsReport report = new TokenWordsReport(runs);
        PrintStream o = Stdout.utf8();
        if (json) o.println(AnalysisFiles.json(report.toJson()));
        else o.print(report.markdown());
        o.flush();
        if (out != null) {
            AnalysisFiles.write(out.resolve("tokens.json"), AnalysisFiles.prettyJson(report.toJson()));
            AnalysisFiles.write(out.resolve("tokens.md"), report.markdown());
            AnalysisFiles.write(out.resolve("tokens.svg"), report.svg());
            System.err.println("wrote " + out.resolve("tokens.md") + ", tokens.json and tokens.svg");
        }
        return 0;
    }

    private ReasoningWords.RunWords read(Path p, Tokenizer tok) {
        String label = p.getFileName() == null ? p.toString() : p.getFileName().toString();
        List<String> ids = new ArrayList<>(), texts = new ArrayList<>();
        List<Integer> lengths = new ArrayList<>();
        if (Files.isDirectory(p)) {
            for (RunTrajectories.Completion c : RunTrajectories.completions(p, limit)) {
                ids.add(c.id());
                texts.add(c.text());
                lengths.add(c.tokens());
            }
        } else if (Files.isRegularFile(p)) {
            if (tok == null) throw new BadInputException("--trajectories " + p + ": a JSONL file holds token ids; give --tokenizer DIR to read them as text");
            List<Trajectory> ts = TrajectoryFile.read(p);
            for (Trajectory t : ts.subList(0, limit == null ? ts.size() : Math.min(limit, ts.size()))) {
                ids.add(t.id());
                texts.add(tok.decode(t.tokens(), true));
                lengths.add(t.tokens().length);
            }
        } else {
            throw new BadInputException("--trajectories " + p + ": no such file or run folder");
        }
        return ReasoningWords.run(label, ids, texts, lengths.stream().mapToInt(Integer::intValue).toArray());
    }
}
