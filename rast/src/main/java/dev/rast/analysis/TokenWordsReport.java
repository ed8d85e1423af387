package dev.rast.analysis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code rast analyze tokens}: the reasoning-word families and output lengths of several runs side by side, as JSON,
 * Markdown and an SVG bar chart. The JSON's {@code mean} and {@code per_sample} are the first run's (all families
 * per 1,000 words); {@code runs} has every run's figures.
 */
public final class TokenWordsReport {
    private final List<ReasoningWords.RunWords> runs;

    public TokenWordsReport(List<ReasoningWords.RunWords> runs) { this.runs = List.copyOf(runs); }

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        ReasoningWords.RunWords first = runs.getFirst();
        Summary s = first.perSample();
        m.put("kind", "tokens");
        m.put("mean", Summary.finite(s.mean()));
        m.put("ci95", s.toJson().get("ci95"));
        m.put("ci_method", Summary.CI_METHOD.replace("trajectories", "completions"));
        m.put("samples", s.n());
        m.put("families", familyWords());
        List<Map<String, Object>> rs = new ArrayList<>();
        for (ReasoningWords.RunWords r : runs) rs.add(runJson(r));
        m.put("runs", rs);
        m.put("per_sample", perSample(first));
        return m;
    }

    private static Map<String, Object> familyWords() {
        Map<String, Object> m = new LinkedHashMap<>();
        ReasoningWords.FAMILIES.forEach((k, v) -> m.put(k, v.stream().sorted().toList()));
        return m;
    }

    private static Map<String, Object> runJson(ReasoningWords.RunWords r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("run", r.label());
        m.put("samples", r.counts().size());
        m.put("words", r.words());
        Map<String, Object> per = new LinkedHashMap<>();
        int f = 0;
        for (String name : ReasoningWords.FAMILIES.keySet()) per.put(name, r.pooledPerThousand(f++));
        per.put("all", r.pooledAllPerThousand());
        m.put("per_1000_words", per);
        m.put("per_sample_per_1000_words", r.perSample().toJson());
        m.put("length_tokens", r.length().toJson());
        return m;
    }

    private static List<Map<String, Object>> perSample(ReasoningWords.RunWords r) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < r.counts().size(); i++) {
            ReasoningWords.Counts c = r.counts().get(i);
            Map<String, Object> m = Analysis.sample(r.ids().get(i), 1000.0 * c.reasoningWords() / Math.max(1, c.words()), r.lengths()[i]);
            m.put("words", c.words());
            int f = 0;
            for (String name : ReasoningWords.FAMILIES.keySet()) m.put(name, c.family()[f++]);
            out.add(m);
        }
        return out;
    }

    public String markdown() {
        StringBuilder b = new StringBuilder("# rast analyze tokens\n\nReasoning words per 1,000 words (pooled over each run's completions) and output length in tokens.\n\n");
        b.append("| run | samples | words |");
        for (String f : ReasoningWords.FAMILIES.keySet()) b.append(' ').append(f).append(" |");
        b.append(" all | mean length | 95% CI |\n|---|---:|---:|");
        b.append("---:|".repeat(ReasoningWords.FAMILIES.size())).append("---:|---:|---|\n");
        for (ReasoningWords.RunWords r : runs) {
            Summary len = r.length();
            b.append("| ").append(Analysis.cell(r.label())).append(" | ").append(r.counts().size()).append(" | ").append(r.words()).append(" |");
            for (int f = 0; f < ReasoningWords.FAMILIES.size(); f++) b.append(String.format(Locale.ROOT, " %.2f |", r.pooledPerThousand(f)));
            b.append(String.format(Locale.ROOT, " %.2f | %.1f | %s |%n", r.pooledAllPerThousand(), len.mean(),
                    Double.isFinite(len.ciLow()) ? String.format(Locale.ROOT, "[%.1f, %.1f]", len.ciLow(), len.ciHigh()) : "n/a"));
        }
        b.append("\nWords: ");
        ReasoningWords.FAMILIES.forEach((k, v) -> b.append(k).append(" (").append(String.join(", ", v.stream().sorted().toList())).append("); "));
        return b.append("\n").toString();
    }

    /** Two panels: each family's rate per run (grouped bars), and each run's mean length with its interval. */
    public String svg() {
        List<String> fams = new ArrayList<>(ReasoningWords.FAMILIES.keySet());
        fams.add("all");
        int n = runs.size(), W = 760, panelH = 280, legendH = 24 * ((n + 2) / 3) + 8, H = legendH + 2 * panelH;
        Svg svg = new Svg(W, H);
        for (int i = 0; i < n; i++) svg.legend(12 + (i % 3) * (W / 3), 18 + (i / 3) * 24, i, runs.get(i).label());
        double max = 0;
        double[][] v = new double[fams.size()][n];
        for (int f = 0; f < fams.size(); f++)
            for (int r = 0; r < n; r++) {
                v[f][r] = f < fams.size() - 1 ? runs.get(r).pooledPerThousand(f) : runs.get(r).pooledAllPerThousand();
                max = Math.max(max, v[f][r]);
            }
        svg.bars(legendH, panelH, "reasoning words per 1,000 words", fams, v, max, null);
        double[][] len = new double[1][n], err = new double[1][n];
        double maxLen = 0;
        for (int r = 0; r < n; r++) {
            Summary s = runs.get(r).length();
            len[0][r] = s.mean();
            err[0][r] = Double.isFinite(s.ciHigh()) ? s.ciHigh() - s.mean() : 0;
            maxLen = Math.max(maxLen, s.mean() + err[0][r]);
        }
        svg.bars(legendH + panelH, panelH, "mean output length (tokens, 95% CI)", List.of("length"), len, maxLen, err);
        return svg.end();
    }
}
