// rast's CUDA kernels: one translation unit, compiled to one PTX module
// (src/main/resources/dev/rast/kernels/cuda/rast_kernels.ptx) by scripts/build-ptx.sh. The Java side
// (dev.rast.kernels.cuda.CudaKernels) loads that PTX with cuModuleLoadData and launches the entries below by name.
//
// Conventions: every kernel is extern "C" (unmangled names), takes device pointers and plain scalars, and uses
// 64-bit (long long) element counts and leading dimensions wherever a product can pass 2^31.
#include "common.cuh"
#include "elementwise.cuh"
#include "matvec.cuh"
#include "attention.cuh"
#include "sampling.cuh"

// Every entry point, for the host emulator used by the tests (and checked against the PTX and the Java list).
#define RAST_KERNELS(X) \
    X(rms_norm) X(add_rms_norm) X(rope) X(bias_rope) X(rope_rows) X(store_kv) X(silu_mul) X(silu_mul_halves) X(add_inplace) X(sum_halves) X(add_bias) X(embed) X(split_bf16) X(to_bf16) X(widen_f32) \
    X(matvec) X(attn_decode_partial) X(attn_decode_rows) X(attn_decode_grouped) X(attn_decode_grouped_rows) X(attn_decode_combine) X(attn_prefill) X(rast_fuse) X(gather_rows) X(sample_tokens)
