package dev.rast.bench;

import dev.rast.engine.backend.PagedKv;
import dev.rast.engine.model.KvPool;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import dev.rast.kernels.cpu.CpuBackend;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
 * One layer's {@code Backend.attention} in a decode step: {@code sequences} sequences, one new row each at position
 * {@code context} − 1 of its own paged KV cache, grouped-query with the model's heads. The sequences' blocks of
 * {@link KvPool#BLOCK_SIZE} positions interleave in one pool, as they do when sequences grow in lockstep (block b
 * of sequence s is pool block b·sequences + s; {@link #layout}), so no two consecutive blocks of a sequence are adjacent. Each call
 * takes the next layer's pools (up to the model's layer count, within 512 MiB), so that they come from memory as in
 * a forward pass.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class AttentionBench {
    @Param({"qwen2.5-0.5b", "qwen2.5-1.5b", "qwen2.5-7b", "llama-3.1-8b"})
    public String model;

    @Param({"128", "1024", "4096"})
    public int context;

    @Param({"1", "8"})
    public int sequences;

    @Param({"F32", "BF16"})
    public String cache;

    /**
     * Where the sequences' blocks sit in the pool: {@code interleaved} (block b of sequence s at b·sequences + s, as
     * sequences growing in lockstep take them) or {@code consecutive} (each sequence's blocks side by side, the
     * layout of a contiguous cache), to see what scattered blocks cost.
     */
    @Param({"interleaved", "consecutive"})
    public String layout;

    private CpuBackend backend;
    private final List<PagedKv> layers = new ArrayList<>();
    private Tensor q, out;
    private int[] chunkRows, startPos;
    private ModelShape m;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        backend = Data.backend();
        m = ModelShape.of(model);
        SplittableRandom rnd = new SplittableRandom(5);
        DType dt = DType.valueOf(cache);
        long perLayer = 2L * sequences * context * m.kvDim() * dt.bytes();
        int n = (int) Math.clamp((512L << 20) / perLayer, 1, m.layers);
        int bs = KvPool.BLOCK_SIZE, blocks = Math.ceilDiv(context, bs);
        int[][] tables = new int[sequences][blocks];
        boolean interleaved = layout.equals("interleaved");
        for (int s = 0; s < sequences; s++)
            for (int b = 0; b < blocks; b++) tables[s][b] = interleaved ? b * sequences + s : s * blocks + b;
        float[] values = Data.gaussian(rnd, blocks * sequences * bs * m.kvDim(), 1);
        for (int l = 0; l < n; l++) layers.add(new PagedKv(filled(dt, values), filled(dt, values), bs, tables));
        q = Data.activation(backend, rnd, sequences, m.qDim());
        out = backend.allocate(DType.F32, sequences, m.qDim());
        chunkRows = new int[sequences];
        Arrays.fill(chunkRows, 1);
        startPos = new int[sequences];
        Arrays.fill(startPos, context - 1);
    }

    /** A pool [values / kvDim, kvDim] holding {@code values} (rounded to BF16 by the backend's own store for BF16). */
    private Tensor filled(DType dt, float[] values) {
        int rows = values.length / m.kvDim();
        Tensor c = backend.allocate(dt, rows, m.kvDim());
        Tensor src = backend.allocate(DType.F32, rows, m.kvDim());
        backend.upload(MemorySegment.ofArray(values), src);
        backend.copyRows(src, c, 0);
        backend.free(src);
        return c;
    }

    @Benchmark
    public void attention() {
        PagedKv kv = layers.get(next);
        next = next + 1 == layers.size() ? 0 : next + 1;
        backend.attention(q, kv, chunkRows, startPos, m.heads, m.kvHeads, m.headDim, out);
    }

    @TearDown(Level.Trial)
    public void tearDown() { backend.close(); }

    /** Bytes: every cached key and value the rows attend over; FLOPs: q·k and p·v, 2 each per head and dimension. */
    static Cost cost(String method, Params p) {
        ModelShape m = ModelShape.of(p.get("model"));
        int ctx = p.getInt("context"), seqs = p.getInt("sequences");
        String cache = p.get("cache");
        double bytes = 2.0 * seqs * ctx * m.kvDim() * DType.valueOf(cache).bytes();
        double flops = 4.0 * seqs * ctx * m.heads * m.headDim;
        return new Cost("attention ctx " + ctx, m.id + " " + m.heads + "/" + m.kvHeads + "×" + m.headDim, cache + " cache", seqs, bytes, flops);
    }
}
