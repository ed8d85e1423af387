// Row-wise and elementwise kernels. Activations are F32, row-major, one row per token; weights (norm scales,
// biases, embedding tables) keep their stored dtype and are widened on load.
#pragma once
#include "common.cuh"

// out[r] = x[r] / sqrt(mean(x[r]²) + eps) · w. One block per row; out may be x (each element is read and written
// by the same thread, after the reduction).
extern "C" __global__ void rms_norm(const float* x, const void* w, int wtype, float eps, float* out, int D) {
    const float* xr = x + (long long) blockIdx.x * D;
    float* orow = out + (long long) blockIdx.x * D;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < D; i += blockDim.x) {
        float v = xr[i];
        ss += v * v;
    }
    ss = block_sum(ss);
    float inv = 1.0f / sqrtf(ss / (float) D + eps);
    for (int i = threadIdx.x; i < D; i += blockDim.x) orow[i] = xr[i] * inv * load_f32(w, wtype, i);
}

// The residual add and the next RMSNorm in one pass (the decoder's x += sublayer output, then the norm that feeds
// the next sublayer): x[r] += y[r], then out[r] = x[r] / sqrt(mean(x[r]²) + eps) · w. One block per row; out may be
// y (each thread reads its elements of y before the reduction's barrier, and writes only those of out after it).
// The same operations in the same order as add_inplace followed by rms_norm with the same block size.
extern "C" __global__ void add_rms_norm(float* x, const float* y, const void* w, int wtype, float eps, float* out, int D) {
    float* xr = x + (long long) blockIdx.x * D;
    const float* yr = y + (long long) blockIdx.x * D;
    float* orow = out + (long long) blockIdx.x * D;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < D; i += blockDim.x) {
        float v = xr[i] + yr[i];
        xr[i] = v;
        ss += v * v;
    }
    ss = block_sum(ss);
    float inv = 1.0f / sqrtf(ss / (float) D + eps);
    for (int i = threadIdx.x; i < D; i += blockDim.x) orow[i] = xr[i] * inv * load_f32(w, wtype, i);
}

// Rotary embedding in place on x [rows, width] (width = heads·headDim), rotating the half-split pairs
// (i, i + headDim/2) of every head. cos/sin are [maxPos, headDim/2]. Row r is at position positions[r] when
// positions is given (rows of different sequences in one batch), else startPos + r. One block per row.
__device__ void rope_row(float* x, int width, int headDim, const float* cosTable, const float* sinTable, int row, int pos) {
    int half = headDim >> 1;
    const float* c = cosTable + (long long) pos * half;
    const float* s = sinTable + (long long) pos * half;
    float* xr = x + (long long) row * width;
    int pairs = (width / headDim) * half;
    for (int p = threadIdx.x; p < pairs; p += blockDim.x) {
        int h = p / half, i = p - h * half;
        float* head = xr + h * headDim;
        float a = head[i], b = head[i + half];
        float cv = c[i], sv = s[i];
        head[i] = a * cv - b * sv;
        head[i + half] = b * cv + a * sv;
    }
}

extern "C" __global__ void rope(float* x, int width, int headDim, const float* cosTable, const float* sinTable,
                                int startPos, const int* positions) {
    int row = blockIdx.x;
    rope_row(x, width, headDim, cosTable, sinTable, row, positions ? positions[row] : startPos + row);
}

// The attention input's element-wise tail in one pass: the q/k/v biases (when bq is not null; Qwen2's) added to
// row r of q [rows, qWidth], k and v [rows, kvWidth], then q and k rotated at position positions[r] (rows of any
// sequences, prefill chunks and decode tokens alike). One block per row; the barrier orders the bias adds before the
// rotation reads the pairs other threads added to. The same operations as add_bias ×3 then rope ×2.
extern "C" __global__ void bias_rope(float* q, float* k, float* v, const void* bq, const void* bk, const void* bv,
                                     int btype, int qWidth, int kvWidth, int headDim, const float* cosTable,
                                     const float* sinTable, const int* positions) {
    int row = blockIdx.x;
    if (bq) {
        float* qr = q + (long long) row * qWidth;
        float* kr = k + (long long) row * kvWidth;
        float* vr = v + (long long) row * kvWidth;
        for (int i = threadIdx.x; i < qWidth; i += blockDim.x) qr[i] += load_f32(bq, btype, i);
        for (int i = threadIdx.x; i < kvWidth; i += blockDim.x) {
            kr[i] += load_f32(bk, btype, i);
            vr[i] += load_f32(bv, btype, i);
        }
        __syncthreads();
    }
    int pos = positions[row];
    rope_row(q, qWidth, headDim, cosTable, sinTable, row, pos);
    rope_row(k, kvWidth, headDim, cosTable, sinTable, row, pos);
}

// rope for a decode step: row r (one token of sequence r) at position pos[r] (device memory). One block per row.
extern "C" __global__ void rope_rows(float* x, int width, int headDim, const float* cosTable, const float* sinTable,
                                     const int* pos) {
    rope_row(x, width, headDim, cosTable, sinTable, blockIdx.x, pos[blockIdx.x]);
}

// A decode step's new keys and values into each sequence's paged cache: row r of k and v (F32, [n, width]) into
// position pos[r] (device memory) of pools rows.k[r] / rows.v[r] through its block table tables + r·tableStride,
// stored as kvType (F32 copied, BF16 rounded to nearest even). Grid (n, 2): y = 0 keys, 1 values.
extern "C" __global__ void store_kv(const float* k, const float* v, int width, int kvType, BatchRows rows, const int* pos,
                                   const int* tables, int tableStride, int blockSize) {
    int r = blockIdx.x;
    const float* src = (blockIdx.y == 0 ? k : v) + (long long) r * width;
    u64 cache = blockIdx.y == 0 ? rows.k[r] : rows.v[r];
    long long at = kv_row(tables + (long long) r * tableStride, blockSize, pos[r]) * width;
    for (int i = threadIdx.x; i < width; i += blockDim.x) {
        if (kvType == DT_BF16) ((u16*) cache)[at + i] = f32_to_bf16(src[i]);
        else ((float*) cache)[at + i] = src[i];
    }
}

// out = silu(gate) · up = gate / (1 + e^-gate) · up, elementwise; out may be gate.
extern "C" __global__ void silu_mul(const float* gate, const float* up, float* out, long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

// out = silu(g) · u where g and u are each the two halves of a stacked split-bf16 GEMM (y[0, n) + y[n, 2n), as
// sum_halves): the gate/up projections' outputs read where the GEMMs wrote them, without summing them first. The
// same operations as sum_halves ×2 then silu_mul; out may be either's first half.
extern "C" __global__ void silu_mul_halves(const float* yg, const float* yu, float* out, long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        float g = yg[i] + yg[n + i];
        float u = yu[i] + yu[n + i];
        out[i] = g / (1.0f + expf(-g)) * u;
    }
}

// x += y, elementwise.
extern "C" __global__ void add_inplace(float* x, const float* y, long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x)
        x[i] += y[i];
}

// out = y[0, n) + y[n, 2n): the two halves of a stacked split-bf16 GEMM (W·hi over W·lo) summed.
extern "C" __global__ void sum_halves(const float* y, float* out, long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x)
        out[i] = y[i] + y[n + i];
}

// x[r, c] += bias[c] for x [rows, N]; grid.y = rows.
extern "C" __global__ void add_bias(float* x, const void* bias, int btype, int N) {
    float* xr = x + (long long) blockIdx.y * N;
    for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < N; c += gridDim.x * blockDim.x) xr[c] += load_f32(bias, btype, c);
}

// out[t] = table[ids[t]] widened to F32; table [V, D]. One block per token. Ids were range-checked on the host.
extern "C" __global__ void embed(const void* table, int ttype, const int* ids, float* out, int D) {
    long long src = (long long) ids[blockIdx.x] * D;
    float* orow = out + (long long) blockIdx.x * D;
    for (int i = threadIdx.x; i < D; i += blockDim.x) orow[i] = load_f32(table, ttype, src + i);
}

// x = hi + lo with hi = bf16(x) and lo = bf16(x − hi): two bf16 GEMMs on hi and lo give a product with ~16
// mantissa bits of x instead of 8 (x − hi is exact in f32). Used for prefill GEMMs against bf16 weights.
extern "C" __global__ void split_bf16(const float* x, u16* hi, u16* lo, long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        float v = x[i];
        u16 h = f32_to_bf16(v);
        hi[i] = h;
        lo[i] = f32_to_bf16(v - bf16_to_f32(h));
    }
}

// dst = x rounded to BF16, nearest even (F32 keys and values stored into a BF16 KV cache).
extern "C" __global__ void to_bf16(const float* x, u16* dst, long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x)
        dst[i] = f32_to_bf16(x[i]);
}

// dst = src widened to F32 (F16 weights for the F32 GEMM path).
extern "C" __global__ void widen_f32(const void* src, int stype, float* dst, long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x)
        dst[i] = load_f32(src, stype, i);
}
