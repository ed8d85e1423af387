package dev.rast.cli;

import dev.rast.analysis.AnalysisFiles;
import dev.rast.analysis.Configuration;
import dev.rast.analysis.KlPage;
import dev.rast.analysis.TokenKl;
import dev.rast.analysis.Trajectory;
import dev.rast.analysis.TrajectoryFile;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.Models;
import dev.rast.engine.BadInputException;
import dev.rast.engine.backend.Backend;
import dev.rast.run.ModelSet;
import dev.rast.text.tokenizer.StreamingDecoder;
import dev.rast.text.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "kl", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Per-token KL divergence between two configurations along trajectories (§4.2).",
                "KL(P || Q) in nats at every position of each trajectory, P = M + Σ λ_i (E_i - B_i) with the --lambda values given, Q = the same models at"
                        + " --against-lambda (default 0 for every pair: M alone over the shared vocabulary), or"
                        + " --against-model DIR alone (then pairs are optional: KL(--model || DIR), e.g. an RL-trained model"
                        + " against its base). Prints the mean per token, the token strings with the largest mean KL, and"
                        + " with --out an HTML page per chosen trajectory, each token shaded by its KL (the paper's Fig. 5)."},
        footer = {"", "Example:",
                "  rast analyze kl --trajectories runs/rast-7b --model models/Qwen2.5-7B \\",
                "      --expert models/SimpleRL-Zoo-Qwen2.5-1.5B --expert-base models/Qwen2.5-1.5B --lambda 1 \\",
                "      --limit 50 --out analysis/kl --pages 0,1,2"})
final class AnalyzeKlCommand implements Callable<Integer> {
    @Mixin AnalyzeOptions analyze;
    @Mixin ModelOptions models;

    @Option(names = "--against-lambda", paramLabel = "L1,L2,...", split = ",",
            description = "Q's λ for each pair, in order (default: 0 for every pair, i.e. the base M).")
    List<Float> againstLambda;

    @Option(names = "--against-model", paramLabel = "DIR",
            description = "Q = this model alone over its whole row (e.g. the RL-trained large model against --model), instead of --against-lambda's fusion. It must share --model's tokenizer.")
    Path againstModel;

    @Option(names = "--top", paramLabel = "N", defaultValue = "20", description = "Token strings listed by mean KL (default: ${DEFAULT-VALUE}).")
    int top;

    @Option(names = "--min-count", paramLabel = "N", defaultValue = "3", description = "Occurrences a token string needs to be listed (default: ${DEFAULT-VALUE}).")
    int minCount;

    @Option(names = "--pages", paramLabel = "I,J,...", split = ",",
            description = "With --out: trajectories (0-based, in input order) to draw as HTML pages (default: 0).")
    List<Integer> pages;

    @Mixin RuntimeOptions runtime;

    @Override
    public Integer call() {
        analyze.check();
        if (models.pairs.isEmpty() && againstModel == null)
            throw new BadInputException("kl compares two configurations: give an --expert/--expert-base pair (RAST against its base) or --against-model DIR");
        if (againstModel != null && againstLambda != null) throw new BadInputException("--against-model and --against-lambda both name Q: give one");
        if (top < 1) throw new BadInputException("--top must be at least 1, is " + top);
        if (minCount < 1) throw new BadInputException("--min-count must be at least 1, is " + minCount);
        if (pages != null && analyze.out == null) throw new BadInputException("--pages are written into --out DIR: give --out");
        try (Backend backend = runtime.open(); ModelSet set = models.load(backend, runtime.weights());
             CausalLM other = againstModel == null ? null : Models.load(againstModel, backend, runtime.weights())) {
            runtime.configure(set.models());
            List<CausalLM> all = new ArrayList<>(set.models());
            if (other != null) {
                runtime.configure(List.of(other));
                all.add(other);
            }
            List<Trajectory> ts = analyze.load(set);
            if (other != null) TrajectoryFile.checkVocabulary(ts, other.config().vocabSize());
            for (int i : pages == null ? List.<Integer>of() : pages) // checked before the models run, not after
                if (i < 0 || i >= ts.size())
                    throw new BadInputException("--pages " + i + ": there are " + ts.size() + " trajectories (0.." + (ts.size() - 1) + ")");
            int vocab = set.base().config().vocabSize();
            Tokenizer tok = set.tokenizer();
            TokenKl kl = new TokenKl(Configuration.fused(set.lambdas(), vocab), q(set, all.size() - 1, vocab), ts,
                    id -> tok == null ? "#" + id : tok.decode(new int[] {id})).top(top, minCount);
            analyze.teacherForce(all, ts, kl);
            analyze.emit(kl);
            if (analyze.out != null) writePages(kl, ts, tok);
        }
        return 0;
    }

    /** Q: the --against-model (row {@code last}), or the set's models at --against-lambda (default all 0). */
    private Configuration q(ModelSet set, int last, int vocab) {
        if (againstModel != null)
            return Configuration.model(last, againstModel.getFileName() == null ? againstModel.toString() : againstModel.getFileName().toString());
        float[] q = new float[set.pairs().size()];
        if (againstLambda != null) {
            if (againstLambda.size() != q.length)
                throw new BadInputException("--against-lambda has " + againstLambda.size() + " values for " + q.length + " expert pairs");
            for (int i = 0; i < q.length; i++) q[i] = againstLambda.get(i);
        }
        return Configuration.fused(q, vocab);
    }

    private void writePages(TokenKl kl, List<Trajectory> ts, Tokenizer tok) {
        for (int i : pages == null ? List.of(0) : pages) {
            Trajectory t = ts.get(i);
            Path f = analyze.out.resolve("kl-" + i + ".html");
            AnalysisFiles.write(f, KlPage.render("KL per token: " + t.id(), "P = " + kl.toJson().get("p") + ", Q = " + kl.toJson().get("q"),
                    tok == null ? ids(t.prompt()) + " | " : tok.decode(t.prompt()), t, pieces(t, tok), kl.perPosition(i)));
            System.err.println("wrote " + f);
        }
    }

    /** Each token's text as it appears in the completion (streamed, so multi-byte characters land whole). */
    private static String[] pieces(Trajectory t, Tokenizer tok) {
        String[] out = new String[t.tokens().length];
        if (tok == null) {
            for (int i = 0; i < out.length; i++) out[i] = "#" + t.tokens()[i] + " ";
            return out;
        }
        StreamingDecoder d = tok.streamingDecoder(false);
        for (int i = 0; i < out.length; i++) out[i] = d.push(t.tokens()[i]);
        out[out.length - 1] += d.flush();
        return out;
    }

    private static String ids(int[] ids) { return String.join(" ", Arrays.stream(ids).mapToObj(id -> "#" + id).toList()); }
}
