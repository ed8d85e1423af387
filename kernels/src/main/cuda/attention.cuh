// Causal grouped-query attention over a paged KV cache. q and out are [T, heads·headDim]; the pools are
// [blocks·blockSize, kvHeads·headDim], stored as kvType (DT_F32 or DT_BF16, widened exactly as they are read), and
// a sequence's position p sits at pool row kv_row(table, blockSize, p) (its block table; common.cuh), with
// keys/values of positions 0..startPos+T-1 filled. Query row t sits at position
// startPos + t and attends to keys 0..startPos+t; query head h reads KV head h / (heads / kvHeads). Softmax is
// computed online (running max and sum) in F32, so no score array of the sequence length is ever stored.
#pragma once
#include "common.cuh"

#define ATT_MAX_HEAD_DIM 256
#define ATT_PER_LANE (ATT_MAX_HEAD_DIM / 32)
#define ATT_DECODE_WARPS 4
#define ATT_DECODE_KEYS 4

// Element d of a block's partial for one query head, from its warps' running max, sum and accumulators
// (warp w's at wm[w·ms], wl[w·ms], wacc[w·as + d]): dst[d] = Σ_w acc_w[d]·e^(m_w−M), and with d = 0 also
// dst[headDim] = M (the max over warps) and dst[headDim + 1] = Σ_w l_w·e^(m_w−M). A warp that had no keys (m = −inf)
// adds 0; a split past the query's position (no warp had a key) is an empty partial: 0, −inf, 0.
__device__ void write_partial(const float* wm, const float* wl, int ms, const float* wacc, int as, int d, int headDim,
                              float* dst) {
    float M = -INFINITY;
    for (int w = 0; w < ATT_DECODE_WARPS; w++) M = fmaxf(M, wm[w * ms]);
    if (M == -INFINITY) {
        dst[d] = 0.0f;
        if (d == 0) { dst[headDim] = -INFINITY; dst[headDim + 1] = 0.0f; }
        return;
    }
    float a = 0.0f, L = 0.0f;
    for (int w = 0; w < ATT_DECODE_WARPS; w++) {
        float f = expf(wm[w * ms] - M);
        a += wacc[w * as + d] * f;
        L += wl[w * ms] * f;
    }
    dst[d] = a;
    if (d == 0) { dst[headDim] = M; dst[headDim + 1] = L; }
}

// Decode (few queries, long context): split the keys of each (query, head) into chunks so that even one query
// keeps the whole GPU busy (flash-decoding). Block (h, t, split) folds its chunk into an unnormalised partial
// (acc[headDim], max m, sum l) in part [T, heads, splits, headDim + 2]; attn_decode_combine merges the splits.
// Block: ATT_DECODE_WARPS warps, each taking ATT_DECODE_KEYS consecutive keys of the chunk in turn.
// Query row t (blockIdx.y) attends over len keys of the caches kc, vc.
__device__ void decode_partial(const float* q, const void* kc, const void* vc, const int* table, int blockSize, int kvType, float* part,
                               int heads, int kvHeads, int headDim, int len, int chunk, float scale) {
    __shared__ float wm[ATT_DECODE_WARPS], wl[ATT_DECODE_WARPS];
    __shared__ float wacc[ATT_DECODE_WARPS][ATT_MAX_HEAD_DIM];
    int h = blockIdx.x, t = blockIdx.y, split = blockIdx.z, splits = gridDim.z;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int kvh = h / (heads / kvHeads);
    long long qWidth = (long long) heads * headDim, kvWidth = (long long) kvHeads * headDim;
    int begin = split * chunk, end = min(len, begin + chunk);

    const float* qr = q + t * qWidth + (long long) h * headDim;
    float qv[ATT_PER_LANE], acc[ATT_PER_LANE];
#pragma unroll
    for (int i = 0; i < ATT_PER_LANE; i++) {
        int d = lane + 32 * i;
        qv[i] = d < headDim ? qr[d] : 0.0f;
        acc[i] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    // A warp takes ATT_DECODE_KEYS consecutive keys at a time and scores them together, so that their loads and
    // warp reductions are in flight at once: one key at a time, each step waited on its own loads (~1 µs).
    for (int j0 = begin + warp * ATT_DECODE_KEYS; j0 < end; j0 += ATT_DECODE_WARPS * ATT_DECODE_KEYS) {
        float s[ATT_DECODE_KEYS];
#pragma unroll
        for (int u = 0; u < ATT_DECODE_KEYS; u++) {
            float dot = 0.0f;
            if (j0 + u < end) {  // uniform across the warp
                long long row = kv_row(table, blockSize, j0 + u) * kvWidth + (long long) kvh * headDim;
#pragma unroll
                for (int i = 0; i < ATT_PER_LANE; i++) {
                    int d = lane + 32 * i;
                    if (d < headDim) dot += qv[i] * load_f32(kc, kvType, row + d);
                }
            }
            s[u] = dot;
        }
        float mNew = m;
#pragma unroll
        for (int u = 0; u < ATT_DECODE_KEYS; u++) {
            s[u] = warp_sum(s[u]) * scale;  // every lane takes part, also for keys past the end
            if (j0 + u < end) mNew = fmaxf(mNew, s[u]);
        }
        float corr = expf(m - mNew);  // 0 on the first keys (m = −inf); key j0 < end, so mNew is finite
        float p[ATT_DECODE_KEYS];
#pragma unroll
        for (int u = 0; u < ATT_DECODE_KEYS; u++) {
            p[u] = j0 + u < end ? expf(s[u] - mNew) : 0.0f;
            l = (u == 0 ? l * corr : l) + p[u];
        }
        m = mNew;
#pragma unroll
        for (int i = 0; i < ATT_PER_LANE; i++) {
            int d = lane + 32 * i;
            if (d < headDim) {
                float a = acc[i] * corr;
#pragma unroll
                for (int u = 0; u < ATT_DECODE_KEYS; u++)
                    if (j0 + u < end) a += p[u] * load_f32(vc, kvType, kv_row(table, blockSize, j0 + u) * kvWidth + (long long) kvh * headDim + d);
                acc[i] = a;
            }
        }
    }
    if (lane == 0) { wm[warp] = m; wl[warp] = l; }
#pragma unroll
    for (int i = 0; i < ATT_PER_LANE; i++) {
        int d = lane + 32 * i;
        if (d < headDim) wacc[warp][d] = acc[i];
    }
    __syncthreads();

    float* dst = part + (((long long) t * heads + h) * splits + split) * (headDim + 2);
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) write_partial(wm, wl, 1, &wacc[0][0], ATT_MAX_HEAD_DIM, d, headDim, dst);
}

extern "C" __global__ void attn_decode_partial(const float* q, const void* kc, const void* vc, int kvType, float* part,
                                               int heads, int kvHeads, int headDim, int startPos, int chunk, float scale,
                                               const int* table, int blockSize) {
    decode_partial(q, kc, vc, table, blockSize, kvType, part, heads, kvHeads, headDim, startPos + blockIdx.y + 1, chunk, scale);
}

// A row's keys per split in a batched decode step: its length over `splits` splits, at least minChunk, rounded up to
// a multiple of `multiple`. Computed from the row's own length (read from device memory), so the launch's arguments
// do not change from step to step; the host launches as many splits as the longest row needs (a CUDA graph: all
// `splits`), and splits past a row's length leave empty partials, which the combine skips.
__device__ __forceinline__ int row_chunk(int len, int splits, int minChunk, int multiple) {
    int c = max(minChunk, (len + splits - 1) / splits);
    return (c + multiple - 1) / multiple * multiple;
}

// A decode step of many sequences in one launch: query row t is sequence t's token at position pos[t], over
// the pools rows.k[t], rows.v[t] through its block table tables + t·tableStride, in splits of row_chunk keys.
extern "C" __global__ void attn_decode_rows(const float* q, BatchRows rows, const int* pos, int kvType, float* part,
                                            int heads, int kvHeads, int headDim, int chunkSplits, int minChunk, float scale,
                                            const int* tables, int tableStride, int blockSize) {
    int t = blockIdx.y, len = pos[t] + 1;
    decode_partial(q, (const void*) rows.k[t], (const void*) rows.v[t], tables + (long long) t * tableStride, blockSize,
                   kvType, part, heads, kvHeads, headDim, len, row_chunk(len, chunkSplits, minChunk, 1), scale);
}

// Decode attention for a whole query group at once (grouped-query attention: the G = heads / kvHeads query heads
// that read one KV head). attn_decode_partial gives each query head its own block, so every key and value row is
// read by G blocks (7 for Qwen2.5-7B; from L2 at best); here block (kvh, t, split) reads each row once for all G.
// A split is a multiple of 128 keys (the host's chunk), so that the block's 4 warps take full steps of 32. A warp takes 32
// consecutive keys per step, one per lane: the lane scores its key against the G queries (held in shared memory)
// with its row's loads independent of the other lanes', the warp updates each head's running max and sum, then the
// lanes switch to head dims and add the 32 values, weighted, into each head's accumulators. Writes the same
// partials as attn_decode_partial (per query head), so attn_decode_combine merges them. G ≤ GQ_MAX_GROUP and
// headDim ≤ GQ_MAX_HEAD_DIM (the host checks).
#define GQ_MAX_GROUP 8
#define GQ_MAX_HEAD_DIM 128
#define GQ_PER_LANE (GQ_MAX_HEAD_DIM / 32)

__device__ void decode_grouped(const float* q, const void* kc, const void* vc, const int* table, int blockSize, int kvType, float* part,
                               int heads, int kvHeads, int headDim, int len, int chunk, float scale) {
    __shared__ float qs[GQ_MAX_GROUP * GQ_MAX_HEAD_DIM];
    __shared__ float ps[ATT_DECODE_WARPS][GQ_MAX_GROUP][32];
    __shared__ float wm[ATT_DECODE_WARPS][GQ_MAX_GROUP], wl[ATT_DECODE_WARPS][GQ_MAX_GROUP];
    __shared__ float wacc[ATT_DECODE_WARPS][GQ_MAX_GROUP][GQ_MAX_HEAD_DIM];
    int kvh = blockIdx.x, t = blockIdx.y, split = blockIdx.z, splits = gridDim.z;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int G = heads / kvHeads;
    long long qWidth = (long long) heads * headDim, kvWidth = (long long) kvHeads * headDim;
    int begin = split * chunk, end = min(len, begin + chunk);
    // Rows of 8-element multiples at 16-byte aligned caches (cuMemAlloc aligns to 256) take vector loads.
    bool vec = (headDim & 7) == 0 && ((((unsigned long long) kc) | ((unsigned long long) vc)) & 15) == 0;

    const float* qr = q + t * qWidth + (long long) kvh * G * headDim;  // the group's heads are adjacent
    for (int e = threadIdx.x; e < G * headDim; e += blockDim.x) qs[e] = qr[e];
    __syncthreads();

    float m[GQ_MAX_GROUP], l[GQ_MAX_GROUP], acc[GQ_MAX_GROUP][GQ_PER_LANE];
#pragma unroll
    for (int g = 0; g < GQ_MAX_GROUP; g++) {
        m[g] = -INFINITY;
        l[g] = 0.0f;
#pragma unroll
        for (int i = 0; i < GQ_PER_LANE; i++) acc[g][i] = 0.0f;
    }
    for (int j0 = begin + warp * 32; j0 < end; j0 += ATT_DECODE_WARPS * 32) {
        int j = j0 + lane;
        bool live = j < end;
        float s[GQ_MAX_GROUP];
#pragma unroll
        for (int g = 0; g < GQ_MAX_GROUP; g++) s[g] = 0.0f;
        if (live) {  // this lane's key against every query of the group
            long long row = kv_row(table, blockSize, j) * kvWidth + (long long) kvh * headDim;
            int d = 0;
            if (vec) {  // 16-byte loads of 8 elements: a row in headDim / 8 loads, not headDim
                for (; d < headDim; d += 8) {
                    float k[8];
                    if (kvType == DT_BF16) load8<DT_BF16>(kc, row + d, k);
                    else load8<DT_F32>(kc, row + d, k);
#pragma unroll
                    for (int g = 0; g < GQ_MAX_GROUP; g++) {
                        if (g >= G) continue;
                        const float* qg = qs + g * headDim + d;
                        float a = s[g];
#pragma unroll
                        for (int e = 0; e < 8; e++) a += qg[e] * k[e];
                        s[g] = a;
                    }
                }
            }
            for (; d < headDim; d++) {
                float k = load_f32(kc, kvType, row + d);
#pragma unroll
                for (int g = 0; g < GQ_MAX_GROUP; g++)
                    if (g < G) s[g] += qs[g * headDim + d] * k;
            }
        }
#pragma unroll
        for (int g = 0; g < GQ_MAX_GROUP; g++) {
            if (g >= G) continue;  // uniform: every lane has the same G (a guard: the loop still unrolls)
            float sg = live ? s[g] * scale : -INFINITY;
            float mNew = fmaxf(m[g], warp_max(sg));  // finite: lane 0's key j0 < end
            float corr = expf(m[g] - mNew);          // 0 on the first step (m = −inf)
            float p = live ? expf(sg - mNew) : 0.0f;
            l[g] = l[g] * corr + warp_sum(p);
            m[g] = mNew;
            ps[warp][g][lane] = p;
#pragma unroll
            for (int i = 0; i < GQ_PER_LANE; i++) acc[g][i] *= corr;
        }
        __syncwarp();
        int n = min(32, end - j0);
#pragma unroll 4
        for (int u = 0; u < n; u++) {  // lanes over head dims: the 32 values, weighted, into every head (4 in flight)
            long long row = kv_row(table, blockSize, j0 + u) * kvWidth + (long long) kvh * headDim;
            float v[GQ_PER_LANE];
#pragma unroll
            for (int i = 0; i < GQ_PER_LANE; i++) {
                int d = lane + 32 * i;
                v[i] = d < headDim ? load_f32(vc, kvType, row + d) : 0.0f;
            }
#pragma unroll
            for (int g = 0; g < GQ_MAX_GROUP; g++) {
                if (g >= G) continue;
                float p = ps[warp][g][u];
#pragma unroll
                for (int i = 0; i < GQ_PER_LANE; i++) acc[g][i] += p * v[i];
            }
        }
        __syncwarp();  // ps is rewritten by the next step
    }
#pragma unroll
    for (int g = 0; g < GQ_MAX_GROUP; g++) {
        if (g >= G) continue;
        if (lane == 0) { wm[warp][g] = m[g]; wl[warp][g] = l[g]; }
#pragma unroll
        for (int i = 0; i < GQ_PER_LANE; i++) {
            int d = lane + 32 * i;
            if (d < headDim) wacc[warp][g][d] = acc[g][i];
        }
    }
    __syncthreads();

    for (int e = threadIdx.x; e < G * headDim; e += blockDim.x) {
        int g = e / headDim, d = e - g * headDim;
        float* dst = part + (((long long) t * heads + (long long) kvh * G + g) * splits + split) * (headDim + 2);
        write_partial(&wm[0][g], &wl[0][g], GQ_MAX_GROUP, &wacc[0][g][0], GQ_MAX_GROUP * GQ_MAX_HEAD_DIM, d, headDim, dst);
    }
}

extern "C" __global__ void attn_decode_grouped(const float* q, const void* kc, const void* vc, int kvType, float* part,
                                               int heads, int kvHeads, int headDim, int startPos, int chunk, float scale,
                                               const int* table, int blockSize) {
    decode_grouped(q, kc, vc, table, blockSize, kvType, part, heads, kvHeads, headDim, startPos + blockIdx.y + 1, chunk, scale);
}

// The grouped kernel for a decode step of many sequences (as attn_decode_rows): grid (kvHeads, rows, splits), splits
// of a multiple of 128 keys.
extern "C" __global__ void attn_decode_grouped_rows(const float* q, BatchRows rows, const int* pos, int kvType, float* part,
                                                    int heads, int kvHeads, int headDim, int chunkSplits, int minChunk,
                                                    float scale, const int* tables, int tableStride, int blockSize) {
    int t = blockIdx.y, len = pos[t] + 1;
    decode_grouped(q, (const void*) rows.k[t], (const void*) rows.v[t], tables + (long long) t * tableStride, blockSize,
                   kvType, part, heads, kvHeads, headDim, len, row_chunk(len, chunkSplits, minChunk, 128), scale);
}

// Merges the split partials of attn_decode_partial / attn_decode_rows: out = Σ_s acc_s·e^(m_s−M) / Σ_s l_s·e^(m_s−M).
// Grid (heads, T). Split 0 always holds key 0, so M is finite.
extern "C" __global__ void attn_decode_combine(const float* part, float* out, int heads, int headDim, int splits) {
    int h = blockIdx.x, t = blockIdx.y;
    int stride = headDim + 2;
    const float* base = part + ((long long) t * heads + h) * splits * stride;
    float M = -INFINITY;
    for (int s = 0; s < splits; s++) M = fmaxf(M, base[s * stride + headDim]);
    float L = 0.0f;
    for (int s = 0; s < splits; s++) L += base[s * stride + headDim + 1] * expf(base[s * stride + headDim] - M);
    float inv = 1.0f / L;
    float* orow = out + (long long) t * heads * headDim + (long long) h * headDim;
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
        float a = 0.0f;
        for (int s = 0; s < splits; s++) a += base[s * stride + d] * expf(base[s * stride + headDim] - M);
        orow[d] = a * inv;
    }
}

#define PF_WARPS 4
#define PF_QUERIES_PER_WARP 4
#define PF_QUERY_TILE (PF_WARPS * PF_QUERIES_PER_WARP)
#define PF_KEY_TILE 32

// Prefill (many queries): block (query tile, head) stages tiles of 32 keys and values in shared memory and
// reuses them for its 16 queries; in a warp, lane j scores key j of the tile, then the warp folds the tile into
// each query's running softmax. Dynamic shared memory: (32·(headDim+1) + 32·headDim + 16·headDim) floats
// (keys padded by one float so the 32 lanes reading 32 different rows hit 32 different banks).
extern "C" __global__ void attn_prefill(const float* q, const void* kc, const void* vc, int kvType, float* out, int T,
                                        int heads, int kvHeads, int headDim, int startPos, float scale,
                                        const int* table, int blockSize) {
    DYNAMIC_SHARED(float, smem);
    int hd = headDim, ks = headDim + 1;
    float* Ks = smem;
    float* Vs = Ks + PF_KEY_TILE * ks;
    float* Qs = Vs + PF_KEY_TILE * hd;
    int h = blockIdx.y, kvh = h / (heads / kvHeads);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    long long qWidth = (long long) heads * hd, kvWidth = (long long) kvHeads * hd;
    int t0 = blockIdx.x * PF_QUERY_TILE;
    int tLast = min(T, t0 + PF_QUERY_TILE) - 1;
    int maxKey = startPos + tLast;  // the last key any query of this block sees

    for (int e = threadIdx.x; e < PF_QUERY_TILE * hd; e += blockDim.x) {
        int r = e / hd, d = e - r * hd, t = t0 + r;
        Qs[e] = t < T ? q[t * qWidth + (long long) h * hd + d] : 0.0f;
    }
    float m[PF_QUERIES_PER_WARP], l[PF_QUERIES_PER_WARP], acc[PF_QUERIES_PER_WARP][ATT_PER_LANE];
#pragma unroll
    for (int r = 0; r < PF_QUERIES_PER_WARP; r++) {
        m[r] = -INFINITY;
        l[r] = 0.0f;
#pragma unroll
        for (int i = 0; i < ATT_PER_LANE; i++) acc[r][i] = 0.0f;
    }

    for (int kb = 0; kb <= maxKey; kb += PF_KEY_TILE) {
        __syncthreads();  // the previous tile is consumed (first pass: the query tile is stored)
        for (int e = threadIdx.x; e < PF_KEY_TILE * hd; e += blockDim.x) {
            int j = e / hd, d = e - j * hd, key = kb + j;
            float kv = 0.0f, vv = 0.0f;
            if (key <= maxKey) {
                long long row = kv_row(table, blockSize, key) * kvWidth + (long long) kvh * hd + d;
                kv = load_f32(kc, kvType, row);
                vv = load_f32(vc, kvType, row);
            }
            Ks[j * ks + d] = kv;
            Vs[j * hd + d] = vv;
        }
        __syncthreads();
#pragma unroll
        for (int r = 0; r < PF_QUERIES_PER_WARP; r++) {
            int qi = warp * PF_QUERIES_PER_WARP + r, t = t0 + qi;
            int limit = startPos + t;         // this query's last key
            if (t >= T || kb > limit) continue;  // uniform across the warp
            int key = kb + lane;
            float s = -INFINITY;
            if (key <= limit) {
                const float* qrow = Qs + qi * hd;
                const float* krow = Ks + lane * ks;
                float dot = 0.0f;
                for (int d = 0; d < hd; d++) dot += qrow[d] * krow[d];
                s = dot * scale;
            }
            float mNew = fmaxf(m[r], warp_max(s));  // finite: lane 0's key kb ≤ limit
            float corr = expf(m[r] - mNew);
            float p = key <= limit ? expf(s - mNew) : 0.0f;
            l[r] = l[r] * corr + warp_sum(p);
            m[r] = mNew;
#pragma unroll
            for (int i = 0; i < ATT_PER_LANE; i++) acc[r][i] *= corr;
            for (int j = 0; j < PF_KEY_TILE; j++) {
                float pj = __shfl_sync(FULL_MASK, p, j);
                const float* vrow = Vs + j * hd;
#pragma unroll
                for (int i = 0; i < ATT_PER_LANE; i++) {
                    int d = lane + 32 * i;
                    if (d < hd) acc[r][i] += pj * vrow[d];
                }
            }
        }
    }
#pragma unroll
    for (int r = 0; r < PF_QUERIES_PER_WARP; r++) {
        int t = t0 + warp * PF_QUERIES_PER_WARP + r;
        if (t >= T) continue;
        float inv = 1.0f / l[r];
        float* orow = out + t * qWidth + (long long) h * hd;
#pragma unroll
        for (int i = 0; i < ATT_PER_LANE; i++) {
            int d = lane + 32 * i;
            if (d < hd) orow[d] = acc[r][i] * inv;
        }
    }
}
