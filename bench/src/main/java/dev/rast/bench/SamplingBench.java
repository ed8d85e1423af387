package dev.rast.bench;

import dev.rast.engine.sample.Sampler;
import dev.rast.engine.sample.SamplingParams;
import dev.rast.engine.sample.SequenceRandom;
import dev.rast.fusion.RastFusion;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Choosing one token from one logits row on the host, one thread: greedy (the log-softmax pass it reports a
 * log-probability from, then the argmax), the paper's setting (temperature 1, top-p 0.95), and RAST's fusion of one
 * expert pair (M + λ·(E − B)) into a fresh row. Rows are Gaussian with standard deviation {@code sigma}: about 5 is
 * a trained model's peaked row (few ids near the top), 1 a random-weight model's flat one.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class SamplingBench {
    @Param({"qwen2.5-0.5b", "llama-3.1-8b"})
    public String model;

    @Param({"1", "5"})
    public double sigma;

    private float[] base, expert, expertBase, fused;
    private Sampler greedy, topP;
    private RastFusion fusion;
    private RandomGenerator rng;

    @Setup(Level.Trial)
    public void setUp() {
        int V = ModelShape.of(model).vocab;
        SplittableRandom rnd = new SplittableRandom(3);
        base = Data.gaussian(rnd, V, sigma);
        expert = Data.gaussian(rnd, V, sigma);
        expertBase = Data.gaussian(rnd, V, sigma);
        fused = new float[V];
        greedy = new Sampler(SamplingParams.greedy());
        topP = new Sampler(new SamplingParams(1, 0, 0.95, 0, 1));
        fusion = new RastFusion(1f);
        rng = SequenceRandom.of(1, 0);
    }

    @Benchmark public int greedy() { return greedy.sample(base, rng).token(); }

    @Benchmark public int topP() { return topP.sample(base, rng).token(); }

    @Benchmark public float[] fusion() { return fusion.fuse(base, new float[][] {expert}, new float[][] {expertBase}, fused); }

    /** Bytes: the rows read and written (4 per logit); FLOPs: those of the fusion's three per id, none counted for sampling. */
    static Cost cost(String method, Params p) {
        ModelShape m = ModelShape.of(p.get("model"));
        String shape = m.id + " " + m.vocab + " σ " + p.get("sigma");
        double V = m.vocab;
        return switch (method) {
            case "greedy" -> new Cost("sample greedy", shape, "F32", 1, V * 4, 0);
            case "topP" -> new Cost("sample T=1 top-p 0.95", shape, "F32", 1, V * 4, 0);
            case "fusion" -> new Cost("RAST fusion, 1 pair", shape, "F32", 1, V * 16, V * 3);
            default -> throw new IllegalArgumentException("no cost for SamplingBench." + method);
        };
    }
}
