package dev.rast.kernels.cpu;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.backend.PagedKv;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The CPU backend: Vector API kernels, F32 math, work split over a {@link WorkerPool}. Activations live in off-heap
 * segments.
 *
 * <p>Weights keep their stored dtype. BF16 and F32 matrices are repacked once, at load, into the row blocks that
 * {@link PackedMatMul} reads (same bytes, another order; decode reads them ~30% faster than the row-major file).
 * That costs memory as large as those matrices, outside the page cache; when the machine has not got it free
 * (or with {@code RAST_CPU_PACK=off} in the environment) a matrix is used in place from the mmapped checkpoint
 * instead, by {@link MatMul}. F16 matrices are always used in place. Q8_0 and Q4_0 matrices are always repacked, for
 * {@link QuantMatMul}.
 */
public final class CpuBackend implements Backend {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** Elementwise ops below this many elements run on one thread: waking others costs more. */
    private static final int PARALLEL_MIN_ELEMENTS = 1 << 15;

    private final WorkerPool pool;
    private final Map<Tensor, Arena> owned = new ConcurrentHashMap<>();
    /** Holds every packed weight until {@link #close}, on transparent huge pages where the system allows ({@link HugePages}). */
    private final Arena packed = HugePages.ofShared();
    /** Bytes of memory free for packing now, or -1 when unknown (then nothing is packed); null: packing is off. */
    private final LongSupplier freeMemory;
    private boolean warnedShort;
    /** Packing so far, for the progress line a long load prints: bytes, when it began, when it last printed. */
    private long packedBytes, packStart, packReported, packLast;
    /** Bytes free for new tensors (-1: unknown, nothing is checked); the packing check's source when packing is on. */
    private final LongSupplier available;
    /** Left free by {@link #allocate}: the Java heap and the rest of the system live outside what it counts. */
    static final long ALLOCATE_RESERVE_BYTES = 256L << 20;
    /** The last reading of {@link #available}, less what was allocated since, and when it was read. */
    private long availableNow, availableReadAt;
    private boolean availableRead;
    private final long readEveryNanos;

    public CpuBackend(int threads) {
        this(threads, packingFromEnvironment(System.getenv("RAST_CPU_PACK")) ? MemoryInfo::availableBytes : null);
    }

    /** RAST_CPU_PACK: unset, empty or "on" packs (memory allowing), "off" does not; anything else is refused. */
    static boolean packingFromEnvironment(String value) {
        if (value == null || value.isBlank() || value.equalsIgnoreCase("on")) return true;
        if (value.equalsIgnoreCase("off")) return false;
        throw new dev.rast.engine.BadInputException("RAST_CPU_PACK=" + value + ": expected off or on (default: on)");
    }

    /** With {@code freeMemory} null, weights are never packed. */
    CpuBackend(int threads, LongSupplier freeMemory) { this(threads, freeMemory, 100_000_000L); }

    /** {@code readEveryNanos}: how long a reading of the free memory serves {@link #allocate} (tests: forever). */
    CpuBackend(int threads, LongSupplier freeMemory, long readEveryNanos) {
        pool = new WorkerPool(threads);
        this.freeMemory = freeMemory;
        this.available = freeMemory != null ? freeMemory : MemoryInfo::availableBytes;
        this.readEveryNanos = readEveryNanos;
    }

    @Override public String name() { return "cpu (Vector API, " + MatMul.F.vectorBitSize() + "-bit, " + pool.threads() + " threads)"; }

    public int threads() { return pool.threads(); }

    /** The kernels' threads, for {@link CpuLimits.ReadLimit} to read with. */
    WorkerPool pool() { return pool; }

    @Override public long freeMemoryBytes() { return available.getAsLong(); }

    @Override
    public Tensor weight(Tensor host) {
        if (host.rank() == 2 && host.dtype().quantized()) return quantized(host);
        if (freeMemory == null || host.rank() != 2 || !PackedMatMul.packable(host.dtype())) return host;
        int N = host.dim(0), K = host.dim(1);
        long need = PackedMatMul.packedBytes(host.dtype(), N, K);
        long free = freeMemory.getAsLong();
        if (free < 0) return host; // unknown (not Linux): in place, where the page cache can always let go
        if (need > free - MemoryInfo.RESERVE_BYTES) {
            synchronized (this) {
                if (!warnedShort)
                    System.err.printf("rast: not enough free memory to repack a %s weight (%.2f GB, %.2f GB free); "
                            + "running it and any other that does not fit from the mapped checkpoint, which is slower%n",
                            host, need / 1e9, free / 1e9);
                warnedShort = true;
            }
            return host;
        }
        long begin = System.nanoTime();
        Tensor t = new Tensor(host.dtype(), host.shape(), host.data(), PackedMatMul.pack(pool, host.data(), host.dtype(), N, K, packed));
        reportPacking(need, begin);
        return t;
    }

    /**
     * A Q8_0 / Q4_0 matrix is always repacked for {@link QuantMatMul} (there is no in-place quantized kernel): its
     * row-major blocks are a converted copy already, and stay for embedding lookups of a tied table.
     */
    private Tensor quantized(Tensor host) {
        long begin = System.nanoTime();
        Tensor t = new Tensor(host.dtype(), host.shape(), host.data(),
                QuantMatMul.pack(pool, host.data(), host.dtype(), host.dim(0), host.dim(1), packed));
        reportPacking(QuantMatMul.packedBytes(host.dtype(), host.dim(0), host.dim(1)), begin);
        return t;
    }

    /**
     * A 7B model takes ~25 s to pack, in the middle of loading, with nothing else on screen: after the first 5 s,
     * a line on stderr every 5 s says how far it is (the backend does not know the total). A backend loads several
     * models for RAST, one after the other: a weight packed more than a second after the previous one starts a new
     * count, so that each model's line gives its own bytes and seconds.
     */
    private synchronized void reportPacking(long bytes, long begin) {
        long now = System.nanoTime();
        if (packedBytes == 0 || begin - packLast > 1_000_000_000L) {
            packedBytes = 0;
            packStart = packReported = begin;
        }
        packLast = now;
        packedBytes += bytes;
        if (now - packReported < 5_000_000_000L) return;
        packReported = now;
        System.err.printf("rast: repacking weights for the CPU kernels: %.1f GB done (%.0f s)%n", packedBytes / 1e9, (now - packStart) / 1e9);
    }

    /** An embedding table that is never multiplied with is read in place: packing it would only cost memory. */
    @Override
    public Tensor lookupTable(Tensor host) { return host; }

    @Override
    public Tensor allocate(DType dtype, int... shape) {
        requireMemory(dtype.byteSize(shape), dtype, shape);
        Arena arena = Arena.ofShared();
        Tensor t = new Tensor(dtype, shape, arena.allocate(dtype.byteSize(shape), 64));
        owned.put(t, arena);
        return t;
    }

    /**
     * Refuses, with one line saying what and how much, a tensor the machine has not the memory for. Without it, KV
     * caches growing past the RAM (many samples, long answers, three models for RAST) would end in the kernel's OOM
     * killer or in swapping, with nothing said. /proc/meminfo is read at most every 100 ms; in between, what was
     * allocated since is subtracted from the last reading and what was freed added back, so a burst of allocations
     * (every cache of a batch growing in one step, each freeing its old tensors) is counted as what it takes.
     */
    private synchronized void requireMemory(long bytes, DType dtype, int[] shape) {
        long now = System.nanoTime();
        if (!availableRead || now - availableReadAt > readEveryNanos) {
            availableNow = available.getAsLong();
            availableReadAt = now;
            availableRead = true;
        }
        if (availableNow < 0) return; // unknown (not Linux)
        if (bytes > availableNow - ALLOCATE_RESERVE_BYTES)
            throw new dev.rast.engine.BadInputException(String.format(java.util.Locale.ROOT,
                    "out of memory: a %s%s tensor (KV cache, activations or tables) needs %s, %s free with %s kept in reserve; "
                            + "fewer samples or tokens at once (--n, --max-tokens, --batch) need less",
                    dtype, Arrays.toString(shape), size(bytes), size(Math.max(0, availableNow)), size(ALLOCATE_RESERVE_BYTES)));
        availableNow -= bytes;
    }

    private static String size(long bytes) {
        return bytes >= 1e9 ? String.format(java.util.Locale.ROOT, "%.2f GB", bytes / 1e9) : String.format(java.util.Locale.ROOT, "%.0f MB", bytes / 1e6);
    }

    @Override
    public void free(Tensor t) {
        Arena a = owned.remove(t);
        if (a == null) return;
        a.close();
        synchronized (this) {
            if (availableRead && availableNow >= 0) availableNow += t.data().byteSize();
        }
    }

    @Override
    public void upload(MemorySegment src, Tensor dst) {
        checkBytes(src.byteSize(), dst);
        MemorySegment.copy(src, 0, dst.data(), 0, src.byteSize());
    }

    @Override
    public void download(Tensor src, MemorySegment dst) {
        checkBytes(dst.byteSize(), src);
        MemorySegment.copy(src.data(), 0, dst, 0, dst.byteSize());
    }

    private static void checkBytes(long bytes, Tensor t) {
        if (bytes != t.data().byteSize())
            throw new IllegalArgumentException("host buffer of " + bytes + " bytes for tensor " + t + " of " + t.data().byteSize());
    }

    /** The first op of every forward pass: it wakes the pool's threads, which its matmuls need within microseconds. */
    @Override
    public void embed(Tensor table, int[] ids, Tensor out) {
        pool.wake();
        int V = table.dim(0), D = table.dim(1);
        requireShape(out, ids.length, D);
        float[] row = new float[D];
        for (int t = 0; t < ids.length; t++) {
            if (ids[t] < 0 || ids[t] >= V) throw new IllegalArgumentException("token id " + ids[t] + " outside vocabulary of " + V);
            if (table.dtype().quantized()) dev.rast.engine.tensor.QuantBlocks.dequantizeRow(table.data(), table.dtype(), ids[t], D, row, 0);
            else MatMul.widenRow(table.data(), table.dtype(), ids[t], D, row, 0);
            MemorySegment.copy(row, 0, out.data(), FLOAT, (long) t * D * 4, D);
        }
    }

    @Override
    public void matmul(Tensor x, Tensor w, Tensor out) {
        int T = x.dim(0), K = x.dim(1), N = w.dim(0);
        checkMatmul(x, w, out);
        if (w.dtype().quantized() && w.prepared() != null) QuantMatMul.run(pool, x.data(), w.prepared(), w.dtype(), out.data(), T, N, K);
        else if (w.dtype().quantized()) QuantMatMul.runInPlace(pool, x.data(), w.data(), w.dtype(), out.data(), T, N, K);
        else if (w.prepared() != null) PackedMatMul.run(pool, x.data(), w.prepared(), w.dtype(), out.data(), T, N, K);
        else MatMul.run(pool, x.data(), w.data(), w.dtype(), out.data(), T, N, K);
    }

    @Override
    public void matmul(Tensor x, List<Tensor> ws, List<Tensor> outs) {
        if (ws.size() != outs.size()) throw new IllegalArgumentException(ws.size() + " weights for " + outs.size() + " outputs");
        if (ws.isEmpty()) return;
        int T = x.dim(0), K = x.dim(1);
        boolean together = true;
        for (Tensor w : ws) together &= w.prepared() != null && w.dtype() == ws.get(0).dtype();
        if (!together) { // some stay in place (short of memory, or F16): one op each
            for (int i = 0; i < ws.size(); i++) matmul(x, ws.get(i), outs.get(i));
            return;
        }
        PackedMatMul.Part[] parts = new PackedMatMul.Part[ws.size()];
        for (int i = 0; i < parts.length; i++) {
            Tensor w = ws.get(i), out = outs.get(i);
            checkMatmul(x, w, out);
            parts[i] = new PackedMatMul.Part(w.prepared(), w.dim(0), out.data());
        }
        DType dt = ws.get(0).dtype();
        if (dt.quantized()) QuantMatMul.run(pool, x.data(), parts, dt, T, K);
        else PackedMatMul.run(pool, x.data(), parts, dt, T, K);
    }

    /** x F32 [T, K], w [N, K], out F32 [T, N]. */
    private static void checkMatmul(Tensor x, Tensor w, Tensor out) {
        requireF32(x);
        requireF32(out);
        if (w.dim(1) != x.dim(1)) throw new IllegalArgumentException("matmul: x " + x + " vs w " + w);
        requireShape(out, x.dim(0), w.dim(0));
    }

    @Override
    public void addBias(Tensor x, Tensor bias) {
        int T = x.dim(0), N = x.dim(1);
        float[] b = bias(bias, N);
        for (int t = 0; t < T; t++) VectorOps.addBias(x.data(), b, t, N);
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
        int T = x.dim(0), D = x.dim(1);
        float[] w = normWeight(x, weight, out);
        rows(T, D, (t0, t1) -> { for (int t = t0; t < t1; t++) VectorOps.rmsNorm(x.data(), w, eps, out.data(), t, D); });
    }

    /** rmsNorm's weight widened to F32, once x, it and out are checked. */
    private static float[] normWeight(Tensor x, Tensor weight, Tensor out) {
        int D = x.dim(1);
        requireShape(out, x.dim(0), D);
        if (weight.numel() != D) throw new IllegalArgumentException("rmsnorm weight " + weight + " for " + x);
        return VectorOps.widen(weight.data(), weight.dtype(), D);
    }

    /** The residual add and the norm after it row by row, in one pass over the rows (a row is read while in cache). */
    @Override
    public void addRmsNorm(Tensor x, Tensor y, Tensor weight, float eps, Tensor out) {
        int T = x.dim(0), D = x.dim(1);
        if (y.numel() != x.numel()) throw new IllegalArgumentException("add " + x + " " + y);
        float[] w = normWeight(x, weight, out);
        rows(T, D, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                VectorOps.add(x.data(), y.data(), (long) t * D, (long) (t + 1) * D);
                VectorOps.rmsNorm(x.data(), w, eps, out.data(), t, D);
            }
        });
    }

    /** The biases and RoPE of q, k and v row by row, in one pass over the rows, shared out among the threads. */
    @Override
    public void biasRope(Tensor q, Tensor k, Tensor v, Tensor bq, Tensor bk, Tensor bv, int headDim, Tensor cos, Tensor sin,
                         int[] chunkRows, int[] startPos) {
        int T = q.dim(0), qW = q.dim(1), kW = k.dim(1), vW = v.dim(1);
        if (k.dim(0) != T || v.dim(0) != T || qW % headDim != 0 || kW % headDim != 0 || cos.dim(1) * 2 != headDim)
            throw new IllegalArgumentException("biasRope on " + q + ", " + k + ", " + v + " head_dim " + headDim);
        float[] qb = bq == null ? null : bias(bq, qW), kb = bq == null ? null : bias(bk, kW), vb = bq == null ? null : bias(bv, vW);
        int[] pos = ropePositions(T, cos, chunkRows, startPos);
        rows(T, qW + kW + vW, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                if (qb != null) {
                    VectorOps.addBias(q.data(), qb, t, qW);
                    VectorOps.addBias(k.data(), kb, t, kW);
                    VectorOps.addBias(v.data(), vb, t, vW);
                }
                VectorOps.rope(q.data(), t, qW, headDim, cos.data(), sin.data(), pos[t]);
                VectorOps.rope(k.data(), t, kW, headDim, cos.data(), sin.data(), pos[t]);
            }
        });
    }

    private static float[] bias(Tensor bias, int N) {
        if (bias.numel() != N) throw new IllegalArgumentException("bias " + bias + " for rows of " + N);
        return VectorOps.widen(bias.data(), bias.dtype(), N);
    }

    @Override
    public void rope(Tensor x, int headDim, Tensor cos, Tensor sin, int startPos) {
        rope(x, headDim, cos, sin, new int[] {x.dim(0)}, new int[] {startPos});
    }

    @Override
    public void rope(Tensor x, int headDim, Tensor cos, Tensor sin, int[] chunkRows, int[] startPos) {
        int T = x.dim(0), W = x.dim(1);
        if (W % headDim != 0 || cos.dim(1) * 2 != headDim) throw new IllegalArgumentException("rope on " + x + " head_dim " + headDim);
        int[] pos = ropePositions(T, cos, chunkRows, startPos);
        rows(T, W, (t0, t1) -> {
            for (int t = t0; t < t1; t++) VectorOps.rope(x.data(), t, W, headDim, cos.data(), sin.data(), pos[t]);
        });
    }

    /** {@link #rowPositions}, each within the rope table {@code cos}. */
    private static int[] ropePositions(int T, Tensor cos, int[] chunkRows, int[] startPos) {
        int[] pos = rowPositions(T, chunkRows, startPos, null);
        for (int p : pos)
            if (p >= cos.dim(0)) throw new IllegalArgumentException("rope table has " + cos.dim(0) + " positions, need " + (p + 1));
        return pos;
    }

    /** Position of every row of a batch laid out as consecutive chunks; fills {@code rowChunk} (if given) too. */
    private static int[] rowPositions(int T, int[] chunkRows, int[] startPos, int[] rowChunk) {
        if (chunkRows.length != startPos.length) throw new IllegalArgumentException(chunkRows.length + " chunks, " + startPos.length + " start positions");
        int[] pos = new int[T];
        int t = 0;
        for (int i = 0; i < chunkRows.length; i++) {
            if (chunkRows[i] < 0 || startPos[i] < 0 || t + chunkRows[i] > T)
                throw new IllegalArgumentException("chunk " + i + " (" + chunkRows[i] + " rows at " + startPos[i] + ") outside " + T + " rows");
            for (int r = 0; r < chunkRows[i]; r++, t++) {
                pos[t] = startPos[i] + r;
                if (rowChunk != null) rowChunk[t] = i;
            }
        }
        if (t != T) throw new IllegalArgumentException("chunks cover " + t + " rows of " + T);
        return pos;
    }

    @Override
    public void copyRows(Tensor src, Tensor dst, int dstRow) {
        boolean round = src.dtype() == DType.F32 && dst.dtype() == DType.BF16;
        if (src.dim(1) != dst.dim(1) || dstRow < 0 || dstRow + src.dim(0) > dst.dim(0) || (src.dtype() != dst.dtype() && !round))
            throw new IllegalArgumentException("copyRows " + src + " into " + dst + " at row " + dstRow);
        long dstRowBytes = (long) dst.dim(1) * dst.dtype().bytes();
        if (round) VectorOps.toBf16(src.data(), 0, dst.data(), dstRow * dstRowBytes, src.numel());
        else MemorySegment.copy(src.data(), 0, dst.data(), dstRow * dstRowBytes, src.data().byteSize());
    }

    @Override
    public void attention(Tensor q, PagedKv cache, int[] chunkRows, int[] startPos, int heads, int kvHeads, int headDim, Tensor out) {
        int T = q.dim(0);
        requireShape(q, T, heads * headDim);
        requireShape(out, T, heads * headDim);
        cache.check("attention", kvHeads * headDim, chunkRows, startPos);
        int[] rowChunk = new int[T];
        int[] pos = rowPositions(T, chunkRows, startPos, rowChunk);
        Attention.run(pool, q.data(), cache.keys().data(), cache.values().data(), cache.keys().dtype() == DType.BF16, out.data(),
                cache.tables(), cache.blockSize(), rowChunk, pos, heads, kvHeads, headDim);
    }

    @Override
    public void siluMul(Tensor gate, Tensor up, Tensor out) {
        long n = gate.numel();
        if (up.numel() != n || out.numel() != n) throw new IllegalArgumentException("siluMul " + gate + " " + up + " " + out);
        elements(n, (a, b) -> VectorOps.siluMul(gate.data(), up.data(), out.data(), a, b));
    }

    @Override
    public void add(Tensor x, Tensor y) {
        long n = x.numel();
        if (y.numel() != n) throw new IllegalArgumentException("add " + x + " " + y);
        elements(n, (a, b) -> VectorOps.add(x.data(), y.data(), a, b));
    }

    private interface Range { void run(long from, long to); }

    private interface RowRange { void run(int from, int to); }

    /** Splits rows over threads when there is enough work to pay for it. */
    private void rows(int T, int width, RowRange body) {
        if ((long) T * width < PARALLEL_MIN_ELEMENTS || T == 1) body.run(0, T);
        else pool.run(T, (w, a, b) -> body.run(a, b));
    }

    /** Splits a flat element range over threads in vector-aligned chunks. */
    private void elements(long n, Range body) {
        if (n < PARALLEL_MIN_ELEMENTS) { body.run(0, n); return; }
        int chunk = 4096;
        int chunks = (int) ((n + chunk - 1) / chunk);
        pool.run(chunks, (w, a, b) -> body.run((long) a * chunk, Math.min(n, (long) b * chunk)));
    }

    private static void requireF32(Tensor t) {
        if (t.dtype() != DType.F32) throw new IllegalArgumentException("expected an F32 activation, got " + t);
    }

    private static void requireShape(Tensor t, int rows, int cols) {
        if (t.rank() != 2 || t.dim(0) != rows || t.dim(1) != cols)
            throw new IllegalArgumentException("expected [" + rows + ", " + cols + "], got " + Arrays.toString(t.shape()));
    }

    @Override
    public void close() {
        pool.close();
        packed.close();
        owned.values().forEach(Arena::close);
        owned.clear();
    }
}
