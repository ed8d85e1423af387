package dev.rast.kernels.reference;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.backend.PagedKv;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.QuantBlocks;
import dev.rast.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;

/**
 * The whole math of a forward pass as plain scalar loops over floats: with a model's forward (DecoderModel), this one
 * file is everything that computes a token's logits, as llama2.c's run.c is. {@code --device reference} runs it; the
 * backend-ops test (BackendOpsTest) holds every other backend's ops against it.
 *
 * <p>Storage: a tensor's data is a {@link MemorySegment} in host memory (an off-heap buffer from {@link #allocate}, a
 * mapped checkpoint, a heap array). Every element is read through {@link #get}, which widens F32, BF16 and F16 to a
 * float; outputs are written through {@link #set}, F32 as it is, BF16 and F16 rounded to nearest even.
 *
 * <p>Precision: sums (dot products, sums of squares, the softmax's denominator and weighted sums) accumulate in
 * double and are rounded to float once, at the end. Each output is then the exact answer to within one F32
 * rounding, whatever the order of the terms, so the reference does not carry one kernel's summation order: an
 * optimised backend that sums in F32 in its own order, and Hugging Face in PyTorch, differ from it by their own
 * rounding only. F32 accumulation would also stay within the whole-model tests' tolerances of Hugging Face's logits;
 * double makes the reference the fixed point, and closer to HF (max |Δlogit| ≤ 6.2e-6 on the fixtures, where the
 * CPU backend's F32 sums give ≤ 2e-5).
 *
 * <p>No vectors, no threads, no repacking: a weight is read in place, row-major, as the checkpoint stores it. The
 * batched forms (several weights sharing an input, rope, storeKeysValues) are the interface's defaults: the single
 * op once per weight, sequence or block; attention reads every sequence's positions through its block table. Free memory is the interface's -1
 * (unknown), so nothing is checked before allocating.
 */
public final class ReferenceBackend implements Backend {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;

    /** The memory behind each tensor from {@link #allocate}, released by {@link #free} or {@link #close}; guarded by this. */
    private final Map<Tensor, Arena> owned = new HashMap<>();

    @Override public String name() { return "reference (scalar loops)"; }

    // ------------------------------------------------------------------ elements

    /**
     * Element i (row-major) of t, widened to float: BF16 is the top half of an F32, F16 is IEEE half precision; a
     * Q8_0 / Q4_0 element is dequantized from its block, {@code q · d} or {@code (q − 8) · d} ({@link QuantBlocks}).
     */
    private static float get(Tensor t, long i) {
        MemorySegment m = t.data();
        return switch (t.dtype()) {
            case F32 -> m.get(F32, 4 * i);
            case BF16 -> DType.bf16ToFloat(m.get(SHORT, 2 * i));
            case F16 -> Float.float16ToFloat(m.get(SHORT, 2 * i));
            case Q8_0, Q4_0 -> {
                DType q = t.dtype();
                int K = t.dim(-1), k = (int) (i % K);
                long block = i / K * q.rowBytes(K) + (long) (k / QuantBlocks.BLOCK) * q.blockBytes();
                yield QuantBlocks.element(q, m, block, k % QuantBlocks.BLOCK);
            }
        };
    }

    /** Stores v as element i of t, rounded to t's dtype (to nearest even, as {@link DType#floatToBf16}). */
    private static void set(Tensor t, long i, float v) {
        MemorySegment m = t.data();
        switch (t.dtype()) {
            case F32 -> m.set(F32, 4 * i, v);
            case BF16 -> m.set(SHORT, 2 * i, DType.floatToBf16(v));
            case F16 -> m.set(SHORT, 2 * i, Float.floatToFloat16(v));
            case Q8_0, Q4_0 -> throw new IllegalArgumentException("quantized tensors are weights, never written: " + t);
        }
    }

    // ------------------------------------------------------------------ memory

    /** A checkpoint tensor is used as it is: read in place, widened element by element. */
    @Override
    public Tensor weight(Tensor host) { return host; }

    /** Zero-filled host memory, 64-byte aligned. */
    @Override
    public synchronized Tensor allocate(DType dtype, int... shape) {
        Arena arena = Arena.ofShared();
        Tensor t = new Tensor(dtype, shape, arena.allocate(dtype.byteSize(shape), 64));
        owned.put(t, arena);
        return t;
    }

    /** Host memory into a tensor, byte for byte (the sizes must match). */
    @Override
    public void upload(MemorySegment src, Tensor dst) {
        requireBytes(src.byteSize(), dst);
        dst.data().copyFrom(src);
    }

    /** A tensor into host memory, byte for byte (the sizes must match). */
    @Override
    public void download(Tensor src, MemorySegment dst) {
        requireBytes(dst.byteSize(), src);
        dst.copyFrom(src.data());
    }

    @Override
    public synchronized void free(Tensor t) {
        Arena a = owned.remove(t);
        if (a != null) a.close();
    }

    @Override
    public synchronized void close() {
        owned.values().forEach(Arena::close);
        owned.clear();
    }

    // ------------------------------------------------------------------ ops

    /** {@code out[t, d] = table[ids[t], d]}: a row lookup, widened to F32 (exact). */
    @Override
    public void embed(Tensor table, int[] ids, Tensor out) {
        int vocab = table.dim(0), D = table.dim(1);
        requireShape(out, ids.length, D);
        for (int t = 0; t < ids.length; t++) {
            if (ids[t] < 0 || ids[t] >= vocab) throw new IllegalArgumentException("token id " + ids[t] + " outside vocabulary of " + vocab);
            for (int d = 0; d < D; d++) set(out, (long) t * D + d, get(table, (long) ids[t] * D + d));
        }
    }

    /**
     * {@code out[t, n] = Σ_k x[t, k] · w[n, k]}: every output a dot product of a row of x and a row of w (in double,
     * rounded once). A Q8_0 / Q4_0 weight meets x as llama.cpp's CPU does: each row of x is quantized to Q8_0 blocks
     * first, then each block's integer products are summed exactly and scaled by both blocks' scales
     * ({@link QuantBlocks#quantizeActivations}, {@link QuantBlocks#dot}).
     */
    @Override
    public void matmul(Tensor x, Tensor w, Tensor out) {
        int T = x.dim(0), K = x.dim(1), N = w.dim(0);
        if (w.dim(1) != K) throw new IllegalArgumentException("matmul: x " + x + " vs w " + w);
        requireShape(out, T, N);
        if (w.dtype().quantized()) {
            int blocks = (K + QuantBlocks.BLOCK - 1) / QuantBlocks.BLOCK;
            float[] row = new float[K], scales = new float[blocks];
            byte[] q = new byte[blocks * QuantBlocks.BLOCK];
            for (int t = 0; t < T; t++) {
                for (int k = 0; k < K; k++) row[k] = get(x, (long) t * K + k);
                QuantBlocks.quantizeActivations(row, 0, K, q, 0, scales, 0);
                for (int n = 0; n < N; n++) set(out, (long) t * N + n, QuantBlocks.dot(w.dtype(), w.data(), n, K, q, scales));
            }
            return;
        }
        for (int t = 0; t < T; t++)
            for (int n = 0; n < N; n++) {
                double sum = 0;
                for (int k = 0; k < K; k++) sum += (double) get(x, (long) t * K + k) * get(w, (long) n * K + k);
                set(out, (long) t * N + n, (float) sum);
            }
    }

    /** {@code x[t, n] += bias[n]}: one F32 addition per element. */
    @Override
    public void addBias(Tensor x, Tensor bias) {
        int T = x.dim(0), N = x.dim(1);
        if (bias.numel() != N) throw new IllegalArgumentException("bias " + bias + " for " + x);
        for (int t = 0; t < T; t++)
            for (int n = 0; n < N; n++) set(x, (long) t * N + n, get(x, (long) t * N + n) + get(bias, n));
    }

    /**
     * RMSNorm: {@code out[t, d] = x[t, d] / sqrt(mean_d(x[t, d]²) + eps) · weight[d]}. Each row is scaled to unit
     * root-mean-square, then by the learned weight. The row's sum of squares is taken before anything is written,
     * so out may be x.
     */
    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
        int T = x.dim(0), D = x.dim(1);
        requireShape(out, T, D);
        if (weight.numel() != D) throw new IllegalArgumentException("rmsnorm weight " + weight + " for " + x);
        for (int t = 0; t < T; t++) {
            double sumSquares = 0;
            for (int d = 0; d < D; d++) {
                double v = get(x, (long) t * D + d);
                sumSquares += v * v;
            }
            double inverseRms = 1 / Math.sqrt(sumSquares / D + eps);
            for (int d = 0; d < D; d++)
                set(out, (long) t * D + d, (float) (get(x, (long) t * D + d) * inverseRms * get(weight, d)));
        }
    }

    /**
     * Rotary position embedding, in place: row t is at position p = startPos + t; in every head, element i and
     * element i + headDim/2 form a pair (Hugging Face's rotate_half layout) that is rotated by the angle whose
     * cosine and sine are {@code cos[p, i]}, {@code sin[p, i]}:
     * {@code a' = a·cos − b·sin, b' = b·cos + a·sin}.
     */
    @Override
    public void rope(Tensor x, int headDim, Tensor cos, Tensor sin, int startPos) {
        int T = x.dim(0), width = x.dim(1), half = headDim / 2;
        if (width % headDim != 0 || cos.dim(1) != half) throw new IllegalArgumentException("rope on " + x + " head_dim " + headDim);
        if (startPos < 0 || startPos + T > cos.dim(0))
            throw new IllegalArgumentException("rope table has " + cos.dim(0) + " positions, need " + (startPos + T));
        for (int t = 0; t < T; t++) {
            int pos = startPos + t;
            for (int head = 0; head < width / headDim; head++)
                for (int i = 0; i < half; i++) {
                    long ia = (long) t * width + (long) head * headDim + i, ib = ia + half;
                    double a = get(x, ia), b = get(x, ib);
                    double c = get(cos, (long) pos * half + i), s = get(sin, (long) pos * half + i);
                    set(x, ia, (float) (a * c - b * s));
                    set(x, ib, (float) (b * c + a * s));
                }
        }
    }

    /**
     * Rows of src into dst from row dstRow on (a KV cache being filled). Same dtype: the bytes as they are. F32 into
     * BF16 (a BF16 KV cache): each value rounded to the nearest BF16, ties to even ({@link #set}, as
     * {@link DType#floatToBf16}).
     */
    @Override
    public void copyRows(Tensor src, Tensor dst, int dstRow) {
        boolean round = src.dtype() == DType.F32 && dst.dtype() == DType.BF16;
        if (src.dim(1) != dst.dim(1) || dstRow < 0 || dstRow + src.dim(0) > dst.dim(0) || (src.dtype() != dst.dtype() && !round))
            throw new IllegalArgumentException("copyRows " + src + " into " + dst + " at row " + dstRow);
        Tensor target = dst.rows(dstRow, src.dim(0));
        if (round) for (long i = 0; i < src.numel(); i++) set(target, i, get(src, i));
        else target.data().copyFrom(src.data());
    }

    /**
     * Causal scaled dot-product attention with grouped-query heads, over paged caches. Query row t of chunk i is at
     * position p = startPos[i] + r (its r-th row) and sees that sequence's positions 0..p (never later ones), each
     * at pool row {@code cache.row(i, j)}. Query head h reads KV head h / (heads / kvHeads). For each (t, h):
     * <pre>
     *   score[j]     = (q[t, h] · k[j, kvHead]) / sqrt(headDim)        j = 0..p
     *   numerator[j] = exp(score[j] − max_j score[j])                  (subtracting the max keeps exp finite)
     *   out[t, h]    = Σ_j numerator[j] / Σ_j numerator[j] · v[j, kvHead]   (softmax-weighted sum of values)
     * </pre>
     * Pools are F32 or BF16; BF16 keys and values are widened exactly by {@link #get}.
     */
    @Override
    public void attention(Tensor q, PagedKv cache, int[] chunkRows, int[] startPos, int heads, int kvHeads, int headDim, Tensor out) {
        int T = q.dim(0), width = heads * headDim, kvWidth = kvHeads * headDim, group = heads / kvHeads;
        requireShape(q, T, width);
        requireShape(out, T, width);
        if (heads % kvHeads != 0) throw new IllegalArgumentException("attention: " + heads + " heads over " + kvHeads + " KV heads");
        cache.check("attention", kvWidth, chunkRows, startPos);
        Tensor kCache = cache.keys(), vCache = cache.values();
        double scale = 1 / Math.sqrt(headDim);
        int t = 0;
        for (int i = 0; i < chunkRows.length; i++)
            for (int r = 0; r < chunkRows[i]; r++, t++) {
                int positions = startPos[i] + r + 1;
                for (int h = 0; h < heads; h++) {
                    long qAt = (long) t * width + (long) h * headDim;
                    int kvHead = h / group;
                    double[] score = new double[positions];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < positions; j++) {
                        long kAt = (long) cache.row(i, j) * kvWidth + (long) kvHead * headDim;
                        double dot = 0;
                        for (int d = 0; d < headDim; d++) dot += (double) get(q, qAt + d) * get(kCache, kAt + d);
                        score[j] = dot * scale;
                        max = Math.max(max, score[j]);
                    }
                    double[] numerator = new double[positions];
                    double denominator = 0;
                    for (int j = 0; j < positions; j++) {
                        numerator[j] = Math.exp(score[j] - max);
                        denominator += numerator[j];
                    }
                    for (int d = 0; d < headDim; d++) {
                        double value = 0;
                        for (int j = 0; j < positions; j++)
                            value += numerator[j] / denominator * get(vCache, (long) cache.row(i, j) * kvWidth + (long) kvHead * headDim + d);
                        set(out, qAt + d, (float) value);
                    }
                }
            }
        if (t != T) throw new IllegalArgumentException("attention: chunks cover " + t + " rows of " + T);
    }

    /** SwiGLU's gate: {@code out = silu(gate) · up}, silu(g) = g · sigmoid(g) = g / (1 + e^−g). out may be gate. */
    @Override
    public void siluMul(Tensor gate, Tensor up, Tensor out) {
        long n = gate.numel();
        if (up.numel() != n || out.numel() != n) throw new IllegalArgumentException("siluMul " + gate + " " + up + " " + out);
        for (long i = 0; i < n; i++) {
            double g = get(gate, i);
            set(out, i, (float) (g / (1 + Math.exp(-g)) * get(up, i)));
        }
    }

    /** The residual connection: {@code x += y}, one F32 addition per element. */
    @Override
    public void add(Tensor x, Tensor y) {
        long n = x.numel();
        if (y.numel() != n) throw new IllegalArgumentException("add " + x + " " + y);
        for (long i = 0; i < n; i++) set(x, i, get(x, i) + get(y, i));
    }

    // ------------------------------------------------------------------ checks

    private static void requireShape(Tensor t, int rows, int cols) {
        if (t.rank() != 2 || t.dim(0) != rows || t.dim(1) != cols || t.dtype() != DType.F32)
            throw new IllegalArgumentException("expected F32[" + rows + ", " + cols + "], got " + t);
    }

    private static void requireBytes(long bytes, Tensor t) {
        if (bytes != t.data().byteSize())
            throw new IllegalArgumentException("host buffer of " + bytes + " bytes for tensor " + t + " of " + t.data().byteSize());
    }
}
