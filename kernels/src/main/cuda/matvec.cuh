// Decode matmul: out[t, n] = Σ_k x[t, k] · w[n, k] for a few tokens (T ≤ MATVEC_MAX_T), weights in their stored
// dtype, F32 accumulation. Bound by reading the weights once, so each weight row is streamed by one warp with
// 16-byte loads and used for all T tokens while in registers. (cuBLAS would need x in bf16 too, and for one token
// it reads the same bytes; this keeps x in F32 like the CPU backend.)
#pragma once
#include "common.cuh"

#define MATVEC_MAX_T 8

template <int WT>
__device__ __forceinline__ float load1(const void* w, long long idx) {
    if (WT == DT_F32) return ((const float*) w)[idx];
    u16 h = ((const u16*) w)[idx];
    return WT == DT_BF16 ? bf16_to_f32(h) : f16_to_f32(h);
}

// One warp per weight row; `vec` (K % 8 == 0 and every pointer 16-byte aligned, checked on the host) selects the
// 16-byte path, otherwise one element per lane.
template <int WT>
__device__ void matvec_rows(const float* x, const void* w, float* out, int T, int N, int K, int vec) {
    int lane = threadIdx.x & 31;
    int n = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (n >= N) return;  // the whole warp leaves together; no block barriers below
    float acc[MATVEC_MAX_T];
#pragma unroll
    for (int t = 0; t < MATVEC_MAX_T; t++) acc[t] = 0.0f;
    long long row = (long long) n * K;
    if (vec) {
#pragma unroll 4
        for (int k = lane * 8; k < K; k += 32 * 8) {
            float wv[8];
            load8<WT>(w, row + k, wv);
#pragma unroll
            for (int t = 0; t < MATVEC_MAX_T; t++) {
                if (t < T) {
                    const float4* xp = (const float4*) (x + (long long) t * K + k);
                    float4 a = xp[0], b = xp[1];
                    float s = acc[t];
                    s += wv[0] * a.x; s += wv[1] * a.y; s += wv[2] * a.z; s += wv[3] * a.w;
                    s += wv[4] * b.x; s += wv[5] * b.y; s += wv[6] * b.z; s += wv[7] * b.w;
                    acc[t] = s;
                }
            }
        }
    } else {
        for (int k = lane; k < K; k += 32) {
            float wv = load1<WT>(w, row + k);
#pragma unroll
            for (int t = 0; t < MATVEC_MAX_T; t++)
                if (t < T) acc[t] += wv * x[(long long) t * K + k];
        }
    }
#pragma unroll
    for (int t = 0; t < MATVEC_MAX_T; t++) {
        if (t < T) {
            float s = warp_sum(acc[t]);
            if (lane == 0) out[(long long) t * N + n] = s;
        }
    }
}

// x F32 [T, K], w [N, K] of dtype wtype, out F32 [T, N]; T ≤ MATVEC_MAX_T. Grid: ceil(N / warps per block).
extern "C" __global__ void matvec(const float* x, const void* w, int wtype, float* out, int T, int N, int K, int vec) {
    if (wtype == DT_BF16) matvec_rows<DT_BF16>(x, w, out, T, N, K, vec);
    else if (wtype == DT_F16) matvec_rows<DT_F16>(x, w, out, T, N, K, vec);
    else matvec_rows<DT_F32>(x, w, out, T, N, K, vec);
}
