package dev.rast.kernels.cuda;

import dev.rast.engine.tensor.DType;

/**
 * The entry points of rast_kernels.ptx (sources in kernels/src/main/cuda) and their parameter lists, one letter
 * per parameter: {@code p} a device pointer, {@code l} a 64-bit integer, {@code i} a 32-bit integer, {@code f} a
 * float, {@code b} a struct by value ({@link BatchRows}, {@link RowTables}). {@link KernelArgs} refuses a launch whose arguments do not spell the signature, and the tests check every
 * signature against the PTX's {@code .param} declarations, so a mismatch is caught without a GPU.
 */
public enum Kernel {
    /** (x, w, wtype, eps, out, D); grid rows. */
    RMS_NORM("rms_norm", "ppifpi"),
    /** (x, y, w, wtype, eps, out, D): x += y, out = rms_norm(x); grid rows. */
    ADD_RMS_NORM("add_rms_norm", "pppifpi"),
    /** (x, width, headDim, cos, sin, startPos, positions|null); grid rows. */
    ROPE("rope", "piippip"),
    /** (x, width, headDim, cos, sin, rows); grid rows: decode row r at position rows.pos[r]. */
    ROPE_ROWS("rope_rows", "piippp"),
    /** (q, k, v, bq|null, bk, bv, btype, qWidth, kvWidth, headDim, cos, sin, positions); grid rows. */
    BIAS_ROPE("bias_rope", "ppppppiiiippp"),
    /** (k, v, width, kvType, rows, tables, tableStride, blockSize); grid (rows, 2): row r of k and v into position rows.pos[r] of pools rows.k[r], rows.v[r] through block table r. */
    STORE_KV("store_kv", "ppiibppii"),
    /** (gate, up, out, n). */
    SILU_MUL("silu_mul", "pppl"),
    /** (yGate, yUp, out, n): out = silu(yGate halves summed) · (yUp halves summed). */
    SILU_MUL_HALVES("silu_mul_halves", "pppl"),
    /** (x, y, n): x += y. */
    ADD("add_inplace", "ppl"),
    /** (y, out, n): out = y[0, n) + y[n, 2n). */
    SUM_HALVES("sum_halves", "ppl"),
    /** (x, bias, btype, N); grid (·, rows). */
    ADD_BIAS("add_bias", "ppii"),
    /** (table, ttype, ids, out, D); grid tokens. */
    EMBED("embed", "pippi"),
    /** (x, hi, lo, n). */
    SPLIT_BF16("split_bf16", "pppl"),
    /** (x, dst, n): dst = x rounded to BF16. */
    TO_BF16("to_bf16", "ppl"),
    /** (src, stype, dst, n). */
    WIDEN_F32("widen_f32", "pipl"),
    /** (x, w, wtype, out, T, N, K, vec); grid ceil(N / warps). */
    MATVEC("matvec", "ppipiiii"),
    /** (q, kPool, vPool, kvType, part, heads, kvHeads, headDim, startPos, chunk, scale, table, blockSize); grid (heads, T, splits). */
    ATTN_DECODE_PARTIAL("attn_decode_partial", "pppipiiiiifpi"),
    /** (q, rows, kvType, part, heads, kvHeads, headDim, chunk, scale, tables, tableStride, blockSize); grid (heads, rows, splits). */
    ATTN_DECODE_ROWS("attn_decode_rows", "pbpipiiiiifpii"),
    /** As ATTN_DECODE_PARTIAL, a block per KV head for its whole query group; grid (kvHeads, T, splits). */
    ATTN_DECODE_GROUPED("attn_decode_grouped", "pppipiiiiifpi"),
    /** As ATTN_DECODE_ROWS, grouped; grid (kvHeads, rows, splits). */
    ATTN_DECODE_GROUPED_ROWS("attn_decode_grouped_rows", "pbpipiiiiifpii"),
    /** (part, out, heads, headDim, splits); grid (heads, T). */
    ATTN_DECODE_COMBINE("attn_decode_combine", "ppiii"),
    /** (q, kPool, vPool, kvType, out, T, heads, kvHeads, headDim, startPos, scale, table, blockSize); grid (ceil(T/16), heads). */
    ATTN_PREFILL("attn_prefill", "pppipiiiiifpi"),
    /** (out, ldOut, M, ldM, E, ldE, B, ldB, lambda, shared, vocabOut, first); grid (·, rows). */
    RAST_FUSE("rast_fuse", "plplplplfiii"),
    /** (tables, srcRows|null, dstRows|null); grid (ceil(maxWidth / 2048), rows, tables). */
    GATHER_ROWS("gather_rows", "bpp"),
    /** (logits, ld, V, temperature, topK, topP, minP, seeds, step, uniforms, outIds, outLogprobs); grid rows. */
    SAMPLE_TOKENS("sample_tokens", "plififfplppp");

    /** The PTX module, a resource of this package. */
    public static final String PTX_RESOURCE = "rast_kernels.ptx";

    public final String entry;
    public final String signature;

    Kernel(String entry, String signature) {
        this.entry = entry;
        this.signature = signature;
    }

    /** The dtype code the kernels switch on (common.cuh: DT_F32 0, DT_F16 1, DT_BF16 2). */
    public static int dtypeCode(DType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 1;
            case BF16 -> 2;
            case Q8_0, Q4_0 -> throw new IllegalArgumentException("no kernel reads " + t);
        };
    }

    /** Arguments for a launch of this kernel. */
    public KernelArgs args() { return new KernelArgs(this); }
}
