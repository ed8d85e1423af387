// A CUDA execution model for the CPU, just large enough for rast's kernels, so that their logic is tested where no
// GPU is (see emu_main.cpp). Included before the kernel sources when they are compiled as plain C++ with
// -DRAST_EMU. Blocks run one after another; every CUDA thread of a block is a fiber on one OS thread, and
// __syncthreads and the warp shuffles switch fibers. Consequences the tests rely on:
//   - __shared__ variables become function statics: one instance, which is the running block's;
//   - a barrier that not every thread of the block (or lane of the warp) reaches is reported as a deadlock,
//     where a GPU would hang or silently misbehave.
// Not modelled: memory races between threads (fibers switch only at barriers), the memory hierarchy, timing.
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <algorithm>

using std::max;
using std::min;

struct uint3 { unsigned x, y, z; };
struct dim3 { unsigned x, y, z; };
struct float4 { float x, y, z, w; };
struct uint4 { unsigned x, y, z, w; };

const uint3& emu_thread_idx();
const uint3& emu_block_idx();
const dim3& emu_block_dim();
const dim3& emu_grid_dim();
void* emu_dynamic_shared();
void emu_syncthreads();
void emu_syncwarp();
uint64_t emu_exchange(uint64_t mine, int srcLane);
int emu_lane();

#define threadIdx emu_thread_idx()
#define blockIdx emu_block_idx()
#define blockDim emu_block_dim()
#define gridDim emu_grid_dim()

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
#define __restrict__ __restrict

inline void __syncthreads() { emu_syncthreads(); }
inline void __syncwarp(unsigned = 0xffffffffu) { emu_syncwarp(); }

template <class T>
inline T emu_shuffle(T v, int srcLane) {
    static_assert(sizeof(T) <= 8, "shuffle of a value wider than 8 bytes");
    uint64_t bits = 0;
    memcpy(&bits, &v, sizeof(T));
    bits = emu_exchange(bits, srcLane);
    T r;
    memcpy(&r, &bits, sizeof(T));
    return r;
}
template <class T> inline T __shfl_sync(unsigned, T v, int src) { return emu_shuffle(v, src & 31); }
template <class T> inline T __shfl_xor_sync(unsigned, T v, int laneMask) { return emu_shuffle(v, emu_lane() ^ (laneMask & 31)); }
template <class T> inline T __shfl_up_sync(unsigned, T v, unsigned d) {
    int src = emu_lane() - (int) d;
    return emu_shuffle(v, src < 0 ? emu_lane() : src);
}
template <class T> inline T __shfl_down_sync(unsigned, T v, unsigned d) {
    int src = emu_lane() + (int) d;
    return emu_shuffle(v, src > 31 ? emu_lane() : src);
}

inline float __uint_as_float(unsigned u) { float f; memcpy(&f, &u, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned u; memcpy(&u, &f, 4); return u; }
inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned) (((unsigned long long) a * b) >> 32); }
// Compiled with -ffp-contract=off, so these are single rounded operations as on the device.
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
