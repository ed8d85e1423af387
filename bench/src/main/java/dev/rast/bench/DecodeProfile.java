package dev.rast.bench;

import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.KvCache;
import dev.rast.engine.model.Models;
import dev.rast.engine.sample.Sampler;
import dev.rast.engine.tensor.Tensor;
import dev.rast.engine.weights.WeightDtype;
import dev.rast.kernels.cpu.CpuBackend;
import dev.rast.kernels.cpu.CpuLimits;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a decode step's time goes: loads a model on the CPU backend, prefills a prompt, then decodes greedily,
 * alternating steps on the plain backend (the step's real time) with steps through a {@link TimingBackend} (each
 * op's share), and prints per op: calls per step, µs per call, ms per step, share of the step, and for matmuls the
 * GB/s of weights against the bare read of the same weights ({@link CpuLimits.ReadLimit}: the median of one pass
 * after each pair of timed steps). What no op accounts for is the forward pass's own
 * Java (per layer: lists, workspace lookups) and the timing itself.
 *
 * <pre>
 *   scripts/bench/decode-profile.sh MODEL_DIR [--threads N] [--prompt N] [--steps N] [--dtype D] [--limits N] [--prefill N]
 * </pre>
 * {@code --limits N} prints N bare-read limits measured back to back instead, and their spread. {@code --prefill N}
 * profiles N prefills of the prompt instead of decode steps (each plain one alternating with a timed one, a fresh
 * cache each), matmuls with their GMAC/s.
 */
public final class DecodeProfile {
    private DecodeProfile() {}

    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: decode-profile MODEL_DIR [--threads N] [--prompt N] [--steps N] [--dtype auto|f32|bf16|q8_0|q4_0] [--limits N] [--prefill N]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        int threads = Runtime.getRuntime().availableProcessors(), promptLen = 128, steps = 64;
        WeightDtype dtype = WeightDtype.AUTO;
        int limits = 0, prefills = 0;
        for (int i = 1; i + 1 < args.length; i += 2)
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[i + 1]);
                case "--prompt" -> promptLen = Integer.parseInt(args[i + 1]);
                case "--steps" -> steps = Integer.parseInt(args[i + 1]);
                case "--dtype" -> dtype = WeightDtype.parse("--dtype", args[i + 1]);
                case "--limits" -> limits = Integer.parseInt(args[i + 1]);
                case "--prefill" -> prefills = Integer.parseInt(args[i + 1]);
                default -> { System.err.println("unknown option " + args[i]); System.exit(2); }
            }
        CpuBackend cpu = new CpuBackend(threads);
        TimingBackend timed = new TimingBackend(cpu);
        try (CausalLM plain = Models.load(dir, cpu, dtype); CausalLM profiled = Models.load(dir, timed, dtype)) {
            if (limits > 0) {
                repeatability(plain, cpu, limits);
                return;
            }
            int V = plain.config().vocabSize();
            int[] prompt = new int[promptLen];
            for (int i = 0; i < promptLen; i++) prompt[i] = (i * 7919) % Math.min(V, 100_000);
            if (prefills > 0) {
                prefill(plain, profiled, cpu, timed, prompt, prefills, dir, threads);
                return;
            }
            float[] logits = new float[V];
            List<Long> plainNs = new ArrayList<>(), timedNs = new ArrayList<>();
            // The bare read of the same weights, one pass after each pair of timed steps: the limit of the same minutes.
            CpuLimits.ReadLimit limit = new CpuLimits.ReadLimit(plain.decodeWeights().stream().map(t -> t.prepared() != null ? t.prepared() : t.data()).toList(), cpu);
            try (KvCache a = plain.newCache(promptLen + 2 * steps + 8); KvCache b = profiled.newCache(promptLen + 2 * steps + 8)) {
                a.reserve(promptLen + 2 * steps + 8);
                b.reserve(promptLen + 2 * steps + 8);
                cpu.download(plain.forward(prompt, a, 1), MemorySegment.ofArray(logits));
                timed.download(profiled.forward(prompt, b, 1), MemorySegment.ofArray(logits));
                int tok = Sampler.argmax(logits);
                for (int s = -steps / 4; s < steps; s++) { // the first quarter: warm-up
                    if (s == 0) timed.start();
                    long t0 = System.nanoTime();
                    Tensor l = plain.forward(new int[] {tok}, a, 1);
                    cpu.download(l, MemorySegment.ofArray(logits));
                    long t1 = System.nanoTime();
                    l = profiled.forward(new int[] {tok}, b, 1);
                    timed.download(l, MemorySegment.ofArray(logits));
                    long t2 = System.nanoTime();
                    if (s >= 0) { plainNs.add(t1 - t0); timedNs.add(t2 - t1); limit.sample(); }
                    tok = Sampler.argmax(logits);
                }
            }
            double read = limit.median();
            double stepMs = median(plainNs) / 1e6;
            // The ops' shares are of the timed steps' mean: their tallies are sums over all of them.
            double timedMs = timedNs.stream().mapToLong(Long::longValue).average().orElse(0) / 1e6;
            double gb = plain.weightBytes() / 1e9;
            System.out.printf(Locale.ROOT, "%s, %d threads, prompt %d, %d steps (each plain step alternating with a timed one)%n", dir, threads, promptLen, steps);
            System.out.printf(Locale.ROOT, "limits   bare read of the weights %s, %d threads%n", limit.describe("between the timed steps"), threads);
            System.out.printf(Locale.ROOT, "decode step %.2f ms median (%.1f tok/s, %.1f GB/s of %.2f GB weights = %.0f%% of the bare read, "
                    + "which would take %.2f ms); timed steps %.2f ms on average%n%n", stepMs, 1e3 / stepMs, gb / (stepMs / 1e3), gb, 100 * gb / (stepMs / 1e3) / read,
                    gb / read * 1e3, timedMs);
            System.out.println("| op | calls/step | µs/call | ms/step | % of timed step | GB/s of weights | % of bare read |\n|---|---|---|---|---|---|---|");
            double sum = 0;
            for (Map.Entry<String, TimingBackend.Tally> e : timed.tallies().entrySet()) {
                TimingBackend.Tally t = e.getValue();
                double ms = t.nanos / 1e6 / steps;
                sum += ms;
                String gbs = t.weightBytes > 0 ? String.format(Locale.ROOT, "%.1f", t.weightBytes / t.nanos) : "–";
                String pct = t.weightBytes > 0 ? String.format(Locale.ROOT, "%.0f%%", 100 * t.weightBytes / t.nanos / read) : "–";
                System.out.printf(Locale.ROOT, "| %s | %.0f | %.1f | %.3f | %.1f%% | %s | %s |%n", e.getKey(), (double) t.calls / steps,
                        t.nanos / 1e3 / t.calls, ms, 100 * ms / timedMs, gbs, pct);
            }
            System.out.printf(Locale.ROOT, "| outside the ops (forward pass's own Java, timing) | | | %.3f | %.1f%% | | |%n", timedMs - sum, 100 * (timedMs - sum) / timedMs);
        }
    }

    /**
     * {@code --prefill N}: N prefills of {@code prompt} on the plain backend alternating with N through the timing
     * one (after as many of each for warm-up), each into a fresh cache; the ops' shares are of the timed prefills.
     */
    private static void prefill(CausalLM plain, CausalLM profiled, CpuBackend cpu, TimingBackend timed, int[] prompt, int n,
                                Path dir, int threads) {
        float[] logits = new float[plain.config().vocabSize()];
        List<Long> plainNs = new ArrayList<>(), timedNs = new ArrayList<>();
        for (int s = -n; s < n; s++) {
            if (s == 0) timed.start();
            long t0, t1, t2;
            try (KvCache a = plain.newCache(prompt.length); KvCache b = profiled.newCache(prompt.length)) {
                t0 = System.nanoTime();
                cpu.download(plain.forward(prompt, a, 1), MemorySegment.ofArray(logits));
                t1 = System.nanoTime();
                timed.download(profiled.forward(prompt, b, 1), MemorySegment.ofArray(logits));
                t2 = System.nanoTime();
            }
            if (s >= 0) { plainNs.add(t1 - t0); timedNs.add(t2 - t1); }
        }
        double ms = median(plainNs) / 1e6;
        double timedMs = timedNs.stream().mapToLong(Long::longValue).average().orElse(0) / 1e6;
        System.out.printf(Locale.ROOT, "%s, %d threads, prefill of %d tokens, %d prefills (each plain one alternating with a timed one)%n", dir, threads, prompt.length, n);
        System.out.printf(Locale.ROOT, "prefill %.2f ms median (%.1f tok/s); timed prefills %.2f ms on average%n%n", ms, prompt.length / ms * 1e3, timedMs);
        System.out.println("| op | calls/prefill | ms/prefill | % of timed prefill | GMAC/s |\n|---|---|---|---|---|");
        double sum = 0, matmul = 0;
        for (Map.Entry<String, TimingBackend.Tally> e : timed.tallies().entrySet()) {
            TimingBackend.Tally t = e.getValue();
            double opMs = t.nanos / 1e6 / n;
            sum += opMs;
            if (t.macs > 0) matmul += opMs;
            String gmacs = t.macs > 0 ? String.format(Locale.ROOT, "%.1f", t.macs / t.nanos) : "–";
            System.out.printf(Locale.ROOT, "| %s | %.0f | %.3f | %.1f%% | %s |%n", e.getKey(), (double) t.calls / n, opMs, 100 * opMs / timedMs, gmacs);
        }
        System.out.printf(Locale.ROOT, "| outside the ops (forward pass's own Java, timing) | | %.3f | %.1f%% | |%n", timedMs - sum, 100 * (timedMs - sum) / timedMs);
        System.out.printf(Locale.ROOT, "%nmatmuls %.1f%%, the other ops %.1f%%, outside the ops %.1f%%%n", 100 * matmul / timedMs,
                100 * (sum - matmul) / timedMs, 100 * (timedMs - sum) / timedMs);
    }

    /**
     * {@code --limits N}: N bare-read limits back to back, each as a run measures it (the median of 9 passes, here
     * with nothing between them), and the spread of the N medians: how far one run's limit is to be trusted.
     */
    private static void repeatability(CausalLM m, CpuBackend cpu, int n) {
        List<MemorySegment> weights = m.decodeWeights().stream().map(t -> t.prepared() != null ? t.prepared() : t.data()).toList();
        double lo = Double.MAX_VALUE, hi = 0;
        for (int i = 0; i < n; i++) {
            CpuLimits.ReadLimit limit = new CpuLimits.ReadLimit(weights, cpu);
            for (int k = 0; k < 9; k++) limit.sample();
            System.out.printf(Locale.ROOT, "limit %d: %s%n", i + 1, limit.describe("back to back"));
            lo = Math.min(lo, limit.median());
            hi = Math.max(hi, limit.median());
        }
        System.out.printf(Locale.ROOT, "%d limits: %.1f–%.1f GB/s, spread %.0f%% of the lowest%n", n, lo, hi, 100 * (hi - lo) / lo);
    }

    private static double median(List<Long> v) {
        long[] s = v.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
    }
}
