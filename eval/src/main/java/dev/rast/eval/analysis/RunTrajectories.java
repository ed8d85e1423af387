package dev.rast.eval.analysis;

import dev.rast.analysis.Trajectory;
import dev.rast.engine.BadInputException;
import dev.rast.eval.data.Dataset;
import dev.rast.eval.data.Datasets;
import dev.rast.eval.report.RunDir;
import dev.rast.eval.report.RunSettings;
import dev.rast.eval.report.SampleRow;
import dev.rast.text.chat.PromptFormat;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The trajectories of a {@code rast eval} run folder. samples.jsonl keeps each sample's text, not its ids, so the
 * prompt is rendered again from the data set and the run's --format, and the completion is encoded again with the
 * tokenizer. Re-encoding text gives the canonical tokenization, which can differ from the ids sampled where a
 * model chose a non-canonical split (rare); the end-of-sequence id and a cut stop string are not in the text.
 */
public final class RunTrajectories {
    private RunTrajectories() {}

    /**
     * Up to {@code limit} samples (all when null) in file order. {@code promptIds} turns (format, question) into
     * prompt ids; {@code completionIds} the completion text into ids. Samples with empty completions are skipped
     * (nothing to analyse) and counted in {@code skipped}.
     */
    public static List<Trajectory> read(Path dir, BiFunction<PromptFormat, String, int[]> promptIds,
                                        Function<String, int[]> completionIds, Integer limit, int[] skipped) {
        RunDir run = new RunDir(dir);
        RunSettings settings = run.readSettings();
        PromptFormat format = PromptFormat.byName(settings.format());
        RunDir.Samples samples = run.readSamples();
        if (samples.rows().isEmpty()) throw new BadInputException(run.file(RunDir.SAMPLES) + ": no samples in the run folder");
        Map<String, Dataset> datasets = new HashMap<>();
        List<Trajectory> out = new ArrayList<>();
        for (int i = 0; i < samples.rows().size() && (limit == null || out.size() < limit); i++) {
            SampleRow s = samples.rows().get(i);
            String where = run.file(RunDir.SAMPLES) + " line " + samples.lines().get(i);
            int[] tokens = completionIds.apply(s.completion());
            if (tokens.length == 0) {
                skipped[0]++;
                continue;
            }
            Dataset d = datasets.computeIfAbsent(s.dataset(), Datasets::load);
            String question;
            try {
                question = d.problem(s.idx()).question();
            } catch (BadInputException e) {
                throw new BadInputException(where + ": " + e.getMessage());
            }
            out.add(new Trajectory(s.dataset() + " #" + s.idx() + " sample " + s.sample(), promptIds.apply(format, question), tokens));
        }
        return out;
    }

    /** A sample's text and length as the run recorded them, for analyses that read text only. */
    public record Completion(String id, String text, int tokens) {}

    public static List<Completion> completions(Path dir, Integer limit) {
        RunDir run = new RunDir(dir);
        run.readSettings(); // a missing or foreign folder is refused by name
        List<Completion> out = new ArrayList<>();
        for (SampleRow s : run.readSamples().rows()) {
            if (limit != null && out.size() >= limit) break;
            out.add(new Completion(s.dataset() + " #" + s.idx() + " sample " + s.sample(), s.completion(), s.tokens()));
        }
        if (out.isEmpty()) throw new BadInputException(run.file(RunDir.SAMPLES) + ": no samples in the run folder");
        return out;
    }
}
