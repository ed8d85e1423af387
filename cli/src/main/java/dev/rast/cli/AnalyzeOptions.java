package dev.rast.cli;

import dev.rast.analysis.Analysis;
import dev.rast.analysis.AnalysisFiles;
import dev.rast.analysis.TeacherForcing;
import dev.rast.analysis.Trajectory;
import dev.rast.analysis.TrajectoryFile;
import dev.rast.engine.BadInputException;
import dev.rast.engine.model.CausalLM;
import dev.rast.eval.analysis.RunTrajectories;
import dev.rast.run.ModelSet;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** What every model-reading analysis shares: where the trajectories are, how many, where the results go. */
final class AnalyzeOptions {
    @Option(names = "--trajectories", required = true, paramLabel = "FILE.jsonl|RUN_DIR",
            description = "JSON lines {\"prompt_tokens\": [ids], \"tokens\": [ids]} (optional \"id\"), or a rast eval run folder (prompts rendered again, completions re-encoded).")
    Path trajectories;

    @Option(names = "--limit", paramLabel = "N", description = "Only the first N trajectories.")
    Integer limit;

    @Option(names = "--out", paramLabel = "DIR", description = "Write KIND.md, KIND.json (and pages, plots) into DIR.")
    Path out;

    @Option(names = "--json", description = "Print one JSON object: \"mean\" (headline), \"ci95\", \"per_sample\", ...")
    boolean json;

    @Option(names = "--rows-per-pass", paramLabel = "N", defaultValue = "" + TeacherForcing.DEFAULT_ROWS,
            description = "Tokens per forward pass of teacher forcing (default: ${DEFAULT-VALUE}); the host holds N × vocab logits per model.")
    int rowsPerPass;

    void check() {
        if (limit != null && limit < 1) throw new BadInputException("--limit must be at least 1, is " + limit);
        if (rowsPerPass < 1) throw new BadInputException("--rows-per-pass must be at least 1, is " + rowsPerPass);
    }

    /** The trajectories, checked against the models' shared vocabulary. */
    List<Trajectory> load(ModelSet set) {
        List<Trajectory> ts;
        if (Files.isDirectory(trajectories)) {
            int[] skipped = {0};
            var tok = set.requireTokenizer("re-encoding a run folder's completions");
            ts = RunTrajectories.read(trajectories, (fmt, q) -> Prompts.encode(set, fmt, q), text -> tok.encode(text, false), limit, skipped);
            if (skipped[0] > 0) System.err.println("note: " + skipped[0] + " samples with empty completions skipped");
        } else if (Files.isRegularFile(trajectories)) {
            ts = TrajectoryFile.read(trajectories);
            if (limit != null && ts.size() > limit) ts = ts.subList(0, limit);
        } else {
            throw new BadInputException("--trajectories " + trajectories + ": no such file or run folder");
        }
        TrajectoryFile.checkVocabulary(ts, set.sharedVocab());
        return ts;
    }

    /** Runs {@code models} over the trajectories, {@code analysis} seeing every position, with a progress bar. */
    void teacherForce(List<CausalLM> models, List<Trajectory> ts, Analysis analysis) {
        long total = 0;
        for (Trajectory t : ts) total += t.tokens().length;
        long[] done = {0};
        TeacherForcing forcing = new TeacherForcing(models, rowsPerPass); // refuses a pass too large before the bar starts
        try (ProgressBar bar = new ProgressBar("teacher forcing", total, "tokens", 1)) {
            forcing.run(ts, new TeacherForcing.Visitor() {
                @Override public void position(int t, int index, float[][] rows) {
                    analysis.position(t, index, rows);
                    if ((++done[0] & 63) == 0) bar.update(done[0]);
                }

                @Override public void finished(int t) { analysis.finished(t); }
            });
            bar.update(total);
        }
    }

    /** Prints the result (Markdown, or JSON with --json) and writes --out's files. */
    void emit(Analysis a) {
        PrintStream out = Stdout.utf8();
        if (json) out.println(AnalysisFiles.json(a.toJson()));
        else out.print(a.markdown());
        if (this.out != null) for (Path p : AnalysisFiles.write(a, this.out)) System.err.println("wrote " + p);
        out.flush();
    }
}
