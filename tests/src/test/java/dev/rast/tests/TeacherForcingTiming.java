package dev.rast.tests;

import dev.rast.analysis.TeacherForcing;
import dev.rast.analysis.Trajectory;
import dev.rast.engine.backend.Backend;
import dev.rast.engine.backend.BackendProvider;
import dev.rast.engine.generate.Generator;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.KvCache;
import dev.rast.engine.model.Models;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Not a test: a measurement to run by hand. Times, on one model, teacher forcing one trajectory of N generated
 * tokens (every position's logits) against the two things it replaces or resembles: N decode steps (how the
 * sampler reads a path, one token per pass) and one prefill of the same length (logits of the last token only).
 *
 * <pre>
 * rast synth --arch qwen2.5-0.5b --dtype bf16 --out /tmp/q05
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *   -cp "tests/target/test-classes:cli/target/lib/*:cli/target/rast-cli-0.1.0-SNAPSHOT.jar" \
 *   dev.rast.tests.TeacherForcingTiming /tmp/q05 cpu 1000 128
 * </pre>
 * Arguments: model folder, device (cpu|cuda), N (default 1000), rows per pass (default 128), prompt length (default 64).
 */
public final class TeacherForcingTiming {
    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        String device = args.length > 1 ? args[1] : "cpu";
        int n = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
        int rows = args.length > 3 ? Integer.parseInt(args[3]) : TeacherForcing.DEFAULT_ROWS;
        int promptLen = args.length > 4 ? Integer.parseInt(args[4]) : 64;
        try (Backend backend = BackendProvider.open(device, Runtime.getRuntime().availableProcessors());
             CausalLM m = Models.load(dir, backend)) {
            int V = m.config().vocabSize();
            SplittableRandom r = new SplittableRandom(1);
            int[] prompt = r.ints(promptLen, 0, Math.min(V, 100_000)).toArray();
            int[] tokens = r.ints(n, 0, Math.min(V, 100_000)).toArray();
            Trajectory t = new Trajectory("timing", prompt, tokens);
            for (int run = 0; run < 2; run++) { // run 0 warms up the JIT (and the device's kernels)
                long t0 = System.nanoTime();
                double[] sink = {0};
                new TeacherForcing(List.of(m), rows).run(List.of(t), (tr, i, rs) -> sink[0] += rs[0][tokens[i]]);
                long t1 = System.nanoTime();
                int[] all = new int[promptLen + n];
                System.arraycopy(prompt, 0, all, 0, promptLen);
                System.arraycopy(tokens, 0, all, promptLen, n);
                float[] row = new float[V];
                try (KvCache c = m.newCache(all.length)) {
                    c.reserve(all.length);
                    backend.download(m.forward(all, c, 1), MemorySegment.ofArray(row));
                }
                long t2 = System.nanoTime();
                try (KvCache c = m.newCache(all.length)) {
                    c.reserve(all.length);
                    backend.download(m.forward(prompt, c, 1), MemorySegment.ofArray(row));
                    long t3 = System.nanoTime();
                    for (int i = 0; i < n; i++) backend.download(m.forward(new int[] {tokens[i]}, c, 1), MemorySegment.ofArray(row));
                    long t4 = System.nanoTime();
                    if (run == 1)
                        System.out.printf(java.util.Locale.ROOT,
                                "%s on %s, prompt %d, %d tokens, %d rows per pass:%n  teacher forcing (all %d positions' logits) %.2f s%n"
                                        + "  one prefill of %d tokens (last logits only) %.2f s%n  prompt prefill %.2f s + %d decode steps %.2f s (%.1f ms/step)%n"
                                        + "  decode / teacher forcing = %.1fx; teacher forcing / prefill = %.2fx (checksum %.3g, %d)%n",
                                dir, backend.name(), promptLen, n, rows, n, (t1 - t0) / 1e9, promptLen + n, (t2 - t1) / 1e9,
                                (t3 - t2) / 1e9, n, (t4 - t3) / 1e9, (t4 - t3) / 1e6 / n,
                                ((t4 - t2) / 1e9) / ((t1 - t0) / 1e9), (double) (t1 - t0) / (t2 - t1), sink[0], Generator.argmax(row));
                }
            }
        }
    }
}
