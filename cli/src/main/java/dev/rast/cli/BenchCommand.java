package dev.rast.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.rast.engine.BadInputException;
import dev.rast.engine.JavaHeap;
import dev.rast.engine.backend.Backend;
import dev.rast.engine.backend.DeviceLogits;
import dev.rast.engine.sample.SamplingParams;
import dev.rast.engine.generate.Generator;
import dev.rast.engine.json.Json;
import dev.rast.run.Lockstep;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.KvCache;
import dev.rast.engine.model.Models;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = BenchServeCommand.class,
        description = {"Measure prefill and decode speed: tokens/s, and the GB/s of weights a decode step reads.",
                "Runs one warm-up pass (JIT compilation), then --runs timed passes; prints the median.",
                "On the CPU it also measures the machine's limits with the same threads (a bare read of the model's weights,",
                "passes spread among the timed decode steps, their median; a register-only FMA loop) and prints decode (its median",
                "step) against the first,",
                "prefill and batches against the second.",
                "With --batch N, also N samples decoding together after one prefill (KV caches forked from it):",
                "decode tokens/s over all N sequences, and its ratio to single-sequence decode.",
                "With --expert/--expert-base pairs, also a RAST step (every model steps, logits fused, token chosen)",
                "against the sum of the models' single-model steps; with --batch N as well, N samples decoding",
                "together through the whole RAST step (every model batched), against one fused sequence."},
        footer = {"", "Example:", "  rast synth --arch qwen2.5-0.5b --dtype bf16 --out /tmp/q05",
                "  rast bench --model /tmp/q05 --prompt-len 128 --gen 64 --batch 32",
                "  rast bench --model /tmp/q05 --expert /tmp/tinyE --expert-base /tmp/tinyB --gen 32",
                "  rast bench serve --model /tmp/q05 --concurrency 1,8,32   # the HTTP server: tokens/s, TTFT, ITL"})
final class BenchCommand implements Callable<Integer> {
    // Not required by picocli, which would then ask it of `rast bench serve` too: checked in call().
    @Option(names = "--model", paramLabel = "DIR", description = "The model (required)." + ModelFolders.HELP)
    Path model;

    @Option(names = "--prompt-len", paramLabel = "N", defaultValue = "128", description = "Prompt tokens to prefill (default: ${DEFAULT-VALUE}).")
    int promptLen;

    @Option(names = "--gen", paramLabel = "N", defaultValue = "64", description = "Tokens to decode (default: ${DEFAULT-VALUE}).")
    int gen;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "3", description = "Timed passes (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1",
            description = "Also measure N sequences decoding together after one prefill + fork (default: ${DEFAULT-VALUE}: off).")
    int batch;

    @ArgGroup(exclusive = false, multiplicity = "0..*", heading = "RAST: also time a fused step of --model with these pairs:%n")
    List<ModelOptions.PairOptions> pairs = new ArrayList<>();

    @Option(names = "--json", description = "Print one JSON line with the figures.")
    boolean json;

    @Mixin RuntimeOptions runtime;

    @Override
    public Integer call() {
        if (model == null) throw new BadInputException("Missing required option: '--model=DIR'");
        if (promptLen < 1 || gen < 1 || runs < 1 || batch < 1)
            throw new BadInputException("--prompt-len, --gen, --runs and --batch must be at least 1");
        try (Backend backend = runtime.open(); CausalLM m = Models.load(ModelFolders.model(model), backend, runtime.weights())) {
            runtime.configure(List.of(m));
            int V = m.config().vocabSize();
            checkSizes(m);
            SplittableRandom rnd = new SplittableRandom(42);
            int[] prompt = new int[promptLen];
            for (int i = 0; i < promptLen; i++) prompt[i] = rnd.nextInt(Math.min(V, 100_000));
            float[] logits = new float[V];
            double[] prefill = new double[runs], decode = new double[runs], batched = new double[runs], fork = new double[runs];
            double[] stepMs = new double[runs]; // each run's median decode step
            double[] stepNs = new double[gen];
            dev.rast.kernels.cpu.CpuLimits.ReadLimit read = readLimit(m);
            for (int r = -1; r < runs; r++) { // r = -1: warm-up
                try (KvCache cache = m.newCache(promptLen + gen)) {
                    cache.reserve(promptLen + gen); // allocate it all now: a cache growing mid-run would be timed
                    long t0 = System.nanoTime();
                    Tensor l = m.forward(prompt, cache, 1);
                    int next = argmax(backend, l, logits);
                    long t1 = System.nanoTime();
                    for (int i = 0; i < gen; i++) {
                        long s0 = System.nanoTime();
                        l = m.forward(new int[] {next}, cache, 1);
                        next = argmax(backend, l, logits);
                        stepNs[i] = System.nanoTime() - s0;
                        // min(gen, READ_PASSES_PER_RUN) bare-read passes spread evenly, between steps: outside their time
                        if (read != null && r >= 0 && (long) (i + 1) * READ_PASSES_PER_RUN / gen > (long) i * READ_PASSES_PER_RUN / gen)
                            read.sample();
                    }
                    if (r >= 0) {
                        prefill[r] = promptLen / ((t1 - t0) / 1e9);
                        decode[r] = gen / (java.util.Arrays.stream(stepNs).sum() / 1e9);
                        stepMs[r] = median(stepNs) / 1e6;
                    }
                }
                if (batch > 1) {
                    double[] t = lockstepDecode(List.of(m), Generator.Fusion.FIRST, new float[0], batch, prompt);
                    if (r >= 0) { fork[r] = t[0]; batched[r] = batch * 1e3 / t[1]; }
                }
                if (!json) System.err.print(r < 0 ? "warm-up done\n" : "run " + (r + 1) + "/" + runs + " done\n");
            }
            double p = median(prefill), d = median(decode), bd = median(batched), fk = median(fork);
            double gbs = d * m.weightBytes() / 1e9;
            // Against the bare read: the median step, as the limit is the median pass (a step or a pass that lost its
            // core to another tenant is left out of both); tok/s stays the mean rate, slow steps included.
            double stepMedian = median(stepMs), stepGbs = m.weightBytes() / 1e9 / (stepMedian / 1e3);
            // A decode step computes the LM head for its token; a prefill only for the last of its prompt's tokens.
            double flopsPerToken = matmulFlops(m.config(), 1, 1);
            double prefillFlopsPerToken = matmulFlops(m.config(), promptLen, 1) / promptLen;
            // With --json everything goes on one line: the RAST figures are measured first.
            Json.Body rastJson = json && !pairs.isEmpty() ? fusedBench(backend, m, prompt) : null;
            Limits lim = read == null ? null : Limits.of(read, m.weightDtype());
            if (json) {
                System.out.println(Json.write(Json.Layout.LINE, g -> {
                    g.writeStartObject();
                    g.writeStringField("model", model.toString());
                    g.writeStringField("backend", backend.name());
                    g.writeStringField("weights", m.weightDtype().name().toLowerCase(java.util.Locale.ROOT));
                    g.writeStringField("kv_cache", kvName(m));
                    g.writeStringField("sampling", deviceSampling() && backend instanceof DeviceLogits ? "device" : "host");
                    g.writeNumberField("prompt_len", promptLen);
                    g.writeNumberField("gen", gen);
                    fixed(g, "prefill_tok_s", 2, p);
                    fixed(g, "decode_tok_s", 2, d);
                    fixed(g, "decode_gb_s", 2, gbs);
                    fixed(g, "decode_median_step_ms", 3, stepMedian);
                    g.writeNumberField("bytes_per_token", m.weightBytes());
                    fixed(g, "prefill_gflop_s", 4, p * prefillFlopsPerToken / 1e9);
                    if (batch != 1) {
                        g.writeNumberField("batch", batch);
                        fixed(g, "batch_prefill_fork_ms", 1, fk);
                        fixed(g, "batch_decode_tok_s", 2, bd);
                        fixed(g, "batch_speedup", 2, bd / d);
                        fixed(g, "batch_gflop_s", 4, bd * flopsPerToken / 1e9);
                    }
                    if (lim != null) {
                        fixed(g, "read_limit_gb_s", 2, lim.readGBs());
                        fixed(g, "read_limit_min_gb_s", 2, lim.read().worst());
                        fixed(g, "read_limit_max_gb_s", 2, lim.read().best());
                        g.writeNumberField("read_limit_passes", lim.read().count());
                        fixed(g, lim.int16() ? "int16_mac_peak_gop_s" : "fma_peak_gflop_s", 1, lim.peak());
                    }
                    if (rastJson != null) rastJson.write(g);
                    g.writeEndObject();
                }));
            } else {
                System.out.printf(java.util.Locale.ROOT, "model    %s (%s, %s, %.2f GB read per decode step)%n", model,
                        m.config().architecture(), m.weightDtype().torchName(), m.weightBytes() / 1e9);
                System.out.printf(java.util.Locale.ROOT, "backend  %s, KV cache %s (%.1f KB per token)%n", backend.name(), kvName(m),
                        m.kvCacheBytesPerToken() / 1e3);
                if (lim != null)
                    System.out.printf(java.util.Locale.ROOT, "limits   bare read of the weights %s, %s %.0f %s (%d threads, measured now)%n",
                            lim.read().describe("among the timed decode steps"), lim.peakName(), lim.peak(), lim.unit(), lim.read().threads());
                System.out.printf(java.util.Locale.ROOT, "prefill  %d tokens: %8.1f tok/s  (%.0f ms, %s)%n", promptLen, p, promptLen / p * 1e3,
                        ofPeak(p * prefillFlopsPerToken / 1e9, lim));
                System.out.printf(java.util.Locale.ROOT, "decode   %d tokens: %8.1f tok/s  (%.1f ms/token, %s)%n", gen, d, 1e3 / d,
                        m.weightBytes() < CACHE_RESIDENT_BYTES
                                ? String.format(java.util.Locale.ROOT, "%.1f GB/s of weights; too small a model to compare with the bare read", gbs)
                                : String.format(java.util.Locale.ROOT, "%.1f GB/s of weights; median step %.1f ms: %s", gbs, stepMedian,
                                        ofLimit(stepGbs, "GB/s", lim == null ? 0 : lim.readGBs(), "bare read")));
                if (batch > 1) {
                    System.out.printf(java.util.Locale.ROOT, "batch    %d sequences: prefill + fork %.0f ms, then %d steps%n", batch, fk, gen);
                    System.out.printf(java.util.Locale.ROOT, "decode   %d × %d tokens: %8.1f tok/s  (%.1f ms/step, %.2f× single-sequence decode, %s)%n",
                            batch, gen, bd, batch * 1e3 / bd, bd / d,
                            ofPeak(bd * flopsPerToken / 1e9, lim));
                }
            }
            if (!json && !pairs.isEmpty()) fusedBench(backend, m, prompt);
        }
        return 0;
    }

    /**
     * Refuses, before any of it is made, what would not fit: the prompt's ids, the timings of --runs and the logits
     * rows of --batch sequences on the Java heap, and the KV caches of --prompt-len + --gen tokens for each sequence
     * in the backend's memory (each model of a RAST step has its own).
     */
    private void checkSizes(CausalLM m) {
        int models = 1 + 2 * pairs.size();
        String sizes = "--prompt-len " + promptLen + " and --gen " + gen + (batch > 1 ? " with --batch " + batch : "");
        double tokens = (double) promptLen + gen;
        if (tokens > Integer.MAX_VALUE)
            throw new BadInputException(sizes + ": " + (long) tokens + " positions, more than a KV cache holds (" + Integer.MAX_VALUE + ")");
        JavaHeap.require(4.0 * promptLen, "--prompt-len " + promptLen + " (the prompt's ids)", "lower --prompt-len");
        JavaHeap.require(8.0 * 4 * runs * models, "--runs " + runs + " (their timings)", "lower --runs");
        JavaHeap.require(4.0 * batch * m.config().vocabSize() * models,
                "--batch " + batch + " (a logits row per sequence and model)", "lower --batch");
        long free = m.backend().freeMemoryBytes();
        double kv = (double) m.kvCacheBytesPerToken() * models * tokens * batch;
        if (free >= 0 && kv > free)
            throw new BadInputException(String.format(java.util.Locale.ROOT, "%s: the KV caches would need %s, %s is free: lower them",
                    sizes, JavaHeap.size(kv), JavaHeap.size(free)));
    }

    /** A field with {@code decimals} digits after the point, as printf's %f writes it; null when not finite. */
    private static void fixed(JsonGenerator g, String name, int decimals, double v) throws java.io.IOException {
        g.writeFieldName(name);
        Json.writeFormatted(g, v, "%." + decimals + "f");
    }

    private static String kvName(CausalLM m) { return m.kvCacheDtype().name().toLowerCase(java.util.Locale.ROOT); }

    /**
     * RAST's cost: a fused step (every model's decode step, the fusion, the greedy choice) against the sum of the
     * same models' single-model steps, all measured here the same way (Lockstep with one sequence, prefill then
     * --gen steps), median of --runs after a warm-up. Prints the figures, or with --json returns what writes them as
     * fields of the one JSON line the command prints.
     */
    private Json.Body fusedBench(Backend backend, CausalLM base, int[] prompt) {
        List<CausalLM> all = new ArrayList<>(List.of(base));
        List<CausalLM> loaded = new ArrayList<>();
        float[] lambdas = new float[pairs.size()];
        try {
            for (int i = 0; i < pairs.size(); i++) {
                ModelOptions.PairOptions p = pairs.get(i);
                CausalLM e = Models.load(ModelFolders.model(p.expert), backend, runtime.weights()),
                        b = Models.load(ModelFolders.model(p.expertBase), backend, runtime.weights());
                loaded.add(e);
                loaded.add(b);
                runtime.configure(List.of(e, b));
                all.add(e);
                all.add(b);
                lambdas[i] = p.single();
            }
            for (CausalLM x : all) TokenIds.check("bench prompt", prompt, x.config().vocabSize());
            StringBuilder dtypes = new StringBuilder();  // each model's weights as loaded: --dtype's effect on the pair
            for (CausalLM x : all) dtypes.append(dtypes.isEmpty() ? "" : ", ").append(x.weightDtype().name().toLowerCase(java.util.Locale.ROOT));
            double sumSingles = 0;
            List<Double> singleMs = new ArrayList<>();
            StringBuilder singles = new StringBuilder();
            for (CausalLM x : all) {
                double ms = stepMs(List.of(x), Generator.Fusion.FIRST, new float[0], 1, prompt);
                sumSingles += ms;
                singleMs.add(ms);
                singles.append(String.format(java.util.Locale.ROOT, " %.1f", ms));
            }
            dev.rast.fusion.RastFusion rast = new dev.rast.fusion.RastFusion(lambdas);
            Generator.Fusion fusion = (seq, rows) -> rast.fuseInPlace(rows);
            double fused = stepMs(all, fusion, lambdas, 1, prompt);
            // RAST's sampling workload: n samples of one prompt, every model decoding them as one batch.
            double fusedBatch = batch > 1 ? stepMs(all, fusion, lambdas, batch, prompt) : 0;
            if (json) {
                double sum = sumSingles;
                return g -> {
                    g.writeNumberField("rast_models", all.size());
                    g.writeArrayFieldStart("rast_weights");
                    for (CausalLM x : all) g.writeString(x.weightDtype().name().toLowerCase(java.util.Locale.ROOT));
                    g.writeEndArray();
                    g.writeArrayFieldStart("single_step_ms");
                    for (double ms : singleMs) Json.writeFormatted(g, ms, "%.1f");
                    g.writeEndArray();
                    fixed(g, "sum_single_ms", 2, sum);
                    fixed(g, "fused_step_ms", 2, fused);
                    fixed(g, "fused_over_sum", 3, fused / sum);
                    if (batch != 1) {
                        g.writeNumberField("fused_batch", batch);
                        fixed(g, "fused_batch_step_ms", 2, fusedBatch);
                        fixed(g, "fused_batch_tok_s", 2, batch * 1e3 / fusedBatch);
                        fixed(g, "fused_batch_speedup", 2, batch * fused / fusedBatch);
                    }
                };
            } else {
                System.out.printf(java.util.Locale.ROOT, "rast     %d models (%s), single-model steps (ms):%s; sum %.1f ms%n", all.size(), dtypes,
                        singles, sumSingles);
                System.out.printf(java.util.Locale.ROOT, "rast     fused step %.1f ms = %.3f× the sum of single-model steps%n", fused, fused / sumSingles);
                if (batch > 1)
                    System.out.printf(java.util.Locale.ROOT, "rast     %d sequences fused: %.1f tok/s (%.1f ms/step, %.2f× one fused sequence)%n",
                            batch, batch * 1e3 / fusedBatch, fusedBatch, batch * fused / fusedBatch);
                return null;
            }
        } finally {
            loaded.forEach(CausalLM::close);
        }
    }

    /** Median ms per decode step of {@code models} in lockstep ({@code n} sequences), fused and chosen greedily. */
    private double stepMs(List<CausalLM> models, Generator.Fusion fusion, float[] lambdas, int n, int[] prompt) {
        double[] ms = new double[runs];
        for (int r = -1; r < runs; r++) {
            double[] t = lockstepDecode(models, fusion, lambdas, n, prompt);
            if (r >= 0) ms[r] = t[1];
        }
        return median(ms);
    }

    /**
     * {@code n} sequences of {@code models} in lockstep: one prefill of the prompt per model forked into every
     * sequence, then {@code --gen} steps decoding all of them together, each choosing the argmax of its fused row
     * (the downloads, the fusion and the choice are part of a step's cost). On a backend that can
     * ({@link Lockstep#deviceCapable}, unless {@code -Drast.sampling=host}), the fusion ({@code lambdas}, one per
     * pair) and the argmax run on the device, as in {@code rast generate}. Returns {prefill + fork ms, ms per step}.
     */
    private double[] lockstepDecode(List<CausalLM> models, Generator.Fusion fusion, float[] lambdas, int n, int[] prompt) {
        int[] all = new int[n], next = new int[n];
        int shared = Integer.MAX_VALUE;
        for (CausalLM x : models) shared = Math.min(shared, x.config().vocabSize());
        double[] draws = new double[n], logprobs = new double[n];
        SamplingParams greedy = SamplingParams.greedy();
        try (Lockstep ls = new Lockstep(models, null, deviceSampling())) {
            long t0 = System.nanoTime();
            all[0] = ls.start(prompt, promptLen + gen);
            for (int s = 1; s < n; s++) all[s] = ls.fork(all[0]);
            for (int s = 0; s < n; s++) // room for every step now, so that no cache grows during the timed steps
                for (int mi = 0; mi < models.size(); mi++) ls.cache(mi, all[s]).reserve(gen);
            long t1 = System.nanoTime();
            for (int i = 0; i < gen; i++) {
                if (ls.onDevice()) next = ls.choose(all, lambdas, shared, greedy, draws, logprobs);
                else for (int s = 0; s < n; s++) next[s] = Generator.argmax(fusion.fuse(s, ls.logits(all[s])));
                ls.step(all, next);
            }
            long t2 = System.nanoTime();
            return new double[] {(t1 - t0) / 1e6, (t2 - t1) / 1e6 / gen};
        }
    }

    /** Whether logits may stay on the device (the product path's default; {@code -Drast.sampling=host} forces the host). */
    private static boolean deviceSampling() { return !"host".equals(System.getProperty("rast.sampling", "device")); }

    /**
     * The next token of a single-sequence step, the argmax of its logits {@code l}: on the device when the backend
     * can (one id comes back), else from the row downloaded into {@code row}.
     */
    private static int argmax(Backend backend, Tensor l, float[] row) {
        if (deviceSampling() && backend instanceof DeviceLogits d)
            return d.choose(l, SamplingParams.greedy(), new double[1], new double[1])[0];
        backend.download(l, MemorySegment.ofArray(row));
        return Generator.argmax(row);
    }

    /**
     * Below this many weight bytes (a tiny test model) neither figure measures memory bandwidth: decode is bound by
     * per-op overheads and much of the read by the caches and the loop's own setup, so their ratio means nothing (the
     * tiny CI model's decode printed 966% of its bare read; another run of the same model 37%).
     */
    private static final long CACHE_RESIDENT_BYTES = 256L << 20;

    /**
     * The machine's limits, measured on the CPU backend's thread count: the bare read, and the arithmetic peak of the
     * weights' matmul kernels: the FMA loop, or for Q4_0 weights, whose kernels multiply and add in 16-bit integer
     * lanes (twice F32's per vector), the 16-bit multiply-add loop.
     */
    private record Limits(dev.rast.kernels.cpu.CpuLimits.ReadLimit read, double peak, boolean int16) {
        static Limits of(dev.rast.kernels.cpu.CpuLimits.ReadLimit read, DType weights) {
            boolean int16 = weights == DType.Q4_0;
            int t = read.threads();
            return new Limits(read, int16 ? dev.rast.kernels.cpu.CpuLimits.shortMacGops(t) : dev.rast.kernels.cpu.CpuLimits.fmaGflops(t), int16);
        }

        double readGBs() { return read.median(); }

        String peakName() { return int16 ? "16-bit multiply-add peak" : "FMA peak"; }

        /** GFLOP/s for F32 arithmetic, GOP/s for integer multiply-adds (a multiply and an add count one each, as an FMA counts two). */
        String unit() { return int16 ? "GOP/s" : "GFLOP/s"; }
    }

    /**
     * Passes of the bare read in each timed run (one after each step when --gen is smaller), spread evenly among its
     * decode steps and left out of their time: the limit is sampled in the same seconds as the decode it is compared with, as DecodeProfile
     * samples it. The machine's bandwidth moves within seconds (CpuLimits); passes taken only after each run left one
     * run's ratio at 56% and the next at 84% for the same build on a quiet host (docs/benchmarks.md, "Quiet minutes").
     */
    private static final int READ_PASSES_PER_RUN = 8;

    /**
     * The bare read of the memory a decode step reads (each weight's packed copy where the CPU backend made one, else
     * the mapped file), to be sampled among the timed decode steps; null on other backends.
     */
    private dev.rast.kernels.cpu.CpuLimits.ReadLimit readLimit(CausalLM m) {
        if (!(m.backend() instanceof dev.rast.kernels.cpu.CpuBackend cpu)) return null;
        java.util.List<java.lang.foreign.MemorySegment> read = new java.util.ArrayList<>();
        for (dev.rast.engine.tensor.Tensor t : m.decodeWeights()) read.add(t.prepared() != null ? t.prepared() : t.data());
        return new dev.rast.kernels.cpu.CpuLimits.ReadLimit(read, cpu);
    }

    /** "12.3 GB/s of weights, 45% of bare read", or just the figure when there is no limit to compare with. */
    /** A matmul rate in G multiply-add operations/s (2 per multiply-add), with its share of the arithmetic peak when measured. */
    private static String ofPeak(double gops, Limits lim) {
        return lim == null ? ofLimit(gops, "GFLOP/s", 0, "") : ofLimit(gops, lim.unit(), lim.peak(), lim.peakName());
    }

    private static String ofLimit(double value, String unit, double limit, String limitName) {
        String v = String.format(java.util.Locale.ROOT, "%.1f %s", value, unit);
        return limit > 0 ? v + String.format(java.util.Locale.ROOT, ", %.0f%% of %s", 100 * value / limit, limitName) : v;
    }

    /**
     * FLOPs of the matmuls (2 per multiply-add) of a forward pass over {@code tokens} tokens of which
     * {@code logitRows} go through the LM head: q, k, v, o, gate, up, down in every layer for each token, and the LM
     * head for each logit row. Attention's own FLOPs are left out (a few percent at these lengths).
     */
    static double matmulFlops(dev.rast.engine.config.ModelConfig c, int tokens, int logitRows) {
        double h = c.hiddenSize();
        double perLayer = h * c.qDim() + 2 * h * c.kvDim() + c.qDim() * h + 3 * h * c.intermediateSize();
        return 2 * ((double) tokens * c.numLayers() * perLayer + (double) logitRows * h * c.vocabSize());
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
