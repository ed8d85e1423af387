package dev.rast.bench;

import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import dev.rast.kernels.cpu.CpuBackend;
import java.lang.foreign.Arena;
import java.util.ArrayList;
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
 * {@code Backend.matmul} as the forward pass calls it (q, k, v as one op; gate, up as one op; o; down; the LM head)
 * for {@code tokens} rows of x: 1 and 2 are decode (matrix-vector, bound by reading the weights), 8 a small batch,
 * 32 and 128 batches and prefill (GEMM, bound by FMAs).
 *
 * <p>The weights come from memory, as in a forward pass, not from the caches: the op's matrices are made in as many
 * copies as fill {@link #FOOTPRINT_MB} (256 MiB by default, eight times this machine's L3), and each call takes the
 * next copy. Each copy goes through {@code Backend.weight}, so it is packed as a loaded model's would be.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class MatmulBench {
    /** System property: MiB of weight copies a matmul cycles through. */
    static final String FOOTPRINT_MB = "rast.bench.footprint.mb";

    @Param({"qwen2.5-0.5b", "qwen2.5-1.5b", "qwen2.5-7b", "llama-3.1-8b"})
    public String model;

    @Param({"qkv", "o", "gate_up", "down", "lm_head"})
    public String matrix;

    /** The weights' dtype: one name per dtype the backend computes with (Data.hostWeight makes them). */
    @Param({"F32", "BF16", "F16", "Q8_0", "Q4_0"})
    public String dtype;

    @Param({"1", "2", "8", "32", "128"})
    public int tokens;

    private CpuBackend backend;
    private final List<Arena> hosts = new ArrayList<>();
    private List<List<Tensor>> copies;
    private Tensor x;
    private List<Tensor> outs;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        backend = Data.backend();
        ModelShape m = ModelShape.of(model);
        int[][] mats = m.matrices(matrix);
        SplittableRandom rnd = new SplittableRandom(23);
        double bytesPerCopy = weightBytes(mats, dtype);
        long footprint = Long.getLong(FOOTPRINT_MB, 256) << 20;
        int n = (int) Math.clamp((long) Math.ceil(footprint / bytesPerCopy), 1, 512);
        copies = new ArrayList<>();
        for (int c = 0; c < n; c++) {
            List<Tensor> ws = new ArrayList<>();
            for (int[] nk : mats) {
                Arena host = Arena.ofShared();
                Tensor w = backend.weight(Data.hostWeight(host, rnd, dtype, nk[0], nk[1]));
                if (w.prepared() != null) host.close(); // packed: the kernels read only the packed copy
                else hosts.add(host);
                ws.add(w);
            }
            copies.add(ws);
        }
        x = Data.activation(backend, rnd, tokens, mats[0][1]);
        outs = new ArrayList<>();
        for (int[] nk : mats) outs.add(backend.allocate(DType.F32, tokens, nk[0]));
    }

    @Benchmark
    public void matmul() {
        List<Tensor> ws = copies.get(next);
        next = next + 1 == copies.size() ? 0 : next + 1;
        if (ws.size() == 1) backend.matmul(x, ws.get(0), outs.get(0));
        else backend.matmul(x, ws, outs);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
        hosts.forEach(Arena::close);
        hosts.clear();
    }

    static double weightBytes(int[][] mats, String dtype) {
        double b = 0;
        for (int[] nk : mats) b += (double) DType.valueOf(dtype).byteSize(nk[0], nk[1]);
        return b;
    }

    /** Bytes: the weights (x and out are small and cached); FLOPs: 2·T·N·K. */
    static Cost cost(String method, Params p) {
        ModelShape m = ModelShape.of(p.get("model"));
        String matrix = p.get("matrix"), dtype = p.get("dtype");
        int T = p.getInt("tokens");
        int[][] mats = m.matrices(matrix);
        double flops = 0;
        for (int[] nk : mats) flops += 2.0 * T * nk[0] * nk[1];
        return new Cost("matmul " + matrix, m.id + " " + m.matrixShape(matrix), dtype, T, weightBytes(mats, dtype), flops);
    }
}
