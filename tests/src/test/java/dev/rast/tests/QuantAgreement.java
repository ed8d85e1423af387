package dev.rast.tests;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.generate.Generator;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.KvCache;
import dev.rast.engine.model.KvCacheDtype;
import dev.rast.engine.model.Models;
import dev.rast.engine.weights.WeightDtype;
import dev.rast.kernels.cpu.CpuBackend;
import dev.rast.run.Lockstep;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * How far quantized weights move a model from itself as stored: per teacher-forced position, KL(stored ‖ quantized)
 * of the next-token distributions (natural log, in double) and whether the argmax agrees; and greedy continuations
 * of the two, token by token. The positions are those of random token sequences (seeded), every position of each
 * after the first; the continuations start from random prompts.
 *
 * <p>Used by QuantizedAgreementTest on the reference models, and as a program for larger models:
 * {@code java -cp ... dev.rast.tests.QuantAgreement MODEL_DIR THREADS [SEQUENCES LENGTH PROMPTS GREEDY]}
 * (docs/benchmarks.md, "Quantized weights").
 */
final class QuantAgreement {
    record Result(WeightDtype dtype, int positions, double meanKl, double maxKl, double top1, int continuations,
                  int identicalContinuations, double meanAgreedPrefix, int greedyTokens) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s: %d positions, KL mean %.5f max %.4f, top-1 agreement %.2f%%; "
                            + "greedy %d × %d tokens: %d identical, mean agreed prefix %.1f tokens",
                    dtype.name().toLowerCase(Locale.ROOT), positions, meanKl, maxKl, 100 * top1, continuations, greedyTokens,
                    identicalContinuations, meanAgreedPrefix);
        }
    }

    private QuantAgreement() {}

    static Result measure(Path dir, Backend backend, WeightDtype q, int sequences, int length, int prompts, int greedyTokens, long seed) {
        try (CausalLM base = Models.load(dir, backend, WeightDtype.AUTO); CausalLM quant = Models.load(dir, backend, q)) {
            base.kvCacheDtype(KvCacheDtype.F32);
            quant.kvCacheDtype(KvCacheDtype.F32);  // only the weights differ
            int V = base.config().vocabSize(), idRange = Math.min(V, 100_000);
            SplittableRandom rnd = new SplittableRandom(seed);
            double klSum = 0, klMax = 0;
            int agree = 0, positions = 0;
            float[] a = new float[length * V], b = new float[length * V];
            for (int s = 0; s < sequences; s++) {
                int[] ids = rnd.ints(length, 0, idRange).toArray();
                logits(base, ids, a);
                logits(quant, ids, b);
                for (int t = 1; t < length; t++) {  // position 0 sees one token only: left out
                    double kl = kl(a, b, t * V, V);
                    klSum += kl;
                    klMax = Math.max(klMax, kl);
                    if (argmax(a, t * V, V) == argmax(b, t * V, V)) agree++;
                    positions++;
                }
            }
            int identical = 0;
            double prefix = 0;
            for (int p = 0; p < prompts; p++) {
                int[] prompt = rnd.ints(16, 0, idRange).toArray();
                int[] x = Lockstep.generator(base).greedy(prompt, greedyTokens, Set.of(), null);
                int[] y = Lockstep.generator(quant).greedy(prompt, greedyTokens, Set.of(), null);
                int n = 0;
                while (n < Math.min(x.length, y.length) && x[n] == y[n]) n++;
                prefix += n;
                if (n == greedyTokens) identical++;
            }
            return new Result(q, positions, klSum / positions, klMax, (double) agree / positions, prompts, identical,
                    prompts == 0 ? 0 : prefix / prompts, greedyTokens);
        }
    }

    private static void logits(CausalLM m, int[] ids, float[] out) {
        try (KvCache cache = m.newCache(ids.length)) {
            m.backend().download(m.forward(ids, cache, ids.length), MemorySegment.ofArray(out));
        }
    }

    /** KL(p ‖ q) of the softmaxes of rows p and q at {@code off}, natural log, in double. */
    static double kl(float[] p, float[] q, int off, int V) {
        double pm = Double.NEGATIVE_INFINITY, qm = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < V; i++) { pm = Math.max(pm, p[off + i]); qm = Math.max(qm, q[off + i]); }
        double ps = 0, qs = 0;
        for (int i = 0; i < V; i++) { ps += Math.exp(p[off + i] - pm); qs += Math.exp(q[off + i] - qm); }
        double lp = pm + Math.log(ps), lq = qm + Math.log(qs), kl = 0;
        for (int i = 0; i < V; i++) {
            double logP = p[off + i] - lp;
            kl += Math.exp(logP) * (logP - (q[off + i] - lq));
        }
        return Math.max(0, kl);
    }

    static int argmax(float[] row, int off, int V) {
        float[] r = java.util.Arrays.copyOfRange(row, off, off + V);
        return Generator.argmax(r);
    }

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        int sequences = args.length > 2 ? Integer.parseInt(args[2]) : 8, length = args.length > 3 ? Integer.parseInt(args[3]) : 256;
        int prompts = args.length > 4 ? Integer.parseInt(args[4]) : 8, greedy = args.length > 5 ? Integer.parseInt(args[5]) : 32;
        try (CpuBackend cpu = new CpuBackend(threads)) {
            for (WeightDtype q : new WeightDtype[] {WeightDtype.Q8_0, WeightDtype.Q4_0})
                System.out.println(dir.getFileName() + " " + measure(dir, cpu, q, sequences, length, prompts, greedy, 42));
        }
    }
}
