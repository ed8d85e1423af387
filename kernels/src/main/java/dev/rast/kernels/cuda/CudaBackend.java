package dev.rast.kernels.cuda;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.backend.DeviceLogits;
import dev.rast.engine.backend.PagedKv;
import dev.rast.engine.sample.SamplingParams;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The CUDA backend: weights uploaded once in their stored dtype (bf16 stays bf16), activations and KV caches in
 * device memory, matmuls through cuBLAS or our matvec kernel, everything else through rast's PTX kernels
 * (kernels/src/main/cuda). Tensors hold device addresses; the host never dereferences them.
 *
 * <p>Matmul, by number of tokens T:
 * <ul>
 *   <li>T ≤ 8 (decode): the {@code matvec} kernel, weights in their dtype, x in F32, F32 accumulation: bound by
 *       reading the weights once, like the CPU backend's matrix-vector path; BF16 matrices of at least
 *       {@link #DECODE_GEMM_MIN_WEIGHTS} elements take the stacked split-bf16 GEMM below, which cuBLAS runs closer
 *       to the bandwidth limit.</li>
 *   <li>T &gt; 8 (prefill), F32 weights: cublasGemmEx in F32 (no TF32).</li>
 *   <li>BF16 weights: cuBLAS multiplies bf16 by bf16 only, so x is split into hi = bf16(x) and lo = bf16(x − hi) and
 *       tensor-core GEMMs compute W·hi + W·lo in F32: x keeps ~16 mantissa bits instead of 8, which keeps logits
 *       within the CPU backend's tolerances. Up to {@link #STACKED_MAX_T} rows (a batched decode step) one GEMM
 *       takes [hi; lo] stacked and reads W once; beyond, two GEMMs. {@code -Drast.cuda.gemm=bf16} does one GEMM
 *       on hi only (PyTorch's bf16 precision, half the work).</li>
 *   <li>F16 weights: widened to F32 a slab of rows at a time into a scratch buffer, then F32 GEMM.</li>
 * </ul>
 * Attention: the split-key decode kernels for T &lt; 16 queries, the tiled prefill kernel from 16 on.
 *
 * <p>Backend's fused ops run as one kernel each ({@link #addRmsNorm}, {@link #biasRope}, {@link #gateUpSiluMul} where
 * both matrices take the stacked split-bf16 GEMM), in place of the two to five launches of their default.
 *
 * <p>Beyond the {@link Backend} interface it has the logits pipeline's kernels, {@link #rastFuse} and
 * {@link #sample}, and through them the engine's {@link DeviceLogits} capability, with which the generation loop
 * (rast's Lockstep) fuses and samples on the device and only the chosen ids and log-probabilities come back; the
 * logits rows move between the sequences' slots and the batch by {@link #gatherRows}.
 * Public methods are synchronized: scratch buffers are shared, and one stream orders all work.
 */
public final class CudaBackend implements Backend, DeviceLogits {
    static final int MATVEC_MAX_T = 8;         // matvec.cuh MATVEC_MAX_T
    static final int MATVEC_BLOCK = 256;       // 8 warps, one weight row each
    static final int STACKED_MAX_T = 256;      // split-bf16 GEMMs up to this many rows go as one stacked GEMM
    static final long DECODE_GEMM_MIN_WEIGHTS = 8L << 20;  // BF16 matrices this large take cuBLAS even for T ≤ 8
    static final int ATTENTION_PREFILL_MIN_T = 16;
    static final int MAX_HEAD_DIM = 256;       // attention.cuh ATT_MAX_HEAD_DIM
    // How decode attention splits each (query, head)'s keys: a warp walks its keys in steps (~1 µs each), so a
    // short context on few heads wants many small splits (on an H100, 3 splits of 64 keys took 29 µs for ~150 keys:
    // 12 heads, 36 blocks on 132 SMs; docs/gpu-report.md), while many sequences already fill the GPU and want few
    // long ones (fewer partials to write and combine). So splits aim at DECODE_TARGET_BLOCKS blocks in all, with
    // at least DECODE_MIN_CHUNK keys each and at most DECODE_MAX_SPLITS. -Drast.cuda.decode-min-chunk=64
    // -Drast.cuda.decode-target-blocks=0 (no target: as many splits as allowed) is the split used before.
    static final int DECODE_MIN_CHUNK = 16;
    static final int DECODE_TARGET_BLOCKS = 1024;
    static final int DECODE_MAX_SPLITS = 256;
    static final int GQ_MAX_GROUP = 8;         // attention.cuh GQ_MAX_GROUP
    static final int GQ_MAX_HEAD_DIM = 128;    // attention.cuh GQ_MAX_HEAD_DIM
    static final int GROUPED_KEYS_PER_STEP = 128;  // 4 warps × 32 keys
    static final int SAMPLE_BLOCK = 1024;     // ptxas (CUDA 13, sm_80 and sm_90): 43 registers a thread, 64 fit 1024
    static final long F16_SLAB_BYTES = 64L << 20;

    private final Device raw;                // the device itself
    private final Device dev;                // raw seen through decodeGraphs' tap: every op goes through it
    private final DecodeGraphs decodeGraphs;
    private boolean graphs;                  // decode steps through decodeGraphs (-Drast.cuda.graphs)
    private final boolean splitPrecision;
    private final boolean matvecForAll;
    private final boolean groupedAttention;
    private final int decodeMinChunk, decodeTargetBlocks;  // DECODE_MIN_CHUNK, DECODE_TARGET_BLOCKS unless -D says
    private final Map<Long, Long> owned = new HashMap<>();        // device address → bytes: weights and allocate()
    private final Map<String, long[]> scratch = new HashMap<>();  // name → {address, bytes}
    private boolean closed;

    /** GEMMs against BF16 weights as {@code -Drast.cuda.gemm} says: {@code split} (the default) or {@code bf16}. */
    public CudaBackend(Device dev) { this(dev, gemmProperty()); }

    /**
     * {@code bf16Gemm}: GEMMs against BF16 weights take x rounded to BF16 into one bf16 GEMM with F32 accumulation
     * (PyTorch's and vLLM's precision for these models); false: x split into two BF16 halves (the exact path).
     */
    public CudaBackend(Device dev, boolean bf16Gemm) {
        this.raw = dev;
        DecodeGraphs.Tap tap = new DecodeGraphs.Tap(dev);
        this.dev = tap;
        this.decodeGraphs = new DecodeGraphs(tap);
        this.graphs = graphsProperty();
        this.splitPrecision = !bf16Gemm;
        this.matvecForAll = "all".equals(System.getProperty("rast.cuda.matvec", "small"));
        String attention = System.getProperty("rast.cuda.decode-attention", "per-head");
        if (!attention.equals("per-head") && !attention.equals("grouped"))
            throw new IllegalArgumentException("-Drast.cuda.decode-attention must be per-head or grouped, is '" + attention + "'");
        this.groupedAttention = attention.equals("grouped");
        this.decodeMinChunk = Integer.getInteger("rast.cuda.decode-min-chunk", DECODE_MIN_CHUNK);
        this.decodeTargetBlocks = Integer.getInteger("rast.cuda.decode-target-blocks", DECODE_TARGET_BLOCKS);
    }

    private static boolean gemmProperty() {
        String g = System.getProperty("rast.cuda.gemm", "split");
        if (!g.equals("split") && !g.equals("bf16"))
            throw new IllegalArgumentException("-Drast.cuda.gemm must be split or bf16, is '" + g + "'");
        return g.equals("bf16");
    }

    private static boolean graphsProperty() {
        String g = System.getProperty("rast.cuda.graphs", "off");
        if (!g.equals("on") && !g.equals("off"))
            throw new IllegalArgumentException("-Drast.cuda.graphs must be on or off, is '" + g + "'");
        return g.equals("on");
    }

    public Device device() { return raw; }

    /** Whether decode steps' layer stacks run through CUDA graphs ({@link DecodeGraphs}); -Drast.cuda.graphs. */
    public synchronized void decodeGraphs(boolean on) { graphs = on; }

    /** Decode steps captured, replayed and run eagerly through {@link DecodeGraphs} so far. */
    public synchronized DecodeGraphs.Counts decodeGraphCounts() { return decodeGraphs.counts(); }

    /**
     * A decode step (every chunk one row) with graphs on goes through {@link DecodeGraphs}: this step's positions
     * and block tables are uploaded first (into the buffers the ops would upload them to), so that the layer stack
     * itself uploads nothing and its launches are those of the last step unless an address changed.
     */
    @Override
    public synchronized void decoderLayers(int[] chunkRows, int[] startPos, PagedKv cache, Runnable layers) {
        if (!graphs || !decodeStep(chunkRows, startPos)) {
            layers.run();
            return;
        }
        positions(startPos);
        tables(cache);
        decodeGraphs.run(new DecodeGraphs.Key(chunkRows.length, addr(cache.keys())), layers);
    }

    /** Whether GEMMs against BF16 weights run at BF16 precision (one GEMM) rather than split (two halves of x). */
    public boolean bf16Gemm() { return !splitPrecision; }

    @Override public synchronized long freeMemoryBytes() { return dev.memoryInfo()[0]; }

    @Override
    public String name() { return "cuda (" + dev.description() + ")"; }

    // ------------------------------------------------------------------ memory

    private static Tensor deviceTensor(DType dtype, int[] shape, long address) {
        long n = 1;
        for (int d : shape) n *= d;
        return new Tensor(dtype, shape, MemorySegment.ofAddress(address).reinterpret(n * dtype.bytes()));
    }

    private static long addr(Tensor t) { return t.data().address(); }

    private static String describe(DType dtype, int[] shape) { return dtype + Arrays.toString(shape); }

    /**
     * Uploads a checkpoint tensor once; the copy stays until {@link #free} or {@link #close}. (No cache by host
     * address: a tied LM head is the same backend tensor as the embedding already, and a cache keyed by address
     * would hand out stale weights once a closed checkpoint's mapping is reused.)
     */
    @Override
    public synchronized Tensor weight(Tensor host) {
        if (host.dtype().quantized()) throw quantizedRefused(host.dtype());
        MemorySegment src = host.data();
        long bytes = src.byteSize();
        if (bytes == 0) return deviceTensor(host.dtype(), host.shape(), 0);
        long p = dev.alloc(bytes, "weight " + describe(host.dtype(), host.shape()));
        owned.put(p, bytes);
        dev.toDevice(src, p, bytes);
        return deviceTensor(host.dtype(), host.shape(), p);
    }

    /** Q8_0 / Q4_0 weights are a CPU feature (issue 23): refused before anything is uploaded, in one line. */
    static dev.rast.engine.BadInputException quantizedRefused(DType t) {
        return new dev.rast.engine.BadInputException("--dtype " + t.name().toLowerCase(java.util.Locale.ROOT)
                + ": quantized weights run on the CPU only (--device cpu); on a GPU use --dtype auto, bf16 or f32");
    }

    @Override
    public synchronized Tensor allocate(DType dtype, int... shape) {
        long n = 1;
        for (int d : shape) n *= d;
        long bytes = n * dtype.bytes();
        if (bytes == 0) return deviceTensor(dtype, shape, 0);
        long p = dev.alloc(bytes, describe(dtype, shape));
        dev.zero(p, bytes);
        owned.put(p, bytes);
        return deviceTensor(dtype, shape, p);
    }

    @Override
    public synchronized void free(Tensor t) {
        Long bytes = owned.remove(addr(t));
        if (bytes != null) {
            // Kernels and copies queued on the stream may still use it (a KV cache that grew frees its old tensors
            // right after queuing their copy), and cuMemFree is not documented to wait for them. Frees are rare.
            dev.synchronize();
            dev.free(addr(t));
        }
    }

    /** A device buffer of at least {@code bytes} that lives until close; growing it frees the old one. */
    private long scratch(String name, long bytes) {
        long[] s = scratch.get(name);
        if (s != null && s[1] >= bytes) return s[0];
        if (s != null) {
            dev.synchronize(); // earlier kernels may still read the old buffer
            dev.free(s[0]);
        }
        long size = Math.max(bytes, s == null ? 0 : s[1] * 2);
        long p = dev.alloc(size, "scratch buffer '" + name + "'");
        scratch.put(name, new long[] {p, size});
        return p;
    }

    @Override
    public synchronized void upload(MemorySegment src, Tensor dst) {
        checkBytes(src.byteSize(), dst);
        dev.toDevice(src, addr(dst), src.byteSize());
    }

    @Override
    public synchronized void download(Tensor src, MemorySegment dst) {
        checkBytes(dst.byteSize(), src);
        dev.toHost(addr(src), dst, dst.byteSize());
    }

    private static void checkBytes(long bytes, Tensor t) {
        if (bytes != t.data().byteSize())
            throw new IllegalArgumentException("host buffer of " + bytes + " bytes for tensor " + t + " of " + t.data().byteSize());
    }

    // ------------------------------------------------------------------ ops

    private void launch(KernelArgs args, int gridX, int gridY, int gridZ, int block, int shared) {
        try (args) {
            dev.launch(args, gridX, gridY, gridZ, block, shared);
        }
    }

    /** Blocks for a grid-stride elementwise kernel over n elements. */
    private static int elementBlocks(long n) { return (int) Math.max(1, Math.min((n + 255) / 256, 8192)); }

    @Override
    public synchronized void embed(Tensor table, int[] ids, Tensor out) {
        int V = table.dim(0), D = table.dim(1);
        requireShape(out, ids.length, D);
        requireF32(out);
        for (int id : ids)
            if (id < 0 || id >= V) throw new IllegalArgumentException("token id " + id + " outside vocabulary of " + V);
        if (ids.length == 0) return;
        long p = scratch("token_ids", ids.length * 4L);
        dev.toDevice(MemorySegment.ofArray(ids), p, ids.length * 4L);
        launch(Kernel.EMBED.args().ptr(table).i32(Kernel.dtypeCode(table.dtype())).ptr(p).ptr(out).i32(D), ids.length, 1, 1, 256, 0);
    }

    @Override
    public synchronized void matmul(Tensor x, Tensor w, Tensor out) { matmul(x, List.of(w), List.of(out)); }

    /** Weights that share their input (q, k, v; gate, up) share its split into bf16 halves: one split kernel. */
    @Override
    public synchronized void matmul(Tensor x, List<Tensor> ws, List<Tensor> outs) {
        if (ws.size() != outs.size()) throw new IllegalArgumentException(ws.size() + " weights for " + outs.size() + " outputs");
        int T = x.dim(0), K = x.dim(1);
        requireF32(x);
        for (int i = 0; i < ws.size(); i++) {
            Tensor w = ws.get(i);
            requireF32(outs.get(i));
            if (w.rank() != 2 || w.dim(1) != K) throw new IllegalArgumentException("matmul: x " + x + " vs w " + w);
            requireShape(outs.get(i), T, w.dim(0));
        }
        if (T == 0) return;
        long hi = 0;  // x as [hi; lo] in bf16, made by the first BF16 weight that takes a GEMM
        for (int i = 0; i < ws.size(); i++) {
            Tensor w = ws.get(i), out = outs.get(i);
            int N = w.dim(0);
            if (usesMatvec(T, w)) {
                boolean vec = K % 8 == 0 && addr(x) % 16 == 0 && addr(w) % 16 == 0;
                int warps = MATVEC_BLOCK / 32;
                launch(Kernel.MATVEC.args().ptr(x).ptr(w).i32(Kernel.dtypeCode(w.dtype())).ptr(out).i32(T).i32(N).i32(K)
                        .i32(vec ? 1 : 0), (N + warps - 1) / warps, 1, 1, MATVEC_BLOCK, 0);
                continue;
            }
            switch (w.dtype()) {
                case F32 -> dev.gemm(GemmCall.linear(T, N, K, addr(w), Cublas.CUDA_R_32F, addr(x), Cublas.CUDA_R_32F, addr(out), N, 0f));
                case BF16 -> {
                    if (hi == 0) hi = splitBf16(x, T, K);
                    bf16Gemm(hi, T, N, K, w, out);
                }
                case F16 -> f16Gemm(x, T, N, K, w, out);
            }
        }
    }

    /** x split into hi = bf16(x) and lo = bf16(x − hi), stacked as one [2T, K] operand (lo = hi + T·K·2 bytes). */
    private long splitBf16(Tensor x, int T, int K) {
        long n = (long) T * K;
        long hi = scratch("x_bf16_split", n * 4);
        launch(Kernel.SPLIT_BF16.args().ptr(x).ptr(hi).ptr(hi + n * 2).i64(n), elementBlocks(n), 1, 1, 256, 0);
        return hi;
    }

    /** out = W·hi + W·lo (F32 accumulation), from the split {@link #splitBf16} made. */
    private void bf16Gemm(long hi, int T, int N, int K, Tensor w, Tensor out) {
        long lo = hi + (long) T * K * 2;
        if (!splitPrecision) {
            dev.gemm(GemmCall.linear(T, N, K, addr(w), Cublas.CUDA_R_16BF, hi, Cublas.CUDA_R_16BF, addr(out), N, 0f));
        } else if (T <= STACKED_MAX_T) {
            // Few rows (a decode step): the GEMM is bound by reading W, so one GEMM over [hi; lo] reads it once
            // where two GEMMs read it twice; its two halves are then summed.
            long y = scratch("y_stacked", 2L * T * N * 4), m = (long) T * N;
            dev.gemm(GemmCall.linear(2 * T, N, K, addr(w), Cublas.CUDA_R_16BF, hi, Cublas.CUDA_R_16BF, y, N, 0f));
            launch(Kernel.SUM_HALVES.args().ptr(y).ptr(out).i64(m), elementBlocks(m), 1, 1, 256, 0);
        } else {
            // Many rows (prefill): compute-bound either way; two GEMMs, the second accumulating (beta 1), need no
            // [2T, N] scratch.
            dev.gemm(GemmCall.linear(T, N, K, addr(w), Cublas.CUDA_R_16BF, hi, Cublas.CUDA_R_16BF, addr(out), N, 0f));
            dev.gemm(GemmCall.linear(T, N, K, addr(w), Cublas.CUDA_R_16BF, lo, Cublas.CUDA_R_16BF, addr(out), N, 1f));
        }
    }

    /** F16 weights: widened to F32 a slab of rows at a time, then F32 GEMMs. */
    private void f16Gemm(Tensor x, int T, int N, int K, Tensor w, Tensor out) {
        int slabRows = (int) Math.max(1, Math.min(N, F16_SLAB_BYTES / (4L * K)));
        long slab = scratch("w_f32_slab", (long) slabRows * K * 4);
        for (int r0 = 0; r0 < N; r0 += slabRows) {
            int rows = Math.min(slabRows, N - r0);
            long n = (long) rows * K;
            launch(Kernel.WIDEN_F32.args().ptr(addr(w) + (long) r0 * K * 2).i32(Kernel.dtypeCode(DType.F16)).ptr(slab).i64(n),
                    elementBlocks(n), 1, 1, 256, 0);
            dev.gemm(GemmCall.linear(T, rows, K, slab, Cublas.CUDA_R_32F, addr(x), Cublas.CUDA_R_32F, addr(out) + 4L * r0, N, 0f));
        }
    }

    /**
     * Whether T rows against w take the matvec kernel: up to MATVEC_MAX_T rows, except against large BF16 weights,
     * which go through the stacked split-bf16 GEMM instead:
     * on an H100, cuBLAS read Qwen2.5-7B's MLP and vocabulary matrices at 70–85% of peak bandwidth for 1–8 rows
     * where the matvec kernel reached 39–49% for one row and 14–27% for eight (docs/gpu-report.md, decode-sized
     * matmuls). Small matrices (k/v projections) keep the matvec kernel: one launch instead of split, GEMM and sum
     * (~3 µs each). {@code -Drast.cuda.matvec=all} keeps the matvec kernel for every decode matmul.
     */
    boolean usesMatvec(int T, Tensor w) {
        return T <= MATVEC_MAX_T && (matvecForAll || w.dtype() != DType.BF16 || w.numel() < DECODE_GEMM_MIN_WEIGHTS);
    }

    @Override
    public synchronized void addBias(Tensor x, Tensor bias) {
        int T = x.dim(0), N = x.dim(1);
        requireF32(x);
        if (bias.numel() != N) throw new IllegalArgumentException("bias " + bias + " for " + x);
        if (T == 0) return;
        requireGridY(T, "addBias");
        launch(Kernel.ADD_BIAS.args().ptr(x).ptr(bias).i32(Kernel.dtypeCode(bias.dtype())).i32(N), (N + 255) / 256, T, 1, 256, 0);
    }

    @Override
    public synchronized void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
        int T = x.dim(0), D = x.dim(1);
        requireF32(x);
        requireF32(out);
        requireShape(out, T, D);
        if (weight.numel() != D) throw new IllegalArgumentException("rmsnorm weight " + weight + " for " + x);
        if (T == 0) return;
        launch(Kernel.RMS_NORM.args().ptr(x).ptr(weight).i32(Kernel.dtypeCode(weight.dtype())).f32(eps).ptr(out).i32(D), T, 1, 1, 256, 0);
    }

    @Override
    public synchronized void rope(Tensor x, int headDim, Tensor cos, Tensor sin, int startPos) {
        int T = x.dim(0), W = x.dim(1);
        requireF32(x);
        if (headDim % 2 != 0 || W % headDim != 0 || cos.dim(1) * 2 != headDim)
            throw new IllegalArgumentException("rope on " + x + " head_dim " + headDim);
        if (startPos + T > cos.dim(0)) throw new IllegalArgumentException("rope table has " + cos.dim(0) + " positions, need " + (startPos + T));
        if (T == 0) return;
        launch(Kernel.ROPE.args().ptr(x).i32(W).i32(headDim).ptr(cos).ptr(sin).i32(startPos).ptr(0L), T, 1, 1, 128, 0);
    }

    @Override
    public synchronized void copyRows(Tensor src, Tensor dst, int dstRow) {
        boolean round = src.dtype() == DType.F32 && dst.dtype() == DType.BF16;
        if (src.dim(1) != dst.dim(1) || (src.dtype() != dst.dtype() && !round) || dstRow < 0 || dstRow + src.dim(0) > dst.dim(0))
            throw new IllegalArgumentException("copyRows " + src + " into " + dst + " at row " + dstRow);
        long dstAt = addr(dst) + dstRow * (long) dst.dim(1) * dst.dtype().bytes();
        long n = src.numel();
        if (!round) dev.copy(addr(src), dstAt, src.data().byteSize());
        else if (n > 0) launch(Kernel.TO_BF16.args().ptr(src).ptr(dstAt).i64(n), elementBlocks(n), 1, 1, 256, 0);
    }

    /**
     * One sequence's rows {@code q} at positions startPos.. over the pools {@code cache} through the block table at
     * device address {@code table}: tiled prefill from ATTENTION_PREFILL_MIN_T rows, else split decode attention.
     */
    private void attention(Tensor q, PagedKv cache, long table, int heads, int kvHeads, int headDim, int startPos, Tensor out) {
        int T = q.dim(0);
        if (T == 0) return;
        int kvType = Kernel.dtypeCode(cache.keys().dtype()), bs = cache.blockSize();
        Tensor kPool = cache.keys(), vPool = cache.values();
        float scale = (float) (1.0 / Math.sqrt(headDim));
        if (T >= ATTENTION_PREFILL_MIN_T) {
            launch(Kernel.ATTN_PREFILL.args().ptr(q).ptr(kPool).ptr(vPool).i32(kvType).ptr(out).i32(T).i32(heads).i32(kvHeads)
                    .i32(headDim).i32(startPos).f32(scale).ptr(table).i32(bs), (T + 15) / 16, heads, 1, 128, prefillSharedBytes(headDim));
            return;
        }
        requireGridY(T, "attention");
        int len = startPos + T;
        DecodeSplit d = decodeSplit(len, T, heads, kvHeads, headDim);
        launch((d.grouped ? Kernel.ATTN_DECODE_GROUPED : Kernel.ATTN_DECODE_PARTIAL).args().ptr(q).ptr(kPool).ptr(vPool).i32(kvType)
                .ptr(d.part).i32(heads).i32(kvHeads).i32(headDim).i32(startPos).i32(d.chunk).f32(scale).ptr(table).i32(bs),
                d.blocksPerRow, T, d.splits, 128, 0);
        launch(Kernel.ATTN_DECODE_COMBINE.args().ptr(d.part).ptr(out).i32(heads).i32(headDim).i32(d.splits), heads, T, 1, 128, 0);
    }

    /**
     * The batch's block tables on the device, {@code [chunks, stride]} ints (stride: the longest table's length
     * rounded up to a power of two), and the
     * stride. Every layer of a pass reads the same tables, so they are uploaded only when they differ from the last.
     */
    private record Tables(long address, int stride) {}

    private int[] lastTables;
    private long lastTablesAt;

    private Tables tables(PagedKv cache) {
        int[][] t = cache.tables();
        int longest = 1;
        for (int[] row : t) longest = Math.max(longest, row.length);
        // A power of two, so the stride (a kernel argument) changes only when the longest table doubles.
        int stride = Integer.highestOneBit(longest) == longest ? longest : Integer.highestOneBit(longest) << 1;
        int[] flat = new int[t.length * stride];
        for (int i = 0; i < t.length; i++) System.arraycopy(t[i], 0, flat, i * stride, t[i].length);
        long at = scratch("block_tables", 4L * flat.length);
        if (at != lastTablesAt || !Arrays.equals(flat, lastTables)) {
            dev.toDevice(MemorySegment.ofArray(flat), at, 4L * flat.length);
            lastTables = flat;
            lastTablesAt = at;
        }
        return new Tables(at, stride);
    }

    // A decode step of B sequences (every chunk one row) goes in launches of up to BatchRows.MAX rows each for rope,
    // the KV store and attention, where the defaults launch per sequence: 32 sequences × 28 layers would be ~5,000
    // launches a step, more time than a 7B model's step takes on an H100. Anything else (a prompt) takes the default.

    private static boolean decodeStep(int[] chunkRows, int[] startPos) {
        if (startPos.length != chunkRows.length)
            throw new IllegalArgumentException(chunkRows.length + " chunks, " + startPos.length + " start positions");
        for (int r : chunkRows) if (r != 1) return false;
        return chunkRows.length >= 1; // one sequence too: its launches then read its position from device memory
    }

    @Override
    public synchronized void rope(Tensor x, int headDim, Tensor cos, Tensor sin, int[] chunkRows, int[] startPos) {
        if (!decodeStep(chunkRows, startPos)) {
            Backend.super.rope(x, headDim, cos, sin, chunkRows, startPos);
            return;
        }
        int W = x.dim(1), B = chunkRows.length;
        requireF32(x);
        if (x.dim(0) != B || headDim % 2 != 0 || W % headDim != 0 || cos.dim(1) * 2 != headDim)
            throw new IllegalArgumentException("rope on " + x + " head_dim " + headDim + " for " + B + " sequences");
        for (int p : startPos)
            if (p < 0 || p >= cos.dim(0)) throw new IllegalArgumentException("rope table has " + cos.dim(0) + " positions, need " + (p + 1));
        long pos = positions(startPos);
        for (int from = 0; from < B; from += BatchRows.MAX) {
            int n = Math.min(BatchRows.MAX, B - from);
            launch(Kernel.ROPE_ROWS.args().ptr(addr(x) + (long) from * W * 4).i32(W).i32(headDim).ptr(cos).ptr(sin)
                    .ptr(pos + 4L * from), n, 1, 1, 128, 0);
        }
    }

    @Override
    public synchronized void storeKeysValues(Tensor k, Tensor v, PagedKv cache, int[] chunkRows, int[] startPos) {
        if (!decodeStep(chunkRows, startPos)) {
            Backend.super.storeKeysValues(k, v, cache, chunkRows, startPos);
            return;
        }
        int B = chunkRows.length, W = k.dim(1);
        requireF32(k);
        requireF32(v);
        cache.check("storeKeysValues", W, chunkRows, startPos);
        if (k.dim(0) != B || v.dim(0) != B || v.dim(1) != W)
            throw new IllegalArgumentException("storeKeysValues " + k + " " + v + " for " + B + " sequences");
        Tables t = tables(cache);
        long pos = positions(startPos);
        long[] kp = pools(cache.keys(), B), vp = pools(cache.values(), B);
        for (int from = 0; from < B; from += BatchRows.MAX) {
            int n = Math.min(BatchRows.MAX, B - from);
            launch(Kernel.STORE_KV.args().ptr(addr(k) + (long) from * W * 4).ptr(addr(v) + (long) from * W * 4).i32(W)
                    .i32(Kernel.dtypeCode(cache.keys().dtype())).struct(BatchRows.of(kp, vp, from, n)).ptr(pos + 4L * from)
                    .ptr(t.address + 4L * from * t.stride).i32(t.stride).i32(cache.blockSize()), n, 2, 1, 256, 0);
        }
    }

    @Override
    public synchronized void attention(Tensor q, PagedKv cache, int[] chunkRows, int[] startPos,
                                       int heads, int kvHeads, int headDim, Tensor out) {
        int T = q.dim(0);
        requireShape(q, T, heads * headDim);
        requireShape(out, T, heads * headDim);
        requireHeads(heads, kvHeads, headDim);
        // Each row reads positions 0..its own of its sequence, its own token included (stored before).
        cache.check("attention", kvHeads * headDim, chunkRows, startPos);
        Tables t = tables(cache);
        if (!decodeStep(chunkRows, startPos)) { // a prompt (or one sequence): chunk by chunk
            int row = 0;
            for (int i = 0; i < chunkRows.length; i++) {
                attention(q.rows(row, chunkRows[i]), cache, t.address + 4L * i * t.stride, heads, kvHeads, headDim, startPos[i],
                        out.rows(row, chunkRows[i]));
                row += chunkRows[i];
            }
            if (row != T) throw new IllegalArgumentException("attention: chunks cover " + row + " rows of " + T);
            return;
        }
        int B = chunkRows.length;
        requireShape(q, B, heads * headDim);
        long[] kp = pools(cache.keys(), B), vp = pools(cache.values(), B);
        long pos = positions(startPos);
        float scale = (float) (1.0 / Math.sqrt(headDim));
        int width = heads * headDim;
        for (int from = 0; from < B; from += BatchRows.MAX) {
            int n = Math.min(BatchRows.MAX, B - from);
            RowsSplit d = rowsSplit(startPos, from, n, heads, kvHeads, headDim);
            long qAt = addr(q) + (long) from * width * 4, outAt = addr(out) + (long) from * width * 4;
            launch((d.grouped ? Kernel.ATTN_DECODE_GROUPED_ROWS : Kernel.ATTN_DECODE_ROWS).args().ptr(qAt)
                    .struct(BatchRows.of(kp, vp, from, n)).ptr(pos + 4L * from).i32(Kernel.dtypeCode(cache.keys().dtype()))
                    .ptr(d.part).i32(heads).i32(kvHeads).i32(headDim).i32(d.chunkSplits).i32(d.minChunk).f32(scale)
                    .ptr(t.address + 4L * from * t.stride).i32(t.stride).i32(cache.blockSize()), d.blocksPerRow, n, d.splits, 128, 0);
            launch(Kernel.ATTN_DECODE_COMBINE.args().ptr(d.part).ptr(outAt).i32(heads).i32(headDim).i32(d.splits), heads, n, 1, 128, 0);
        }
    }

    /**
     * A batched decode launch's split (attn_decode_rows, attn_decode_grouped_rows): each row takes
     * {@code row_chunk(len, chunkSplits, minChunk)} keys a split (attention.cuh), from its own length, so the launch's
     * arguments are the same every step; {@code splits}, the grid's, is what the longest row needs (splits past a
     * row's length leave empty partials, which the combine skips, so the bits do not depend on it).
     */
    private record RowsSplit(boolean grouped, int blocksPerRow, int chunkSplits, int minChunk, int splits, long part) {}

    private RowsSplit rowsSplit(int[] startPos, int from, int n, int heads, int kvHeads, int headDim) {
        boolean grouped = grouped(heads, kvHeads, headDim);
        int blocksPerRow = grouped ? kvHeads : heads;
        int chunkSplits = decodeSplits(n * blocksPerRow, decodeTargetBlocks);
        int minChunk = grouped ? Math.max(decodeMinChunk, GROUPED_KEYS_PER_STEP) : decodeMinChunk;
        int multiple = grouped ? GROUPED_KEYS_PER_STEP : 1, splits = 1;
        for (int i = from; i < from + n; i++) {
            int len = startPos[i] + 1;
            int c = Math.max(minChunk, (len + chunkSplits - 1) / chunkSplits);
            c = (c + multiple - 1) / multiple * multiple;
            splits = Math.max(splits, (len + c - 1) / c);
        }
        long part = scratch("attention_partials", (long) n * heads * splits * (headDim + 2) * 4);
        return new RowsSplit(grouped, blocksPerRow, chunkSplits, minChunk, splits, part);
    }

    /** The pool's address for each of {@code B} rows (every sequence of a batch reads the same pool). */
    private static long[] pools(Tensor pool, int B) {
        long[] a = new long[B];
        Arrays.fill(a, addr(pool));
        return a;
    }

    /** What the attention kernels support: whole groups of query heads per KV head, head_dim ≤ MAX_HEAD_DIM. */
    private static void requireHeads(int heads, int kvHeads, int headDim) {
        if (heads % kvHeads != 0) throw new IllegalArgumentException("attention: " + heads + " heads over " + kvHeads + " KV heads");
        if (headDim > MAX_HEAD_DIM) throw new IllegalArgumentException("attention: head_dim " + headDim + " > " + MAX_HEAD_DIM);
    }

    /**
     * Whether decode attention takes the grouped kernel (a block per KV head for its query group, each key and
     * value row read by one block instead of one per query head): {@code -Drast.cuda.decode-attention=grouped}, for query
     * groups of up to 8 heads of up to 128 dims (Qwen2.5, Llama-3.1). Off by default until measured on a GPU
     * against the per-head kernel (scripts/gpu-profile.sh compares them).
     */
    private boolean grouped(int heads, int kvHeads, int headDim) {
        return groupedAttention && heads / kvHeads <= GQ_MAX_GROUP && headDim <= GQ_MAX_HEAD_DIM;
    }

    /**
     * How a decode attention launch of {@code rows} queries over up to {@code len} keys splits: which kernel
     * (grouped: a block per KV head, else per query head), its blocks per query row, keys per split (the grouped
     * kernel's a multiple of 128: its 4 warps step through 32 keys each at a time), splits, and the partials'
     * scratch ([rows, heads, splits, headDim + 2] floats, for the combine).
     */
    private record DecodeSplit(boolean grouped, int blocksPerRow, int chunk, int splits, long part) {}

    private DecodeSplit decodeSplit(int len, int rows, int heads, int kvHeads, int headDim) {
        boolean grouped = grouped(heads, kvHeads, headDim);
        int blocksPerRow = grouped ? kvHeads : heads, chunk;
        if (grouped) {
            int c = decodeChunk(len, rows * blocksPerRow, decodeTargetBlocks, Math.max(decodeMinChunk, GROUPED_KEYS_PER_STEP));
            chunk = (c + GROUPED_KEYS_PER_STEP - 1) / GROUPED_KEYS_PER_STEP * GROUPED_KEYS_PER_STEP;
        } else {
            chunk = decodeChunk(len, rows * blocksPerRow, decodeTargetBlocks, decodeMinChunk);
        }
        int splits = (len + chunk - 1) / chunk;
        long part = scratch("attention_partials", (long) rows * heads * splits * (headDim + 2) * 4);
        return new DecodeSplit(grouped, blocksPerRow, chunk, splits, part);
    }

    /**
     * Keys per split for {@code len} keys and {@code parallel} blocks a split (rows × heads, or × KV heads for the
     * grouped kernel): enough splits for about {@code targetBlocks} blocks (0: no target), at most
     * DECODE_MAX_SPLITS (bounded scratch and combine work), and at least {@code minChunk} keys each.
     */
    static int decodeChunk(int len, int parallel, int targetBlocks, int minChunk) {
        int splits = decodeSplits(parallel, targetBlocks);
        return Math.max(minChunk, (len + splits - 1) / splits);
    }

    /** Splits a row's keys aim at: about {@code targetBlocks} blocks over {@code parallel} (0: DECODE_MAX_SPLITS). */
    static int decodeSplits(int parallel, int targetBlocks) {
        return targetBlocks <= 0 ? DECODE_MAX_SPLITS : Math.clamp((targetBlocks + parallel - 1) / parallel, 1, DECODE_MAX_SPLITS);
    }

    /** attention.cuh attn_prefill: keys (padded rows) + values for a 32-key tile, queries for a 16-query tile. */
    static int prefillSharedBytes(int headDim) { return (32 * (headDim + 1) + 32 * headDim + 16 * headDim) * 4; }

    @Override
    public synchronized void siluMul(Tensor gate, Tensor up, Tensor out) {
        long n = gate.numel();
        if (up.numel() != n || out.numel() != n) throw new IllegalArgumentException("siluMul " + gate + " " + up + " " + out);
        if (n == 0) return;
        launch(Kernel.SILU_MUL.args().ptr(gate).ptr(up).ptr(out).i64(n), elementBlocks(n), 1, 1, 256, 0);
    }

    @Override
    public synchronized void add(Tensor x, Tensor y) {
        long n = x.numel();
        if (y.numel() != n) throw new IllegalArgumentException("add " + x + " " + y);
        if (n == 0) return;
        launch(Kernel.ADD.args().ptr(x).ptr(y).i64(n), elementBlocks(n), 1, 1, 256, 0);
    }

    // ------------------------------------------------------------------ fused ops (Backend's defaults run the plain ops)

    /** One {@code add_rms_norm} launch for add_inplace + rms_norm. */
    @Override
    public synchronized void addRmsNorm(Tensor x, Tensor y, Tensor weight, float eps, Tensor out) {
        int T = x.dim(0), D = x.dim(1);
        requireF32(x);
        requireF32(y);
        requireF32(out);
        requireShape(y, T, D);
        requireShape(out, T, D);
        if (weight.numel() != D) throw new IllegalArgumentException("rmsnorm weight " + weight + " for " + x);
        if (T == 0) return;
        launch(Kernel.ADD_RMS_NORM.args().ptr(x).ptr(y).ptr(weight).i32(Kernel.dtypeCode(weight.dtype())).f32(eps).ptr(out).i32(D),
                T, 1, 1, 256, 0);
    }

    /**
     * One {@code bias_rope} launch for the three bias adds and both RoPEs, every row at its own position (any mix
     * of prompt chunks and decode tokens). The positions go up once per forward pass: the upload is skipped while
     * they equal the last one's (every layer of a pass rotates the same positions).
     */
    @Override
    public synchronized void biasRope(Tensor q, Tensor k, Tensor v, Tensor bq, Tensor bk, Tensor bv, int headDim, Tensor cos,
                                      Tensor sin, int[] chunkRows, int[] startPos) {
        int T = q.dim(0), qW = q.dim(1), kvW = k.dim(1);
        requireF32(q);
        requireF32(k);
        requireF32(v);
        requireShape(k, T, kvW);
        requireShape(v, T, kvW);
        if (headDim % 2 != 0 || qW % headDim != 0 || kvW % headDim != 0 || cos.dim(1) * 2 != headDim)
            throw new IllegalArgumentException("rope on " + q + ", " + k + " head_dim " + headDim);
        if ((bq == null) != (bk == null) || (bq == null) != (bv == null))
            throw new IllegalArgumentException("biasRope: q, k and v biases must all be given or none");
        if (bq != null && (bq.numel() != qW || bk.numel() != kvW || bv.numel() != kvW || bk.dtype() != bq.dtype() || bv.dtype() != bq.dtype()))
            throw new IllegalArgumentException("biasRope: biases " + bq + ", " + bk + ", " + bv + " for " + q + ", " + k);
        if (startPos.length != chunkRows.length)
            throw new IllegalArgumentException(chunkRows.length + " chunks, " + startPos.length + " start positions");
        int[] pos = new int[T];
        int row = 0;
        for (int i = 0; i < chunkRows.length; i++) {
            if (startPos[i] < 0 || startPos[i] + chunkRows[i] > cos.dim(0))
                throw new IllegalArgumentException("rope table has " + cos.dim(0) + " positions, need " + (startPos[i] + chunkRows[i]));
            for (int j = 0; j < chunkRows[i]; j++) {
                if (row == T) throw new IllegalArgumentException("biasRope: chunks of more than " + T + " rows");
                pos[row++] = startPos[i] + j;
            }
        }
        if (row != T) throw new IllegalArgumentException("biasRope: chunks of " + row + " rows for " + T);
        if (T == 0) return;
        long positions = positions(pos);
        launch(Kernel.BIAS_ROPE.args().ptr(q).ptr(k).ptr(v).ptr(bq == null ? 0L : addr(bq)).ptr(bk == null ? 0L : addr(bk))
                .ptr(bv == null ? 0L : addr(bv)).i32(bq == null ? 0 : Kernel.dtypeCode(bq.dtype())).i32(qW).i32(kvW).i32(headDim)
                .ptr(cos).ptr(sin).ptr(positions), T, 1, 1, 128, 0);
    }

    private int[] lastPositions;
    private long lastPositionsAt;

    /** The device copy of {@code pos}, uploaded only when it differs from the last one (or its buffer moved). */
    private long positions(int[] pos) {
        long p = scratch("rope_positions", pos.length * 4L);
        if (p != lastPositionsAt || !Arrays.equals(pos, lastPositions)) {
            dev.toDevice(MemorySegment.ofArray(pos), p, pos.length * 4L);
            lastPositions = pos;
            lastPositionsAt = p;
        }
        return p;
    }

    /**
     * Where both matrices take the stacked split-bf16 GEMM ({@link #bf16Gemm}: BF16, not the matvec kernel, up to
     * STACKED_MAX_T rows), {@code silu_mul_halves} reads the two GEMMs' stacked outputs directly, in place of two
     * sum_halves and a silu_mul. Otherwise the plain matmul and siluMul.
     */
    @Override
    public synchronized void gateUpSiluMul(Tensor x, Tensor wGate, Tensor wUp, Tensor gate, Tensor up) {
        int T = x.dim(0), K = x.dim(1), N = wGate.dim(0);
        boolean stacked = splitPrecision && T > 0 && T <= STACKED_MAX_T
                && wGate.dtype() == DType.BF16 && wUp.dtype() == DType.BF16 && !usesMatvec(T, wGate) && !usesMatvec(T, wUp);
        if (!stacked) {
            Backend.super.gateUpSiluMul(x, wGate, wUp, gate, up);
            return;
        }
        requireF32(x);
        requireF32(gate);
        for (Tensor w : List.of(wGate, wUp))
            if (w.rank() != 2 || w.dim(0) != N || w.dim(1) != K) throw new IllegalArgumentException("gateUpSiluMul: x " + x + " vs w " + w);
        requireShape(gate, T, N);
        long m = (long) T * N, hi = splitBf16(x, T, K);
        long yg = scratch("y_gate_stacked", 2 * m * 4), yu = scratch("y_up_stacked", 2 * m * 4);
        dev.gemm(GemmCall.linear(2 * T, N, K, addr(wGate), Cublas.CUDA_R_16BF, hi, Cublas.CUDA_R_16BF, yg, N, 0f));
        dev.gemm(GemmCall.linear(2 * T, N, K, addr(wUp), Cublas.CUDA_R_16BF, hi, Cublas.CUDA_R_16BF, yu, N, 0f));
        launch(Kernel.SILU_MUL_HALVES.args().ptr(yg).ptr(yu).ptr(gate).i64(m), elementBlocks(m), 1, 1, 256, 0);
    }

    // ------------------------------------------------------------------ logits pipeline

    /**
     * {@link DeviceLogits#gatherRows}: one {@code gather_rows} launch for up to RowTables.MAX tables, the row
     * indices uploaded in one copy.
     */
    @Override
    public synchronized void gatherRows(List<Tensor> src, int[] srcRows, List<Tensor> dst, int[] dstRows) {
        if (src.size() != dst.size() || src.isEmpty()) throw new IllegalArgumentException("gatherRows: " + src.size() + " sources, " + dst.size() + " destinations");
        if (srcRows == null && dstRows == null) throw new IllegalArgumentException("gatherRows: no row indices");
        if (srcRows != null && dstRows != null && srcRows.length != dstRows.length)
            throw new IllegalArgumentException("gatherRows: " + srcRows.length + " source rows, " + dstRows.length + " destination rows");
        int n = srcRows != null ? srcRows.length : dstRows.length;
        if (n == 0) return;
        requireGridY(n, "gatherRows");
        int tables = src.size();
        long[] s = new long[tables], d = new long[tables], width = new long[tables];
        long maxWidth = 0;
        for (int t = 0; t < tables; t++) {
            Tensor a = src.get(t), b = dst.get(t);
            requireF32(a);
            requireF32(b);
            if (a.rank() != 2 || b.rank() != 2 || a.dim(1) != b.dim(1))
                throw new IllegalArgumentException("gatherRows: rows of " + a + " into " + b);
            checkRows(srcRows, n, a.dim(0), "source");
            checkRows(dstRows, n, b.dim(0), "destination");
            s[t] = addr(a);
            d[t] = addr(b);
            width[t] = a.dim(1);
            maxWidth = Math.max(maxWidth, width[t]);
        }
        if (maxWidth == 0) return;
        // One upload: [srcRows | dstRows].
        long idx = scratch("gather_rows", 8L * n);
        if (srcRows != null) dev.toDevice(MemorySegment.ofArray(srcRows), idx, 4L * n);
        if (dstRows != null) dev.toDevice(MemorySegment.ofArray(dstRows), idx + 4L * n, 4L * n);
        int blocksX = (int) ((maxWidth + 2047) / 2048);
        for (int from = 0; from < tables; from += RowTables.MAX) {
            int k = Math.min(RowTables.MAX, tables - from);
            launch(Kernel.GATHER_ROWS.args().struct(RowTables.of(s, d, width, from, k)).ptr(srcRows == null ? 0L : idx)
                    .ptr(dstRows == null ? 0L : idx + 4L * n), blocksX, n, k, 256, 0);
        }
    }

    /** Row indices in [0, rows), no row twice where they are written to. */
    private static void checkRows(int[] r, int n, int rows, String what) {
        if (r == null) {
            if (n > rows) throw new IllegalArgumentException("gatherRows: " + n + " rows, the " + what + " has " + rows);
            return;
        }
        for (int i : r) if (i < 0 || i >= rows) throw new IllegalArgumentException("gatherRows: " + what + " row " + i + " of " + rows);
        if (what.equals("destination") && Arrays.stream(r).distinct().count() != r.length)
            throw new IllegalArgumentException("gatherRows: a destination row repeats in " + Arrays.toString(r));
    }


    /**
     * RAST fusion for rows of logits: {@code out[r, v] = m[r, v] + Σᵢ λᵢ·(eᵢ[r, v] − bᵢ[r, v])} for v &lt; shared and
     * −inf for shared ≤ v &lt; out's width, summed left to right in F32. out and m are {@code [rows, vocabM]}; each
     * expert and base {@code [rows, ≥ shared]}.
     */
    public synchronized void rastFuse(Tensor out, Tensor m, List<Tensor> experts, List<Tensor> bases, float[] lambdas, int shared) {
        int rows = m.dim(0), vocab = m.dim(1);
        requireShape(out, rows, vocab);
        if (experts.isEmpty() || experts.size() != bases.size() || experts.size() != lambdas.length)
            throw new IllegalArgumentException("rastFuse: " + experts.size() + " experts, " + bases.size() + " bases, "
                    + lambdas.length + " lambdas");
        if (shared < 1 || shared > vocab) throw new IllegalArgumentException("rastFuse: shared vocabulary " + shared + " of " + vocab);
        List<Tensor> all = new ArrayList<>(List.of(out, m));
        all.addAll(experts);
        all.addAll(bases);
        for (Tensor t : all) {
            requireF32(t);
            if (t.rank() != 2 || t.dim(0) != rows || t.dim(1) < shared)
                throw new IllegalArgumentException("rastFuse: logits " + t + " for " + rows + " rows over " + shared + " shared ids");
        }
        requireGridY(rows, "rastFuse");
        for (int i = 0; i < experts.size(); i++) {
            Tensor e = experts.get(i), b = bases.get(i);
            launch(Kernel.RAST_FUSE.args().ptr(out).i64(vocab).ptr(m).i64(vocab).ptr(e).i64(e.dim(1)).ptr(b).i64(b.dim(1))
                    .f32(lambdas[i]).i32(shared).i32(vocab).i32(i == 0 ? 1 : 0), (vocab + 255) / 256, rows, 1, 256, 0);
        }
    }

    /**
     * Draws one id per row of {@code logits [rows, ≥ vocab]} over its first {@code vocab} columns (see
     * sampling.cuh), draw number {@code step} of each row's seed; only the ids come back to the host.
     */
    public synchronized int[] sample(Tensor logits, int vocab, DeviceSampling s, long[] seeds, long step) {
        int rows = logits.dim(0);
        requireF32(logits);
        if (vocab < 1 || vocab > logits.dim(1)) throw new IllegalArgumentException("sample: vocab " + vocab + " of " + logits);
        if (seeds.length != rows) throw new IllegalArgumentException("sample: " + seeds.length + " seeds for " + rows + " rows");
        long seedBuf = scratch("sample_seeds", rows * 8L);
        long idBuf = scratch("sample_ids", rows * 4L);
        dev.toDevice(MemorySegment.ofArray(seeds), seedBuf, rows * 8L);
        launch(Kernel.SAMPLE_TOKENS.args().ptr(logits).i64(logits.dim(1)).i32(vocab).f32(s.temperature()).i32(s.topK())
                .f32(s.topP()).f32(s.minP()).ptr(seedBuf).i64(step).ptr(0L).ptr(idBuf).ptr(0L), rows, 1, 1, SAMPLE_BLOCK, 0);
        int[] ids = new int[rows];
        dev.toHost(idBuf, MemorySegment.ofArray(ids), rows * 4L);
        return ids;
    }

    @Override
    public void fuse(Tensor out, Tensor m, List<Tensor> experts, List<Tensor> bases, float[] lambdas, int shared) {
        rastFuse(out, m, experts, bases, lambdas, shared);
    }

    /**
     * The product path's choice (see {@link DeviceLogits#choose}): sample_tokens over each row's whole width with
     * the host's draws; ids and log-probabilities come back in one transfer.
     */
    @Override
    public synchronized int[] choose(Tensor logits, SamplingParams p, double[] uniforms, double[] logprobs) {
        int rows = logits.dim(0), vocab = logits.dim(1);
        requireF32(logits);
        if (logprobs.length != rows || (!p.isGreedy() && uniforms.length != rows))
            throw new IllegalArgumentException("choose: " + rows + " rows, " + uniforms.length + " draws, " + logprobs.length + " log-probabilities");
        if (rows == 0) return new int[0];
        requireGridY(rows, "choose");
        // Host topK ≥ vocab and topP = 1 are "off", as the kernel's topK ≥ V and topP ≥ 1.
        DeviceSampling s = new DeviceSampling((float) p.temperature(), p.topK(), (float) p.topP(), (float) p.minP());
        // One buffer for draws in, ids and log-probabilities out: [u_0..u_n | id_0..id_n | lp_0..lp_n], 4 bytes each.
        long buf = scratch("choose_rows", rows * 12L);
        float[] u = new float[rows];
        if (!p.isGreedy()) for (int r = 0; r < rows; r++) u[r] = (float) uniforms[r];
        dev.toDevice(MemorySegment.ofArray(u), buf, rows * 4L);
        launch(Kernel.SAMPLE_TOKENS.args().ptr(logits).i64(vocab).i32(vocab).f32(s.temperature()).i32(s.topK())
                .f32(s.topP()).f32(s.minP()).ptr(0L).i64(0).ptr(buf).ptr(buf + rows * 4L).ptr(buf + rows * 8L),
                rows, 1, 1, SAMPLE_BLOCK, 0);
        int[] back = new int[rows * 2];
        dev.toHost(buf + rows * 4L, MemorySegment.ofArray(back), rows * 8L);
        int[] ids = Arrays.copyOf(back, rows);
        for (int r = 0; r < rows; r++) logprobs[r] = Float.intBitsToFloat(back[rows + r]);
        return ids;
    }

    // ------------------------------------------------------------------ checks

    private static void requireF32(Tensor t) {
        if (t.dtype() != DType.F32) throw new IllegalArgumentException("expected an F32 activation, got " + t);
    }

    private static void requireShape(Tensor t, int rows, int cols) {
        if (t.rank() != 2 || t.dim(0) != rows || t.dim(1) != cols)
            throw new IllegalArgumentException("expected [" + rows + ", " + cols + "], got " + Arrays.toString(t.shape()));
    }

    /** Frees one buffer in {@link #close}, carrying on past a failure so the rest are freed too; returns the first. */
    private RuntimeException freeQuietly(long p, RuntimeException first) {
        try {
            dev.free(p);
        } catch (RuntimeException e) {
            return first != null ? first : e;
        }
        return first;
    }

    private static void requireGridY(int n, String op) {
        if (n > 65535) throw new IllegalArgumentException(op + ": " + n + " rows in one call (at most 65535)");
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        try {
            try {
                dev.synchronize(); // as in free()
            } catch (RuntimeException e) {
                // a failed kernel leaves the context unusable: still free what can be freed and destroy it
            }
            RuntimeException first = null;
            for (long p : owned.keySet()) first = freeQuietly(p, first);
            for (long[] s : scratch.values()) first = freeQuietly(s[0], first);
            if (first != null) throw first;
        } finally {
            owned.clear();
            scratch.clear();
            try {
                decodeGraphs.close();
            } finally {
                dev.close();
            }
        }
    }

    /** The bytes this backend holds on the device (weights, tensors, scratch buffers). */
    public synchronized long deviceBytes() {
        long n = 0;
        for (long b : owned.values()) n += b;
        for (long[] s : scratch.values()) n += s[1];
        return n;
    }
}
