// The logits pipeline on the device: RAST fusion and the sampling stage, with which only the chosen ids of a
// decoding step need travel back to the host. The generation loop calls them (through the engine's DeviceLogits) when
// the backend is CUDA; the tests compare them with the host fusion and sampler.
#pragma once
#include "common.cuh"

// Up to ROW_TABLES_MAX pairs of F32 tensors whose rows gather_rows copies, passed by value (192 bytes): table t's
// source and destination (device addresses) and its row width in floats (the same in both). Mirrored by
// dev.rast.kernels.cuda.RowTables.
#define ROW_TABLES_MAX 8
struct RowTables {
    u64 src[ROW_TABLES_MAX];
    u64 dst[ROW_TABLES_MAX];
    long long width[ROW_TABLES_MAX];
};

// Row copies for several tables in one launch: dst_t[dstRows[i]] = src_t[srcRows[i]], a null index array meaning
// row i (a gather of sequences' slots, or a scatter of a step's rows into them). Grid (ceil(maxWidth / 2048), rows,
// tables), block 256: each block copies 2048 columns of one row of one table.
extern "C" __global__ void gather_rows(RowTables t, const int* srcRows, const int* dstRows) {
    int i = blockIdx.y, tab = blockIdx.z;
    long long w = t.width[tab];
    const float* s = (const float*) t.src[tab] + (srcRows ? srcRows[i] : i) * w;
    float* d = (float*) t.dst[tab] + (dstRows ? dstRows[i] : i) * w;
    long long end = min(w, ((long long) blockIdx.x + 1) * 2048);
    for (long long j = (long long) blockIdx.x * 2048 + threadIdx.x; j < end; j += blockDim.x) d[j] = s[j];
}

// One pair (expert E, its base B) of the RAST fusion M + Σᵢ λᵢ(Eᵢ − Bᵢ), for rows of logits:
//   first != 0:  out[v] = M[v] + λ(E[v] − B[v])  for v < shared,   out[v] = −inf for shared ≤ v < vocabOut
//   first == 0:  out[v] += λ(E[v] − B[v])        for v < shared
// Called once per pair in order, so the sum is evaluated left to right in F32. Rounded operations (no fused
// multiply-add) so it equals the plain Java expression m + λ·(e − b) bit for bit. Grid (ceil(vocabOut/256), rows).
extern "C" __global__ void rast_fuse(float* out, long long ldOut, const float* M, long long ldM, const float* E,
                                     long long ldE, const float* B, long long ldB, float lambda, int shared,
                                     int vocabOut, int first) {
    int row = blockIdx.y;
    int v = blockIdx.x * blockDim.x + threadIdx.x;
    if (v >= vocabOut) return;
    float* o = out + row * ldOut;
    if (v < shared) {
        float base = first ? M[row * ldM + v] : o[v];
        float delta = __fsub_rn(E[row * ldE + v], B[row * ldB + v]);
        o[v] = __fadd_rn(base, __fmul_rn(lambda, delta));
    } else if (first) {
        o[v] = -INFINITY;
    }
}

// Scaled logit of element i; NaN counts as −inf so that it can never be drawn or poison a sum.
__device__ __forceinline__ float scaled_logit(const float* row, int i, float temperature) {
    float z = row[i] / temperature;
    return z == z ? z : -INFINITY;
}

// Exclusive prefix sum over the block (thread order); *total receives the block's sum.
__device__ float block_exclusive_scan(float v, float* total) {
    __shared__ float warpExcl[32];
    __shared__ float blockTotal;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    float inc = v;
    for (int o = 1; o < 32; o <<= 1) {
        float n = __shfl_up_sync(FULL_MASK, inc, o);
        if (lane >= o) inc += n;
    }
    float excl = __shfl_up_sync(FULL_MASK, inc, 1);
    if (lane == 0) excl = 0.0f;
    if (lane == 31) warpExcl[warp] = inc;  // the warp's total for now
    __syncthreads();
    if (warp == 0) {
        float w = lane < warps ? warpExcl[lane] : 0.0f;
        float wi = w;
        for (int o = 1; o < 32; o <<= 1) {
            float n = __shfl_up_sync(FULL_MASK, wi, o);
            if (lane >= o) wi += n;
        }
        float we = __shfl_up_sync(FULL_MASK, wi, 1);
        if (lane == 0) we = 0.0f;
        if (lane < warps) warpExcl[lane] = we;
        if (lane == 31) blockTotal = wi;
    }
    __syncthreads();
    float r = warpExcl[warp] + excl;
    *total = blockTotal;
    __syncthreads();
    return r;
}

// Picks one token id per row of logits [rows, ld] (the first V columns). One block per row.
//   temperature <= 0: argmax (the lowest index among equal maxima, as torch.argmax).
//   otherwise, with z = logit / temperature and p ∝ e^(z − max z):
//     top-k (0 < topK < V) keeps z ≥ the k-th largest z (ties kept);
//     top-p (0 < topP < 1) then keeps the smallest set of largest p whose mass ≥ topP of what top-k kept;
//     min-p (minP > 0) keeps p ≥ minP · max p;
//     the draw: u = uniforms[row] when uniforms is not null (the host's draw: the product path, so that it picks what
//     the host sampler picks from the same generator), else Philox(seeds[row], step), ∈ [0, 1); the first id, in
//     vocabulary order, at which the running sum of kept p exceeds u · Σ kept p.
//   outLogprobs (may be null) gets log_softmax(row)[id] of the row as given (before temperature and truncation).
// Thresholds are found by bisection on the order-preserving integer key of z (32 block reductions each), so
// nothing is sorted. Mirrored by the Java reference sampler in the tests.
// The id sample_tokens picks for one row; every thread of the block returns it.
__device__ int pick_token(const float* row, int V, float temperature, int topK, float topP, float minP, const u64* seeds,
                          u64 step, const float* uniforms) {
    int tid = threadIdx.x, nt = blockDim.x;

    if (temperature <= 0.0f) {
        float best = -INFINITY;
        int bi = 0x7fffffff;
        for (int i = tid; i < V; i += nt) {
            float v = row[i];
            if (v > best || (v == best && bi == 0x7fffffff)) { best = v; bi = i; }
        }
        float M = block_max(best);
        int pick = block_min_int(best == M ? bi : 0x7fffffff);
        return pick == 0x7fffffff ? 0 : pick;
    }

    float mx = -INFINITY;
    for (int i = tid; i < V; i += nt) mx = fmaxf(mx, scaled_logit(row, i, temperature));
    mx = block_max(mx);

    u32 keep = order_key(-INFINITY) + 1;  // keys ≥ keep are candidates: everything above −inf
    if (topK > 0 && topK < V) {
        u32 t = 0;
        for (int bit = 31; bit >= 0; bit--) {
            u32 cand = t | (1u << bit);
            int c = 0;
            for (int i = tid; i < V; i += nt) c += order_key(scaled_logit(row, i, temperature)) >= cand;
            if (block_count(c) >= topK) t = cand;
        }
        keep = max(keep, t);
    }
    if (topP > 0.0f && topP < 1.0f) {
        float s = 0.0f;
        for (int i = tid; i < V; i += nt) {
            float z = scaled_logit(row, i, temperature);
            if (order_key(z) >= keep) s += expf(z - mx);
        }
        float target = topP * block_sum(s);
        u32 t = 0;
        for (int bit = 31; bit >= 0; bit--) {
            u32 cand = t | (1u << bit);
            u32 lim = max(cand, keep);
            float ms = 0.0f;
            for (int i = tid; i < V; i += nt) {
                float z = scaled_logit(row, i, temperature);
                if (order_key(z) >= lim) ms += expf(z - mx);
            }
            if (block_sum(ms) >= target) t = cand;
        }
        keep = max(keep, t);
    }
    float minWeight = minP > 0.0f ? minP : 0.0f;  // p / max p = e^(z − mx)

    // Each thread owns a contiguous chunk, so thread order is vocabulary order for the prefix sum.
    int chunk = (V + nt - 1) / nt;
    int b = min(V, tid * chunk), e = min(V, b + chunk);
    float mine = 0.0f;
    int lastKept = -1;
    for (int i = b; i < e; i++) {
        float z = scaled_logit(row, i, temperature);
        float w = expf(z - mx);
        if (order_key(z) >= keep && w >= minWeight && w > 0.0f) { mine += w; lastKept = i; }
    }
    float total;
    float excl = block_exclusive_scan(mine, &total);
    float u = uniforms != nullptr ? uniforms[blockIdx.x] : philox_uniform(seeds[blockIdx.x], step);
    float target = u * total;
    int cand = 0x7fffffff;
    if (lastKept >= 0 && target >= excl && target < excl + mine) {
        float run = excl;
        cand = lastKept;  // rounding fallback: the chunk's last kept id
        for (int i = b; i < e; i++) {
            float z = scaled_logit(row, i, temperature);
            float w = expf(z - mx);
            if (order_key(z) >= keep && w >= minWeight && w > 0.0f) {
                run += w;
                if (run > target) { cand = i; break; }
            }
        }
    }
    int pick = block_min_int(cand);
    if (pick == 0x7fffffff) pick = -block_min_int(-lastKept);  // target fell between chunks by rounding: the last kept id
    return pick < 0 ? 0 : pick;
}

extern "C" __global__ void sample_tokens(const float* logits, long long ld, int V, float temperature, int topK, float topP,
                                         float minP, const u64* seeds, u64 step, const float* uniforms, int* outIds,
                                         float* outLogprobs) {
    const float* row = logits + blockIdx.x * ld;
    int tid = threadIdx.x, nt = blockDim.x;
    int pick = pick_token(row, V, temperature, topK, topP, minP, seeds, step, uniforms);
    if (tid == 0) outIds[blockIdx.x] = pick;
    if (outLogprobs != nullptr) {
        // log Σ e^l = max + log Σ e^(l − max), over the raw row
        float m = -INFINITY;
        for (int i = tid; i < V; i += nt) m = fmaxf(m, row[i]);
        m = block_max(m);
        float s = 0.0f;
        for (int i = tid; i < V; i += nt) s += expf(row[i] - m);
        s = block_sum(s);
        if (tid == 0) outLogprobs[blockIdx.x] = row[pick] - (m + logf(s));
    }
}
