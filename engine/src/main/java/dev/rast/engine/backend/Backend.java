package dev.rast.engine.backend;

import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The op set a decoder-only transformer needs, and nothing more. A backend owns the storage of the tensors it
 * makes; it never assumes the caller can read them (a CUDA backend keeps them on the device), so data crosses
 * to the host only through {@link #upload} and {@link #download}.
 *
 * <p>Conventions: activations are F32, rank 2, one row per token ({@code [tokens, features]}). Weights keep
 * their stored dtype (F32, BF16, F16) and are {@code [out_features, in_features]} as in Hugging Face checkpoints.
 * Dtype dispatch happens inside the backend, in one place.
 */
public interface Backend extends AutoCloseable {
    String name();

    /**
     * Makes a checkpoint tensor (host memory, possibly mmapped) usable by this backend as a matmul weight, a norm
     * weight or a bias. The CPU backend repacks matrices into the layout its kernels read; CUDA uploads.
     */
    Tensor weight(Tensor host);

    /** Like {@link #weight} for a table that is only read by {@link #embed}, never multiplied with. */
    default Tensor lookupTable(Tensor host) { return weight(host); }

    /** A new zero-filled tensor owned by this backend. */
    Tensor allocate(DType dtype, int... shape);

    /** Copies {@code src} host bytes into {@code dst} (sizes must match). */
    void upload(MemorySegment src, Tensor dst);

    /** Copies {@code src} into host bytes {@code dst} (sizes must match). */
    void download(Tensor src, MemorySegment dst);

    /** {@code out[t] = table[ids[t]]}, widened to F32. */
    void embed(Tensor table, int[] ids, Tensor out);

    /** {@code out[t, n] = Σ_k x[t, k] · w[n, k]}: x is F32 {@code [T, K]}, w any dtype {@code [N, K]}. */
    void matmul(Tensor x, Tensor w, Tensor out);

    /**
     * {@code outs[i] = x · ws[i]ᵀ} for matrices that share their input: q, k and v of the same normed rows, or
     * gate and up. The default runs {@link #matmul(Tensor, Tensor, Tensor)} for each; the CPU backend runs them as
     * one parallel op.
     */
    default void matmul(Tensor x, List<Tensor> ws, List<Tensor> outs) {
        if (ws.size() != outs.size()) throw new IllegalArgumentException(ws.size() + " weights for " + outs.size() + " outputs");
        for (int i = 0; i < ws.size(); i++) matmul(x, ws.get(i), outs.get(i));
    }

    /** {@code x[t, n] += bias[n]}. */
    void addBias(Tensor x, Tensor bias);

    /** {@code out[t] = x[t] / sqrt(mean(x[t]²) + eps) · weight}; out may be x. */
    void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out);

    /**
     * Rotary embedding in place on {@code x [T, heads·headDim]} for positions startPos.., rotating the
     * half-split pairs (i, i + headDim/2) as Hugging Face checkpoints expect. cos/sin are {@code [maxPos, headDim/2]}.
     */
    void rope(Tensor x, int headDim, Tensor cos, Tensor sin, int startPos);

    /**
     * {@link #rope} on a batch of sequences: {@code x}'s rows are consecutive chunks, chunk i has
     * {@code chunkRows[i]} rows at positions {@code startPos[i]}.. of its own sequence. The default runs one
     * {@link #rope} per chunk; a backend overrides it to do the whole batch in one pass.
     */
    default void rope(Tensor x, int headDim, Tensor cos, Tensor sin, int[] chunkRows, int[] startPos) {
        int row = 0;
        for (int i = 0; i < chunkRows.length; i++) {
            rope(x.rows(row, chunkRows[i]), headDim, cos, sin, startPos[i]);
            row += chunkRows[i];
        }
    }

    /**
     * Copies the rows of {@code src} into {@code dst} starting at row {@code dstRow} (e.g. into a KV cache). Both have
     * the same dtype, or {@code src} is F32 and {@code dst} BF16: then each value is rounded to nearest even, as
     * {@link DType#floatToBf16} does.
     */
    void copyRows(Tensor src, Tensor dst, int dstRow);

    /**
     * A batch's new keys and values into their paged caches: {@code k} and {@code v}'s rows are consecutive chunks,
     * chunk i has {@code chunkRows[i]} rows, which go to positions {@code startPos[i]}.. of sequence i of
     * {@code cache} (pool rows through its block table; as {@link #copyRows}: F32, or rounded into BF16 pools). The
     * default runs {@link #copyRows} per piece of a chunk that falls in one block; the CUDA backend stores a decode
     * step's rows in one launch.
     */
    default void storeKeysValues(Tensor k, Tensor v, PagedKv cache, int[] chunkRows, int[] startPos) {
        cache.check("storeKeysValues", k.dim(1), chunkRows, startPos);
        int row = 0, bs = cache.blockSize();
        for (int i = 0; i < chunkRows.length; i++) {
            for (int r = 0; r < chunkRows[i]; ) {
                int pos = startPos[i] + r, n = Math.min(chunkRows[i] - r, bs - pos % bs);
                copyRows(k.rows(row + r, n), cache.keys(), cache.row(i, pos));
                copyRows(v.rows(row + r, n), cache.values(), cache.row(i, pos));
                r += n;
            }
            row += chunkRows[i];
        }
    }

    /**
     * Causal attention of queries {@code q [T, heads·headDim]} at positions startPos.. over the cached keys and
     * values {@code [maxSeq, kvHeads·headDim]} at positions 0..startPos+T-1 (one contiguous cache: the paged
     * {@link #attention(Tensor, PagedKv, int[], int[], int, int, int, Tensor)} with a table of one block).
     */
    default void attention(Tensor q, Tensor kCache, Tensor vCache, int heads, int kvHeads, int headDim, int startPos, Tensor out) {
        attention(q, PagedKv.contiguous(kCache, vCache), new int[] {q.dim(0)}, new int[] {startPos}, heads, kvHeads, headDim, out);
    }

    /**
     * Causal attention on a batch of sequences, each over its own positions of a paged cache: {@code q}'s rows are
     * consecutive chunks, chunk i has {@code chunkRows[i]} rows at positions {@code startPos[i]}.. of sequence i and
     * attends over its positions 0..startPos[i]+r through {@code cache}'s block table i; grouped-query when
     * kvHeads < heads (query head h reads KV head h / (heads / kvHeads)). The pools are F32 or BF16; BF16 values are
     * widened exactly, so the result equals that of F32 pools holding the same (rounded) values, up to summation
     * order. Where the rows sit in the pool changes no bits.
     */
    void attention(Tensor q, PagedKv cache, int[] chunkRows, int[] startPos, int heads, int kvHeads, int headDim, Tensor out);

    /** {@code out = silu(gate) · up}; out may be gate. */
    void siluMul(Tensor gate, Tensor up, Tensor out);

    /** {@code x += y}. */
    void add(Tensor x, Tensor y);

    /**
     * Runs {@code layers}: the forward pass's layer stack over rows of {@code chunkRows} tokens each from
     * {@code startPos}, whose caches' block tables are {@code cache}'s (every layer's are the same). The default runs
     * it; a backend whose launches cost host time may instead replay a recording of an earlier step's launches when
     * it can show that {@code layers} would issue exactly those (the CUDA backend's decode graphs). {@code layers}
     * must only call this backend's ops.
     */
    default void decoderLayers(int[] chunkRows, int[] startPos, PagedKv cache, Runnable layers) { layers.run(); }

    // Fused ops: several of the ops above that the forward pass runs back to back, as one call, so that a backend
    // where each op is a kernel launch (CUDA) can run them as one kernel. Each default runs the plain ops, so a
    // backend gets them correct without doing anything.

    /**
     * A residual add and the RMSNorm after it: {@code x += y}, then {@code out = rmsNorm(x)} ({@link #add}, then
     * {@link #rmsNorm}); out may be y.
     */
    default void addRmsNorm(Tensor x, Tensor y, Tensor weight, float eps, Tensor out) {
        add(x, y);
        rmsNorm(x, weight, eps, out);
    }

    /**
     * The attention input's element-wise tail: q, k and v's biases (bq, bk, bv all null: none) by {@link #addBias},
     * then {@link #rope} of q and k over the batch's chunks, as {@link #rope(Tensor, int, Tensor, Tensor, int[], int[])}.
     */
    default void biasRope(Tensor q, Tensor k, Tensor v, Tensor bq, Tensor bk, Tensor bv, int headDim, Tensor cos, Tensor sin,
                          int[] chunkRows, int[] startPos) {
        if (bq != null) {
            addBias(q, bq);
            addBias(k, bk);
            addBias(v, bv);
        }
        rope(q, headDim, cos, sin, chunkRows, startPos);
        rope(k, headDim, cos, sin, chunkRows, startPos);
    }

    /**
     * The SwiGLU MLP's first half: {@code gate = silu(x·wGateᵀ) · (x·wUpᵀ)}, by {@link #matmul(Tensor, List, List)}
     * into gate and up, then {@link #siluMul}; up is a buffer of gate's shape that may be written.
     */
    default void gateUpSiluMul(Tensor x, Tensor wGate, Tensor wUp, Tensor gate, Tensor up) {
        matmul(x, List.of(wGate, wUp), List.of(gate, up));
        siluMul(gate, up, gate);
    }

    /** Bytes free for new tensors now (host memory for the CPU, device memory for a GPU), or -1 where unknown. */
    default long freeMemoryBytes() { return -1; }

    /** Frees a tensor from {@link #allocate}. */
    void free(Tensor t);

    @Override
    void close();
}
