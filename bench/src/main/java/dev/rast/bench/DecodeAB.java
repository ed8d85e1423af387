package dev.rast.bench;

import java.lang.foreign.MemorySegment;
import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Two builds of rast in one process, alternating: each folder of jars (e.g. {@code cli/target/lib} of the commit
 * before a change and of the change) gets its own class loader, CPU backend and copy of the model, and the two take
 * turns: a prefill, then a batch of decode steps of one sequence, then of {@code --batch} sequences, A then B, for
 * {@code --rounds} rounds. On a shared machine whose speed moves from minute to minute, the ratio of neighbouring
 * turns is the figure to trust (docs/benchmarks.md, "How to measure"): it prints each round's times and the median
 * B/A ratio of each measure, with how many rounds B won.
 *
 * <pre>
 *   scripts/bench/decode-ab.sh LIB_A LIB_B MODEL_DIR [--threads N] [--rounds N] [--steps N] [--batch N] [--prompt N] [--dtype D]
 * </pre>
 */
public final class DecodeAB {
    private DecodeAB() {}

    /** One build: its loader, backend and model, driven by reflection (the classes differ between the builds). */
    private static final class Side implements AutoCloseable {
        final String name;
        final ClassLoader loader;
        final Object backend, model;
        final Method forward, decode, newCache, reserve, fork, closeCache, download;
        final int vocab;

        Side(String name, Path lib, Path modelDir, int threads, String dtype) throws Exception {
            this.name = name;
            List<URL> urls = new ArrayList<>();
            try (Stream<Path> jars = Files.list(lib)) {
                for (Path j : jars.filter(p -> p.toString().endsWith(".jar")).sorted().toList()) urls.add(j.toUri().toURL());
            }
            if (urls.isEmpty()) throw new IllegalArgumentException(lib + ": no jars");
            loader = new URLClassLoader(name, urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
            Class<?> backendType = loader.loadClass("dev.rast.engine.backend.Backend");
            Class<?> tensor = loader.loadClass("dev.rast.engine.tensor.Tensor");
            Class<?> cache = loader.loadClass("dev.rast.engine.model.KvCache");
            Class<?> lm = loader.loadClass("dev.rast.engine.model.CausalLM");
            backend = loader.loadClass("dev.rast.kernels.cpu.CpuBackend").getConstructor(int.class).newInstance(threads);
            Thread t = Thread.currentThread();
            ClassLoader before = t.getContextClassLoader();
            t.setContextClassLoader(loader); // the model registry's ServiceLoader looks there
            try {
                Class<?> dtypeType = loader.loadClass("dev.rast.engine.weights.WeightDtype");
                Object weights = dtypeType.getMethod("parse", String.class, String.class).invoke(null, "--dtype", dtype);
                model = loader.loadClass("dev.rast.engine.model.Models").getMethod("load", Path.class, backendType, dtypeType)
                        .invoke(null, modelDir, backend, weights);
            } finally {
                t.setContextClassLoader(before);
            }
            forward = lm.getMethod("forward", int[].class, cache, int.class);
            decode = lm.getMethod("decode", int[].class, cache.arrayType());
            newCache = lm.getMethod("newCache", int.class);
            reserve = cache.getMethod("reserve", int.class);
            fork = cache.getMethod("fork", int.class);
            closeCache = cache.getMethod("close");
            download = backendType.getMethod("download", tensor, MemorySegment.class);
            Object config = lm.getMethod("config").invoke(model);
            vocab = (int) config.getClass().getMethod("vocabSize").invoke(config);
        }

        /** {ms of the prefill, ms per decode step of one sequence, ms per step of n sequences}. */
        double[] turn(int[] prompt, int steps, int n) throws Exception {
            float[] logits = new float[vocab];
            int cap = prompt.length + steps + 1;
            Object c = newCache.invoke(model, cap);
            reserve.invoke(c, cap);
            long t0 = System.nanoTime();
            download.invoke(backend, forward.invoke(model, prompt, c, 1), MemorySegment.ofArray(logits));
            long t1 = System.nanoTime();
            for (int i = 0; i < steps; i++)
                download.invoke(backend, forward.invoke(model, new int[] {argmax(logits)}, c, 1), MemorySegment.ofArray(logits));
            long t2 = System.nanoTime();
            double batchMs = 0;
            if (n > 1) {
                Object caches = Array.newInstance(c.getClass(), n);
                for (int s = 0; s < n; s++) {
                    Object f = fork.invoke(c, cap + steps);
                    reserve.invoke(f, steps); // room for the steps to come (reserve counts from the cache's length)
                    Array.set(caches, s, f);
                }
                int[] next = new int[n];
                Arrays.fill(next, argmax(logits));
                float[] rows = new float[n * vocab];
                long t3 = System.nanoTime();
                for (int i = 0; i < steps; i++) {
                    download.invoke(backend, decode.invoke(model, next, caches), MemorySegment.ofArray(rows));
                    for (int s = 0; s < n; s++) next[s] = argmax(rows, s * vocab, vocab);
                }
                batchMs = (System.nanoTime() - t3) / 1e6 / steps;
                for (int s = 0; s < n; s++) closeCache.invoke(Array.get(caches, s));
            }
            closeCache.invoke(c);
            return new double[] {(t1 - t0) / 1e6, (t2 - t1) / 1e6 / steps, batchMs};
        }

        @Override
        public void close() throws Exception {
            ((AutoCloseable) model).close();
            ((AutoCloseable) backend).close();
        }
    }

    private static int argmax(float[] v) { return argmax(v, 0, v.length); }

    private static int argmax(float[] v, int from, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (v[from + i] > v[from + best]) best = i;
        return best;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: decode-ab LIB_A LIB_B MODEL_DIR [--threads N] [--rounds N] [--steps N] [--batch N] [--prompt N] [--dtype auto|f32|bf16|q8_0|q4_0]");
            System.exit(2);
        }
        int threads = 2, rounds = 6, steps = 16, batch = 8, promptLen = 128;
        String dtype = "auto";
        for (int i = 3; i + 1 < args.length; i += 2)
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[i + 1]);
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                case "--steps" -> steps = Integer.parseInt(args[i + 1]);
                case "--batch" -> batch = Integer.parseInt(args[i + 1]);
                case "--prompt" -> promptLen = Integer.parseInt(args[i + 1]);
                case "--dtype" -> dtype = args[i + 1];
                default -> { System.err.println("unknown option " + args[i]); System.exit(2); }
            }
        Path modelDir = Path.of(args[2]);
        try (Side a = new Side("A", Path.of(args[0]), modelDir, threads, dtype); Side b = new Side("B", Path.of(args[1]), modelDir, threads, dtype)) {
            int[] prompt = new int[promptLen];
            for (int i = 0; i < promptLen; i++) prompt[i] = (i * 7919) % Math.min(a.vocab, 100_000);
            a.turn(prompt, steps, batch); // warm-up: the JIT compiles both builds' kernels
            b.turn(prompt, steps, batch);
            String[] what = {"prefill ms", "decode ms/step", batch + " sequences ms/step"};
            double[][] ratio = new double[3][rounds];
            System.out.printf(Locale.ROOT, "A = %s, B = %s, %s, %d threads, prompt %d, %d steps, batch %d; per round A / B%n", args[0], args[1],
                    modelDir, threads, promptLen, steps, batch);
            for (int r = 0; r < rounds; r++) {
                boolean aFirst = r % 2 == 0; // who goes first alternates too
                double[] ta = aFirst ? a.turn(prompt, steps, batch) : null;
                double[] tb = b.turn(prompt, steps, batch);
                if (!aFirst) ta = a.turn(prompt, steps, batch);
                StringBuilder line = new StringBuilder("round " + (r + 1) + ":");
                for (int k = 0; k < (batch > 1 ? 3 : 2); k++) {
                    ratio[k][r] = ta[k] / tb[k]; // > 1: B faster
                    line.append(String.format(Locale.ROOT, "  %s %.1f / %.1f", what[k], ta[k], tb[k]));
                }
                System.out.println(line);
            }
            for (int k = 0; k < 3; k++) {
                if (k == 2 && batch <= 1) continue;
                double[] s = ratio[k].clone();
                Arrays.sort(s);
                long won = Arrays.stream(ratio[k]).filter(x -> x > 1).count();
                System.out.printf(Locale.ROOT, "%s: B is %.3f× as fast as A (median of %d rounds; B faster in %d)%n", what[k],
                        s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2, rounds, won);
            }
        }
    }
}
