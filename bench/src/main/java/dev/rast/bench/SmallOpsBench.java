package dev.rast.bench;

import dev.rast.engine.backend.PagedKv;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import dev.rast.kernels.cpu.CpuBackend;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The backend's elementwise and row ops as one layer of the forward pass calls them, on {@code tokens} rows: RMSNorm
 * of the residual, the q/k/v biases, RoPE of q and k, storing a row's keys and values, SiLU·mul of the MLP, the
 * residual add, and the embedding lookup. Their activations are in the caches, as in a forward pass (the step's
 * previous op just wrote them), so their GB/s can pass the bare read of memory; what they cost is mostly fixed
 * per call at one token.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class SmallOpsBench {
    @Param({"qwen2.5-0.5b", "qwen2.5-1.5b", "qwen2.5-7b", "llama-3.1-8b"})
    public String model;

    @Param({"1", "128"})
    public int tokens;

    private CpuBackend backend;
    private Arena host;
    private ModelShape m;
    private Tensor x, h, q, k, v, gate, up, act, normW, bq, bk, bv, cos, sin, kCache, vCache, table;
    private int[] ids;
    private int pos;

    @Setup(Level.Trial)
    public void setUp() {
        backend = Data.backend();
        host = Arena.ofShared();
        m = ModelShape.of(model);
        SplittableRandom rnd = new SplittableRandom(11);
        x = Data.activation(backend, rnd, tokens, m.hidden);
        h = Data.activation(backend, rnd, tokens, m.hidden);
        q = Data.activation(backend, rnd, tokens, m.qDim());
        k = Data.activation(backend, rnd, tokens, m.kvDim());
        v = Data.activation(backend, rnd, tokens, m.kvDim());
        gate = Data.activation(backend, rnd, tokens, m.intermediate);
        up = Data.activation(backend, rnd, tokens, m.intermediate);
        act = backend.allocate(DType.F32, tokens, m.intermediate);
        normW = backend.weight(Data.hostWeight(host, rnd, "BF16", 1, m.hidden));
        bq = backend.weight(Data.hostWeight(host, rnd, "BF16", 1, m.qDim()));
        bk = backend.weight(Data.hostWeight(host, rnd, "BF16", 1, m.kvDim()));
        bv = backend.weight(Data.hostWeight(host, rnd, "BF16", 1, m.kvDim()));
        int positions = 4096;
        cos = backend.allocate(DType.F32, positions, m.headDim / 2);
        sin = backend.allocate(DType.F32, positions, m.headDim / 2);
        float[] c = new float[positions * m.headDim / 2], s = new float[c.length];
        for (int i = 0; i < c.length; i++) { c[i] = (float) Math.cos(i * 1e-3); s[i] = (float) Math.sin(i * 1e-3); }
        backend.upload(MemorySegment.ofArray(c), cos);
        backend.upload(MemorySegment.ofArray(s), sin);
        pos = positions - tokens - 1;
        kCache = backend.allocate(DType.F32, positions, m.kvDim());
        vCache = backend.allocate(DType.F32, positions, m.kvDim());
        table = backend.lookupTable(Data.hostWeight(host, rnd, "BF16", m.vocab, m.hidden));
        ids = new int[tokens];
        for (int t = 0; t < tokens; t++) ids[t] = rnd.nextInt(m.vocab);
    }

    // The values stay in a normal float range however often an op runs: RMSNorm and SiLU·mul write apart from their
    // inputs, RoPE is a rotation, and the bias and residual adds drift by about one unit per call.

    @Benchmark public void rmsNorm() { backend.rmsNorm(x, normW, 1e-6f, h); }

    @Benchmark public void addBias() { backend.addBias(q, bq); backend.addBias(k, bk); backend.addBias(v, bv); }

    @Benchmark public void rope() {
        backend.rope(q, m.headDim, cos, sin, new int[] {tokens}, new int[] {pos});
        backend.rope(k, m.headDim, cos, sin, new int[] {tokens}, new int[] {pos});
    }

    @Benchmark public void storeKeysValues() {
        backend.storeKeysValues(k, v, PagedKv.contiguous(kCache, vCache), new int[] {tokens}, new int[] {pos});
    }

    @Benchmark public void siluMul() { backend.siluMul(gate, up, act); }

    @Benchmark public void add() { backend.add(x, h); }

    @Benchmark public void embed() { backend.embed(table, ids, x); }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
        host.close();
    }

    /** Bytes each op reads and writes (F32 activations, BF16 norm weights, biases and table rows); FLOPs per element. */
    static Cost cost(String method, Params p) {
        ModelShape m = ModelShape.of(p.get("model"));
        int T = p.getInt("tokens");
        double H = m.hidden, qkv = m.qDim() + 2.0 * m.kvDim(), qk = m.qDim() + (double) m.kvDim(), FF = m.intermediate;
        return switch (method) {
            case "rmsNorm" -> new Cost("rmsNorm", m.id + " " + m.hidden, "F32", T, T * H * 8 + H * 2, T * H * 4);
            case "addBias" -> new Cost("addBias q,k,v", m.id + " " + (int) qkv, "F32", T, T * qkv * 8 + qkv * 2, T * qkv);
            case "rope" -> new Cost("rope q,k", m.id + " " + (int) qk, "F32", T, T * qk * 8 + T * m.headDim * 4.0, T * qk * 3);
            case "storeKeysValues" -> new Cost("store k,v", m.id + " " + m.kvDim(), "F32 cache", T, T * m.kvDim() * 16.0, 0);
            case "siluMul" -> new Cost("siluMul", m.id + " " + m.intermediate, "F32", T, T * FF * 12, 0);
            case "add" -> new Cost("add", m.id + " " + m.hidden, "F32", T, T * H * 12, T * H);
            case "embed" -> new Cost("embed", m.id + " " + m.vocab + "×" + m.hidden, "BF16", T, T * H * 6, 0);
            default -> throw new IllegalArgumentException("no cost for SmallOpsBench." + method);
        };
    }
}
