// Shared helpers for rast's CUDA kernels: element types, warp and block reductions, the Philox generator.
//
// Storage types travel as a small int code (the same codes as CudaKernels.dtypeCode on the Java side):
// 0 = F32, 1 = F16, 2 = BF16. Narrow values are kept as raw 16-bit words and widened here, so the kernels need
// no half/bfloat16 headers and compile unchanged as host C++ for the emulator used in tests.
#pragma once

#define DT_F32 0
#define DT_F16 1
#define DT_BF16 2

typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#ifdef RAST_EMU
#define DYNAMIC_SHARED(T, name) T* name = (T*) emu_dynamic_shared()
#else
#define DYNAMIC_SHARED(T, name) extern __shared__ T name[]
#endif

#define FULL_MASK 0xffffffffu

// One decode step of up to BATCH_ROWS_MAX sequences, passed by value as a kernel parameter (1,024 bytes, within
// the 4 KiB parameter space): row r's key and value caches (device addresses), which stay put from step to step.
// What changes every step (each row's position) is read from device memory instead, so that a step's launches
// keep the same arguments and can be captured into a CUDA graph. Mirrored by dev.rast.kernels.cuda.BatchRows.
#define BATCH_ROWS_MAX 64
struct BatchRows {
    u64 k[BATCH_ROWS_MAX];
    u64 v[BATCH_ROWS_MAX];
};

// The pool row of position pos of a paged KV cache: its block table names the block, blockSize positions each.
__device__ __forceinline__ long long kv_row(const int* table, int blockSize, int pos) {
    return (long long) table[pos / blockSize] * blockSize + pos % blockSize;
}

__device__ __forceinline__ float bf16_to_f32(u16 h) { return __uint_as_float(((u32) h) << 16); }

// IEEE binary16 → binary32, exact (every half is a float). Written out so host and device agree bit for bit.
__device__ __forceinline__ float f16_to_f32(u16 h) {
    u32 sign = ((u32) (h & 0x8000u)) << 16;
    u32 exp = (h >> 10) & 0x1fu;
    u32 mant = h & 0x3ffu;
    if (exp == 0x1fu) return __uint_as_float(sign | 0x7f800000u | (mant << 13));   // inf / NaN
    if (exp != 0) return __uint_as_float(sign | ((exp + 112u) << 23) | (mant << 13));  // normal: rebias 15 → 127
    if (mant == 0) return __uint_as_float(sign);                                       // ±0
    // subnormal half: value = mant · 2^-24, exact in float
    float v = (float) mant * 5.9604644775390625e-8f;
    return sign ? -v : v;
}

// float → bf16 bits, round to nearest even (as torch and DType.floatToBf16); NaN stays a quiet NaN.
__device__ __forceinline__ u16 f32_to_bf16(float f) {
    u32 b = __float_as_uint(f);
    if ((b & 0x7fffffffu) > 0x7f800000u) return (u16) ((b >> 16) | 0x40u);
    u32 rounding = 0x7fffu + ((b >> 16) & 1u);
    return (u16) ((b + rounding) >> 16);
}

// Element i of a tensor stored as dtype, widened to float.
__device__ __forceinline__ float load_f32(const void* p, int dtype, long long i) {
    if (dtype == DT_BF16) return bf16_to_f32(((const u16*) p)[i]);
    if (dtype == DT_F16) return f16_to_f32(((const u16*) p)[i]);
    return ((const float*) p)[i];
}

// Eight consecutive elements starting at element idx (a multiple of 8, 16-byte aligned for 16-bit types).
template <int WT>
__device__ __forceinline__ void load8(const void* w, long long idx, float* v) {
    if (WT == DT_F32) {
        const float4* p = (const float4*) ((const float*) w + idx);
        float4 a = p[0], b = p[1];
        v[0] = a.x; v[1] = a.y; v[2] = a.z; v[3] = a.w;
        v[4] = b.x; v[5] = b.y; v[6] = b.z; v[7] = b.w;
    } else {
        uint4 q = *(const uint4*) ((const u16*) w + idx);
        u32 words[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
        for (int j = 0; j < 4; j++) {
            // little-endian: the low half-word is the even element
            u16 lo = (u16) (words[j] & 0xffffu), hi = (u16) (words[j] >> 16);
            v[2 * j] = WT == DT_BF16 ? bf16_to_f32(lo) : f16_to_f32(lo);
            v[2 * j + 1] = WT == DT_BF16 ? bf16_to_f32(hi) : f16_to_f32(hi);
        }
    }
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, o));
    return v;
}

// Block-wide sum; every thread gets the result. blockDim.x must be a multiple of 32, at most 1024, and every
// thread of the block must call it (it contains barriers).
__device__ float block_sum(float v) {
    __shared__ float part[32];
    __shared__ float total;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_sum(v);
    if (lane == 0) part[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float s = lane < warps ? part[lane] : 0.0f;
        s = warp_sum(s);
        if (lane == 0) total = s;
    }
    __syncthreads();
    float r = total;
    __syncthreads();  // part/total are reused by the next call
    return r;
}

__device__ float block_max(float v) {
    __shared__ float part[32];
    __shared__ float total;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_max(v);
    if (lane == 0) part[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float s = lane < warps ? part[lane] : -INFINITY;
        s = warp_max(s);
        if (lane == 0) total = s;
    }
    __syncthreads();
    float r = total;
    __syncthreads();
    return r;
}

// Block-wide sum of counts (exact, unlike float sums).
__device__ int block_count(int v) {
    __shared__ int part[32];
    __shared__ int total;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    if (lane == 0) part[warp] = v;
    __syncthreads();
    if (warp == 0) {
        int s = lane < warps ? part[lane] : 0;
        for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(FULL_MASK, s, o);
        if (lane == 0) total = s;
    }
    __syncthreads();
    int r = total;
    __syncthreads();
    return r;
}

// Block-wide minimum of ints.
__device__ int block_min_int(int v) {
    __shared__ int part[32];
    __shared__ int total;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    for (int o = 16; o > 0; o >>= 1) v = min(v, __shfl_xor_sync(FULL_MASK, v, o));
    if (lane == 0) part[warp] = v;
    __syncthreads();
    if (warp == 0) {
        int s = lane < warps ? part[lane] : 0x7fffffff;
        for (int o = 16; o > 0; o >>= 1) s = min(s, __shfl_xor_sync(FULL_MASK, s, o));
        if (lane == 0) total = s;
    }
    __syncthreads();
    int r = total;
    __syncthreads();
    return r;
}

// Philox4x32-10 (Salmon et al., SC'11): a counter-based generator, so draw number `step` of sequence `seed` is a
// pure function of the two and the same on every run and device. Mirrored by dev.rast.kernels.cuda.Philox.
__device__ __forceinline__ void philox4x32_10(u32 c[4], u32 k0, u32 k1) {
    for (int r = 0; r < 10; r++) {
        u32 lo0 = 0xD2511F53u * c[0], hi0 = __umulhi(0xD2511F53u, c[0]);
        u32 lo1 = 0xCD9E8D57u * c[2], hi1 = __umulhi(0xCD9E8D57u, c[2]);
        u32 n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
        c[0] = n0; c[1] = lo1; c[2] = n2; c[3] = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}

// Uniform in [0, 1) with 24 random bits: the first Philox word of counter (step, 0) under key seed.
__device__ __forceinline__ float philox_uniform(u64 seed, u64 step) {
    u32 c[4] = {(u32) step, (u32) (step >> 32), 0u, 0u};
    philox4x32_10(c, (u32) seed, (u32) (seed >> 32));
    return (float) (c[0] >> 8) * (1.0f / 16777216.0f);
}

// Maps a float to an unsigned key with the same order (−inf < … < −0 < +0 < … < +inf); NaN above +inf.
__device__ __forceinline__ u32 order_key(float f) {
    u32 u = __float_as_uint(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
