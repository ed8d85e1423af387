package dev.rast.cli;

import dev.rast.engine.backend.Backend;
import dev.rast.text.chat.PromptFormat;
import dev.rast.engine.generate.Generator;
import dev.rast.engine.sample.Sampler;
import dev.rast.engine.sample.SamplingParams;
import dev.rast.engine.tensor.DType;
import dev.rast.text.tokenizer.Tokenizer;
import dev.rast.run.Lockstep;
import dev.rast.run.ModelSet;
import dev.rast.synth.SynthArch;
import dev.rast.synth.Synthesizer;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run RAST on the pocket lab (no download): tiny Qwen2 models trained on multi-step word problems by",
                "scripts/lab/train.py and shipped in this jar (docs/lab.md): a large base M, a small base B, E = B after RL",
                "and M_RL = M after the same RL. Shows one test problem answered by M alone and by M + λ·(E − B) side by",
                "side, then greedy accuracy on the test split for B, E, M, M_RL and RAST at each λ, with the recovery rate",
                "(acc_RAST − acc_M)/(acc_M_RL − acc_M).",
                "With --random: the mechanics on a random-weight trio built with `rast synth` (the text is noise): where",
                "the expert delta changed M's top token, step by step, with fused vs base log-probabilities."},
        footer = {"", "Examples:", "  rast demo", "  rast demo --lambdas 0.5,1,2,3 --problem 7",
                "  rast demo --random --lambda 2 --max-tokens 32 --prompt 'What is 7 times 8?'"})
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--cache", paramLabel = "DIR", description = "Where the demo models live (default: $XDG_CACHE_HOME/rast/demo or ~/.cache/rast/demo).")
    Path cache;

    @Option(names = "--random", description = "The random-weight demo (rast synth models) instead of the lab.")
    boolean random;

    @Option(names = "--lambda", paramLabel = "L", defaultValue = "1.0", description = "Weight of the expert delta in the side-by-side example (default: ${DEFAULT-VALUE}).")
    float lambda;

    @Option(names = "--lambdas", paramLabel = "L,...", split = ",", defaultValue = "0.5,1,2",
            description = "Lab: the λ values whose test accuracy is measured (default: ${DEFAULT-VALUE}).")
    float[] lambdas;

    @Option(names = "--max-tokens", paramLabel = "N", description = "Tokens to generate per answer (default: 96 for the lab, 24 with --random).")
    Integer maxTokens;

    @Option(names = "--limit", paramLabel = "N", description = "Lab: only the first N test problems (default: all).")
    Integer limit;

    @Option(names = "--problem", paramLabel = "IDX", description = "Lab: the test problem of the side-by-side example (default: the first M gets wrong and RAST right).")
    Integer problem;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "Question of the example, in the qwen-boxed format (default: a test problem; with --random: \"What is 7 times 8?\").")
    String prompt;

    @Mixin RuntimeOptions runtime;

    @Override
    public Integer call() throws Exception {
        int maxTokens = this.maxTokens != null ? this.maxTokens : random ? 24 : 96;
        if (maxTokens < 1) throw new dev.rast.engine.BadInputException("--max-tokens must be at least 1, is " + maxTokens);
        if (!Float.isFinite(lambda)) throw new dev.rast.engine.BadInputException("--lambda must be a finite number, is " + lambda);
        runtime.threadCount(); // checked before the models are built, not after
        if (!random) {
            for (float l : lambdas)
                if (!Float.isFinite(l)) throw new dev.rast.engine.BadInputException("--lambdas: every λ must be a finite number, one is " + l);
            if (limit != null && limit < 1) throw new dev.rast.engine.BadInputException("--limit must be at least 1, is " + limit);
            if (problem != null && problem < 0) throw new dev.rast.engine.BadInputException("--problem must be 0 or more, is " + problem);
            if (prompt != null && prompt.isBlank()) throw new dev.rast.engine.BadInputException("--prompt is empty");
        }
        Path dir = cache != null ? cache : defaultCache();
        try {
            Files.createDirectories(dir);
        } catch (java.io.IOException | UnsupportedOperationException e) {
            throw new dev.rast.engine.BadInputException("--cache " + dir + ": cannot use it as a folder for the demo models ("
                    + (e instanceof java.nio.file.FileAlreadyExistsException ? "a file is in the way" : e.getClass().getSimpleName() + ": " + e.getMessage()) + ")");
        }

        if (!random) {
            LabModels.Lab lab = LabModels.extract(dir);
            PrintStream out = Stdout.utf8();
            try (Backend backend = runtime.open()) {
                new LabDemo(lab, backend, runtime, maxTokens).run(out, lambda, lambdas, limit, problem, prompt);
            }
            out.flush();
            return 0;
        }
        String prompt = this.prompt != null ? this.prompt : "What is 7 times 8?";
        Path m = ensure(dir.resolve("M-qwen2.5-0.5b-bf16"), "qwen2.5-0.5b", DType.BF16, 1);
        Path e = ensure(dir.resolve("E-tiny-f32"), "tiny", DType.F32, 2);
        Path b = ensure(dir.resolve("B-tiny-f32"), "tiny", DType.F32, 3);
        PrintStream out = Stdout.utf8();
        out.println("RAST demo: RANDOM weights (rast synth): the text below is noise; the mechanics are real.");
        out.printf("  M = %s%n  E = %s%n  B = %s%n  fused logits = M + %.2f·(E − B), greedy, %d tokens%n%n", m, e, b, lambda, maxTokens);
        try (Backend backend = runtime.open();
             ModelSet set = ModelSet.load(m, List.of(new ModelSet.Pair(e, b, lambda)), null, false, backend, runtime.weights())) {
            runtime.configure(set.models());
            Tokenizer tok = set.tokenizer();
            int[] ids = Prompts.encode(set, PromptFormat.QWEN_BOXED, prompt);
            int shared = set.sharedVocab();
            List<Step> steps = new ArrayList<>();
            float[] baseRow = new float[set.base().config().vocabSize()];
            Generator.Fusion rast = set.fusion();
            Generator.Fusion watching = (s, rows) -> {
                System.arraycopy(rows[0], 0, baseRow, 0, baseRow.length);
                return rast.fuse(s, rows);
            };
            Sampler greedy = new Sampler(SamplingParams.greedy());
            List<Double> fusedLp = new ArrayList<>();
            Generator.TokenChooser chooser = (s, row) -> {
                Sampler.Choice c = greedy.sample(row, null);
                fusedLp.add(c.logprob());
                java.util.Arrays.fill(baseRow, shared, baseRow.length, Float.NEGATIVE_INFINITY);
                steps.add(new Step(Sampler.argmax(baseRow), greedy.logprob(baseRow, c.token())));
                return c.token();
            };
            long t0 = System.nanoTime();
            int[] gen = Lockstep.generator(set.models(), watching).generate(ids, 1, maxTokens, Set.of(), chooser, null)[0];
            double secs = (System.nanoTime() - t0) / 1e9;
            out.printf("prompt: %d tokens (qwen-boxed format)%n%n", ids.length);
            out.println(" step  chosen token (fused)        M's own top token            logp fused  logp M");
            int changed = 0;
            for (int t = 0; t < gen.length; t++) {
                int baseTop = steps.get(t).baseTop();
                boolean diff = baseTop != gen[t];
                if (diff) changed++;
                out.printf(Locale.ROOT, "%5d  %-26s %s %-26s %10.3f  %7.3f%n", t, show(tok, gen[t]), diff ? "≠" : "=",
                        show(tok, baseTop), fusedLp.get(t), steps.get(t).baseLogprob());
            }
            out.printf(Locale.ROOT, "%nThe expert delta changed M's top token at %d of %d steps (λ = %.2f).%n", changed, gen.length, lambda);
            out.printf(Locale.ROOT, "Generated %d tokens with three models in lockstep in %.2f s (%.1f tok/s; the prompt and the JIT's"
                    + " first compilations included, see `rast bench` for speed).%n", gen.length, secs, gen.length / secs);
            var decoder = tok.streamingDecoder(true); // the decoder of generated ids: padding ids add nothing, as in HF
            StringBuilder text = new StringBuilder();
            for (int id : gen) text.append(decoder.push(id));
            out.println("Text: " + text.append(decoder.flush()).toString().replace("\n", "\\n"));
            out.println("\nReal models: see README.md (\"Running RAST on real checkpoints\").");
            out.flush();
        }
        return 0;
    }

    /** What M alone would have done at a step: its top token, and its log-probability of the token chosen. */
    private record Step(int baseTop, double baseLogprob) {}

    private static String show(Tokenizer tok, int id) {
        if (tok.token(id) == null) return "(padding id " + id + ")"; // a model row past the tokenizer
        String s = tok.decode(new int[] {id});
        s = s.replace("\n", "\\n").replace("\t", "\\t");
        s = s.codePoints().mapToObj(c -> Character.isISOControl(c) ? "\\u" + Integer.toHexString(c) : Character.toString(c))
                .collect(java.util.stream.Collectors.joining());
        String label = "'" + s + "' (" + id + ")";
        return label.length() > 26 ? label.substring(0, 23) + "..." : label;
    }

    static Path defaultCache() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("rast").resolve("demo");
    }

    /** Synthesizes a model once; a folder whose model.safetensors exists is reused. */
    private static Path ensure(Path dir, String arch, DType dtype, long seed) throws Exception {
        if (Files.isRegularFile(dir.resolve("model.safetensors")) && Files.isRegularFile(dir.resolve("tokenizer.json"))) return dir;
        SynthArch a = SynthArch.byName(arch);
        long total = Synthesizer.plan(a, dtype, seed).totalBytes();
        Path tmp = dir.resolveSibling(dir.getFileName() + ".partial");
        try {
            try (ProgressBar bar = new ProgressBar("demo: synth " + arch, total, "MB", 1e6)) {
                Synthesizer.write(a, dtype, seed, tmp, bar::update);
            }
            // Renamed only when complete, so an interrupted build is redone rather than used half-written.
            Files.move(tmp, dir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (java.io.IOException e) {
            throw new dev.rast.engine.BadInputException("cannot build the demo model " + dir + " (choose another folder with --cache): "
                    + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        return dir;
    }
}
