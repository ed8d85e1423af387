package dev.rast.eval.report;

import dev.rast.eval.metrics.Metrics;
import dev.rast.eval.report.Report.DatasetStats;
import dev.rast.eval.report.Report.RunReport;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Reports as text: Markdown for people (one decimal, like the paper), JSON with full precision for programs. */
public final class ReportFormat {
    private ReportFormat() {}

    static String pct(double v) { return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.1f", v); }

    public static String markdown(RunReport r) {
        StringBuilder sb = new StringBuilder();
        sb.append("# rast report: ").append(r.label()).append("\n\n");
        RunSettings s = r.settings();
        sb.append("| setting | value |\n|---|---|\n");
        row(sb, "model", s.model());
        for (int i = 0; i < s.experts().size(); i++) {
            RunSettings.Expert e = s.experts().get(i);
            String lambda = i < s.lambdas().size() ? ", λ = " + s.lambdas().get(i) : "";
            row(sb, "expert " + (i + 1), e.expert() + " (base " + e.base() + lambda + ")");
        }
        row(sb, "dataset", s.dataset());
        row(sb, "samples per problem (n)", s.n());
        row(sb, "temperature", s.temperature());
        row(sb, "top_p", s.topP());
        row(sb, "max_tokens", s.maxTokens());
        row(sb, "format", s.format());
        row(sb, "seed", s.seed());
        row(sb, "dtype (weights / KV cache)", s.dtype() + " / " + s.kvCacheDtype());
        if (s.limit() != null) row(sb, "limit", s.limit());
        sb.append('\n');
        List<Integer> ks = Metrics.kValues(s.n());
        sb.append("All rates in %. pass@k: unbiased estimator over the n samples; maj@k: vote over normalized predictions, ")
                .append("averaged over ").append(Metrics.MAJORITY_DRAWS).append(" random draws of k samples (one draw for k = n).\n\n");
        sb.append("| dataset | problems | pass@1 avg");
        for (int k : ks) sb.append(" | pass@").append(k);
        for (int k : ks) sb.append(" | maj@").append(k);
        sb.append(" | mean tokens | no answer |\n|---|---|---");
        sb.append("|---".repeat(2 * ks.size() + 2)).append("|\n");
        for (DatasetStats d : r.datasets()) {
            sb.append("| ").append(d.dataset()).append(" | ").append(d.problems()).append(" | ").append(pct(d.pass1Avg()));
            for (int k : ks) sb.append(" | ").append(pct(d.passAtK().get(k)));
            for (int k : ks) sb.append(" | ").append(pct(d.majAtK().get(k)));
            sb.append(" | ").append(pct(d.meanTokens())).append(" | ").append(d.noPrediction()).append(" |\n");
        }
        for (DatasetStats d : r.datasets()) {
            if (d.incomplete() > 0)
                sb.append("\n").append(d.dataset()).append(": ").append(d.incomplete())
                        .append(" problem(s) with fewer than n samples are left out (run not finished).");
        }
        if (r.tornTail()) sb.append("\nThe last line of samples.jsonl was cut off by an interrupted write and is ignored.");
        return sb.append('\n').toString();
    }

    private static void row(StringBuilder sb, String k, Object v) {
        sb.append("| ").append(k).append(" | ").append(v == null ? "" : v).append(" |\n");
    }

    public static Map<String, Object> json(RunReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("run", r.dir().toString());
        m.put("settings", r.settings().toJson());
        Map<String, Object> ds = new LinkedHashMap<>();
        for (DatasetStats d : r.datasets()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("problems", d.problems());
            x.put("incomplete_problems", d.incomplete());
            x.put("n", d.n());
            x.put("pass@1_avg", d.pass1Avg());
            x.put("pass@k", keyed(d.passAtK()));
            x.put("maj@k", keyed(d.majAtK()));
            x.put("mean_tokens", d.meanTokens());
            x.put("no_answer", d.noPrediction());
            ds.put(d.dataset(), x);
        }
        m.put("percent", true);
        m.put("datasets", ds);
        return m;
    }

    private static Map<String, Object> keyed(Map<Integer, Double> byK) {
        Map<String, Object> m = new LinkedHashMap<>();
        byK.forEach((k, v) -> m.put(Integer.toString(k), v));
        return m;
    }

    /** Data set names over all runs, in the report order. */
    static List<String> datasets(List<RunReport> runs) {
        Set<String> all = new java.util.TreeSet<>(Report.DATASET_ORDER);
        for (RunReport r : runs) for (DatasetStats d : r.datasets()) all.add(d.dataset());
        return new ArrayList<>(all);
    }

    /** Unique column labels: folder names, or whole paths where two folders share a name. */
    static List<String> labels(List<RunReport> runs) {
        List<String> names = new ArrayList<>();
        for (RunReport r : runs) names.add(r.label());
        Set<String> seen = new LinkedHashSet<>(), dup = new LinkedHashSet<>();
        for (String n : names) if (!seen.add(n)) dup.add(n);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) out.add(dup.contains(names.get(i)) ? runs.get(i).dir().toString() : names.get(i));
        return out;
    }

    /**
     * Side-by-side pass@1 avg of the runs (base and ceiling last when given) and, with both, the recovery rate
     * (acc − acc_base)/(acc_ceiling − acc_base) of each run per data set.
     */
    public static String comparison(List<RunReport> runs, RunReport base, RunReport ceiling) {
        List<RunReport> all = new ArrayList<>(runs);
        if (base != null) all.add(base);
        if (ceiling != null) all.add(ceiling);
        List<String> labels = labels(all);
        StringBuilder sb = new StringBuilder("pass@1 avg (%)\n\n| dataset");
        for (int i = 0; i < all.size(); i++) {
            String role = base != null && all.get(i) == base ? " (base)" : ceiling != null && all.get(i) == ceiling ? " (ceiling)" : "";
            sb.append(" | ").append(labels.get(i)).append(role);
        }
        sb.append(" |\n|---").append("|---".repeat(all.size())).append("|\n");
        List<String> names = datasets(all);
        for (String d : names) {
            sb.append("| ").append(d);
            for (RunReport r : all) sb.append(" | ").append(pct(acc(r, d)));
            sb.append(" |\n");
        }
        if (base != null && ceiling != null) {
            sb.append("\nrecovery rate (acc - base)/(ceiling - base)\n\n| dataset");
            for (int i = 0; i < runs.size(); i++) sb.append(" | ").append(labels.get(i));
            sb.append(" |\n|---").append("|---".repeat(runs.size())).append("|\n");
            for (String d : names) {
                sb.append("| ").append(d);
                for (RunReport r : runs) {
                    double rate = Metrics.recoveryRate(acc(r, d), acc(base, d), acc(ceiling, d));
                    sb.append(" | ").append(Double.isNaN(rate) ? "n/a" : String.format(Locale.ROOT, "%.3f", rate));
                }
                sb.append(" |\n");
            }
            // Each accuracy is over a run's complete problems: a base made with --limit, or a run not finished, covers
            // other problems than the rest, and its rate then compares unlike things. Say so rather than hide it.
            for (String d : names) {
                java.util.Set<Integer> counts = new java.util.TreeSet<>();
                StringBuilder who = new StringBuilder();
                for (int i = 0; i < all.size(); i++) {
                    DatasetStats st = all.get(i).dataset(d);
                    if (st == null) continue;
                    counts.add(st.problems());
                    who.append(who.isEmpty() ? "" : ", ").append(labels.get(i)).append(' ').append(st.problems());
                }
                if (counts.size() > 1)
                    sb.append("\nNote: on ").append(d).append(" the runs cover different numbers of complete problems (")
                            .append(who).append("), so these rates compare accuracies over different problems.\n");
            }
        }
        return sb.toString();
    }

    static double acc(RunReport r, String dataset) {
        DatasetStats d = r.dataset(dataset);
        return d == null ? Double.NaN : d.pass1Avg();
    }
}
