package dev.rast.eval.report;

import dev.rast.engine.BadInputException;
import dev.rast.engine.files.AtomicFiles;
import dev.rast.engine.json.Json;
import dev.rast.eval.data.Datasets;
import dev.rast.eval.metrics.Metrics;
import dev.rast.eval.metrics.Metrics.Vote;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The report of one run folder: per data set, pass@1 averaged over the n samples (the paper's "Avg."), pass@k
 * (unbiased estimator), maj@k and the mean response length, computed over the problems that have all n samples.
 * {@link #write(Path)} is what {@code rast eval} calls at the end of a run and {@code rast report} per folder.
 */
public final class Report {
    private Report() {}

    /** Seed of the random sample draws behind maj@k (fixed, so the same samples always give the same report). */
    public static final long MAJORITY_SEED = 0;

    /** Metrics of one data set in one run; rates are percentages (NaN when no problem is complete). */
    public record DatasetStats(String dataset, int problems, int incomplete, int n, double pass1Avg,
                               Map<Integer, Double> passAtK, Map<Integer, Double> majAtK, double meanTokens,
                               int noPrediction) {}

    /** A run's report: where it came from, its settings, and one entry per data set found in its samples. */
    public record RunReport(Path dir, RunSettings settings, List<DatasetStats> datasets, boolean tornTail) {
        public String label() { return dir.getFileName() == null ? dir.toString() : dir.getFileName().toString(); }

        public DatasetStats dataset(String name) {
            for (DatasetStats d : datasets) if (d.dataset().equals(name)) return d;
            return null;
        }
    }

    /** Computes and writes report.md and report.json into the run folder; returns the numbers. */
    public static RunReport write(Path runDir) {
        RunReport r = compute(runDir);
        RunDir rd = new RunDir(runDir);
        RunDir.write(rd.file(RunDir.REPORT_MD), ReportFormat.markdown(r), AtomicFiles.Durability.RENAMED);
        RunDir.write(rd.file(RunDir.REPORT_JSON), Json.pretty(ReportFormat.json(r)), AtomicFiles.Durability.RENAMED);
        return r;
    }

    /** Reads a run folder and computes its report without writing anything. */
    public static RunReport compute(Path runDir) {
        RunDir rd = new RunDir(runDir);
        RunSettings settings = rd.readSettings();
        RunDir.Samples samples = rd.readSamples();
        int n = settings.n();
        // dataset -> idx -> sample -> its row; the first line for a (dataset, idx, sample) wins. Only the rows there
        // are held: room for n per problem would be n × the problems however few samples the file has.
        Map<String, Map<Integer, Map<Integer, SampleRow>>> byDataset = new TreeMap<>(DATASET_ORDER);
        for (int i = 0; i < samples.rows().size(); i++) {
            SampleRow s = samples.rows().get(i);
            if (s.sample() < 0 || s.sample() >= n)
                throw new BadInputException(rd.file(RunDir.SAMPLES) + " line " + samples.lines().get(i) + ": sample " + s.sample() + " of " + s.dataset()
                        + " idx " + s.idx() + " is outside 0.." + (n - 1) + " (n = " + n + " in settings.json)");
            byDataset.computeIfAbsent(s.dataset(), k -> new TreeMap<>()).computeIfAbsent(s.idx(), k -> new HashMap<>())
                    .putIfAbsent(s.sample(), s);
        }
        List<DatasetStats> stats = new ArrayList<>();
        for (Map.Entry<String, Map<Integer, Map<Integer, SampleRow>>> e : byDataset.entrySet()) stats.add(stats(e.getKey(), e.getValue(), n));
        return new RunReport(runDir, settings, stats, samples.tornTail());
    }

    /** Built-in data sets in the paper's order, then others by name. */
    static final Comparator<String> DATASET_ORDER = Comparator
            .comparingInt((String d) -> Datasets.isBuiltin(d) ? Datasets.names().indexOf(d) : Integer.MAX_VALUE)
            .thenComparing(Comparator.naturalOrder());

    private static DatasetStats stats(String dataset, Map<Integer, Map<Integer, SampleRow>> problems, int n) {
        List<boolean[]> verdicts = new ArrayList<>();
        List<List<Vote>> votes = new ArrayList<>();
        List<Integer> lengths = new ArrayList<>();
        int incomplete = 0, noPred = 0;
        for (Map<Integer, SampleRow> bySample : problems.values()) {
            if (bySample.size() < n) { incomplete++; continue; } // samples are 0..n-1 (checked above): all n there
            SampleRow[] rows = new SampleRow[n];
            for (SampleRow r : bySample.values()) rows[r.sample()] = r;
            boolean[] v = new boolean[n];
            List<Vote> vs = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                v[i] = rows[i].correct();
                vs.add(new Vote(rows[i].pred(), rows[i].correct()));
                lengths.add(rows[i].tokens());
                if (rows[i].pred() == null || rows[i].pred().isEmpty()) noPred++; // null: empty completion; "": nothing extracted
            }
            verdicts.add(v);
            votes.add(vs);
        }
        int[] correct = new int[verdicts.size()];
        for (int p = 0; p < correct.length; p++) for (boolean b : verdicts.get(p)) if (b) correct[p]++;
        Map<Integer, Double> pass = new LinkedHashMap<>(), maj = new LinkedHashMap<>();
        for (int k : Metrics.kValues(n)) {
            pass.put(k, 100 * Metrics.meanPassAtK(correct, n, k));
            maj.put(k, 100 * Metrics.majorityAtK(votes, n, k, MAJORITY_SEED));
        }
        int[] tok = lengths.stream().mapToInt(Integer::intValue).toArray();
        return new DatasetStats(dataset, verdicts.size(), incomplete, n, 100 * Metrics.pass1Average(verdicts), pass, maj,
                Metrics.meanLength(tok), noPred);
    }
}
