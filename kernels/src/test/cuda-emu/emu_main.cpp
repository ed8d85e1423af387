// The CPU emulator of rast's CUDA kernels (see cuda_emu.h): compiles the real kernel sources as C++ and runs a
// launch the way cuLaunchKernel would, with the same packed parameters (void** of pointers to each argument), so
// the Java backend under test marshals its arguments exactly as for the driver. Built and loaded by
// EmulatedDevice in the tests:
//   g++ -std=c++20 -O1 -fPIC -shared -ffp-contract=off -DRAST_EMU -I<main/cuda> -include cuda_emu.h emu_main.cpp
//
// Fibers: each CUDA thread of the launch gets its own stack; it starts with makecontext/swapcontext and afterwards
// switches with _setjmp/_longjmp (no signal-mask system call per switch, which matters: a reduction over a
// 1024-thread block is tens of thousands of switches).
#include "cuda_emu.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>

#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "rast_kernels.cu"

namespace {

const size_t STACK_BYTES = 256 * 1024;
const size_t MAX_DYNAMIC_SHARED = 227 * 1024;

struct Fiber {
    ucontext_t start;
    jmp_buf jb;
    uint3 tid;
    int lane = 0, warp = 0;
    bool started = false, done = false;
    char* stack = nullptr;
};

struct Launch {
    dim3 grid{1, 1, 1}, block{1, 1, 1};
    uint3 bidx{0, 0, 0};
    std::vector<Fiber> fibers;  // a pool; the first `threads` run the current block
    Fiber* cur = nullptr;
    ucontext_t schedCtx;
    jmp_buf schedJb;
    int threads = 0;
    int barCount = 0;
    long barGen = 0;
    std::vector<int> warpCount, warpSize;
    std::vector<long> warpGen;
    std::vector<uint64_t> slots;
    std::vector<char> dynShared;
    long progress = 0;
    void (*entry)(void**) = nullptr;
    void** params = nullptr;
};

Launch* L = nullptr;
std::mutex launchLock;

void yield() {
    if (!_setjmp(L->cur->jb)) _longjmp(L->schedJb, 1);
}

// A fiber lives for a whole launch: after each block it parks, and the scheduler resumes it for the next block
// (so the costly makecontext/swapcontext start happens once per thread per launch, not per block).
void fiberMain() {
    for (;;) {
        L->entry(L->params);
        L->cur->done = true;
        L->progress++;
        yield();
    }
}

template <class... A, std::size_t... I>
void invoke(void (*f)(A...), void** p, std::index_sequence<I...>) {
    f(*static_cast<std::remove_cv_t<std::remove_reference_t<A>>*>(p[I])...);
}

template <class... A>
void invokeAll(void (*f)(A...), void** p) { invoke(f, p, std::index_sequence_for<A...>{}); }

template <class... A>
constexpr int paramCount(void (*)(A...)) { return (int) sizeof...(A); }

// One letter per parameter, as Kernel.signature on the Java side: p pointer, l 64-bit integer, i 32-bit integer,
// f float, b a struct by value.
template <class T>
constexpr char kindOf() {
    if constexpr (std::is_pointer_v<T>) return 'p';
    else if constexpr (std::is_class_v<T>) return 'b';
    else if constexpr (std::is_floating_point_v<T>) return 'f';
    else if constexpr (sizeof(T) == 8) return 'l';
    else return 'i';
}

template <class... A>
std::string signatureOf(void (*)(A...)) { return std::string{kindOf<A>()...}; }

struct Entry {
    const char* name;
    void (*call)(void**);
    int params;
    const char* (*signature)();
};

#define EMU_ENTRY(k) Entry{#k, [](void** p) { invokeAll(&k, p); }, paramCount(&k), \
                           []() { static const std::string s = signatureOf(&k); return s.c_str(); }},
const Entry ENTRIES[] = {RAST_KERNELS(EMU_ENTRY)};
const int ENTRY_COUNT = (int) (sizeof(ENTRIES) / sizeof(ENTRIES[0]));

// Runs every fiber of the current block to completion; false on deadlock.
bool runBlock() {
    int alive = L->threads;
    for (int i = 0; i < L->threads; i++) L->fibers[i].done = false;
    while (alive > 0) {
        long before = L->progress;
        for (int i = 0; i < L->threads; i++) {
            Fiber& f = L->fibers[i];
            if (f.done) continue;
            L->cur = &f;
            if (!_setjmp(L->schedJb)) {
                if (!f.started) {
                    f.started = true;
                    getcontext(&f.start);
                    f.start.uc_stack.ss_sp = f.stack;
                    f.start.uc_stack.ss_size = STACK_BYTES;
                    f.start.uc_link = nullptr;
                    makecontext(&f.start, fiberMain, 0);
                    L->progress++;
                    swapcontext(&L->schedCtx, &f.start);
                } else {
                    _longjmp(f.jb, 1);
                }
            }
            if (f.done) alive--;
        }
        if (alive > 0 && L->progress == before) return false;
    }
    return true;
}

}  // namespace

const uint3& emu_thread_idx() { return L->cur->tid; }
const uint3& emu_block_idx() { return L->bidx; }
const dim3& emu_block_dim() { return L->block; }
const dim3& emu_grid_dim() { return L->grid; }
void* emu_dynamic_shared() { return L->dynShared.data(); }
int emu_lane() { return L->cur->lane; }

void emu_syncthreads() {
    long gen = L->barGen;
    L->progress++;
    if (++L->barCount == L->threads) {
        L->barCount = 0;
        L->barGen++;
        return;
    }
    while (L->barGen == gen) yield();
}

void emu_syncwarp() {
    int w = L->cur->warp;
    long gen = L->warpGen[w];
    L->progress++;
    if (++L->warpCount[w] == L->warpSize[w]) {
        L->warpCount[w] = 0;
        L->warpGen[w]++;
        return;
    }
    while (L->warpGen[w] == gen) yield();
}

uint64_t emu_exchange(uint64_t mine, int srcLane) {
    int w = L->cur->warp;
    if (srcLane >= L->warpSize[w]) {
        fprintf(stderr, "cuda-emu: shuffle from lane %d of a %d-lane warp\n", srcLane, L->warpSize[w]);
        abort();
    }
    L->slots[w * 32 + L->cur->lane] = mine;
    emu_syncwarp();
    uint64_t r = L->slots[w * 32 + srcLane];
    emu_syncwarp();  // nobody overwrites a slot before every lane has read
    return r;
}

extern "C" int emu_kernel_count() { return ENTRY_COUNT; }

extern "C" const char* emu_kernel_name(int i) { return i >= 0 && i < ENTRY_COUNT ? ENTRIES[i].name : nullptr; }

extern "C" int emu_kernel_params(int i) { return i >= 0 && i < ENTRY_COUNT ? ENTRIES[i].params : -1; }

extern "C" const char* emu_kernel_signature(int i) { return i >= 0 && i < ENTRY_COUNT ? ENTRIES[i].signature() : nullptr; }

// 0: done. 1: unknown kernel. 2: bad launch configuration. 3: deadlock (a barrier not every thread reached).
extern "C" int emu_launch(const char* name, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                          unsigned bz, unsigned sharedBytes, void** params, char* err, int errLen) {
    std::lock_guard<std::mutex> guard(launchLock);
    const Entry* e = nullptr;
    for (const Entry& c : ENTRIES)
        if (strcmp(c.name, name) == 0) e = &c;
    if (!e) {
        snprintf(err, errLen, "no kernel named %s", name);
        return 1;
    }
    unsigned threads = bx * by * bz;
    if (gx == 0 || gy == 0 || gz == 0 || threads == 0 || threads > 1024 || gy > 65535 || gz > 65535 ||
        sharedBytes > MAX_DYNAMIC_SHARED) {
        snprintf(err, errLen, "%s: bad launch grid %ux%ux%u block %ux%ux%u shared %u", name, gx, gy, gz, bx, by, bz,
                 sharedBytes);
        return 2;
    }
    static Launch launch;  // fiber stacks are kept between launches
    L = &launch;
    L->grid = {gx, gy, gz};
    L->block = {bx, by, bz};
    L->threads = (int) threads;
    L->entry = e->call;
    L->params = params;
    for (size_t i = L->fibers.size(); i < threads; i++) {  // the pool of fibers (and stacks) only grows
        L->fibers.emplace_back();
        L->fibers.back().stack = (char*) malloc(STACK_BYTES);
    }
    int warps = (int) ((threads + 31) / 32);
    L->warpCount.assign(warps, 0);
    L->warpGen.assign(warps, 0);
    L->warpSize.assign(warps, 32);
    if (threads % 32) L->warpSize[warps - 1] = (int) (threads % 32);
    L->slots.assign((size_t) warps * 32, 0);
    L->dynShared.assign(sharedBytes + 16, (char) 0xff);  // NaN-filled: reading unwritten shared memory shows
    for (unsigned i = 0; i < threads; i++) {
        Fiber& f = L->fibers[i];
        f.tid = {i % bx, (i / bx) % by, i / (bx * by)};
        f.lane = (int) (i % 32);
        f.warp = (int) (i / 32);
        f.started = false;
    }
    int rc = 0;
    for (unsigned z = 0; z < gz && rc == 0; z++)
        for (unsigned y = 0; y < gy && rc == 0; y++)
            for (unsigned x = 0; x < gx && rc == 0; x++) {
                L->bidx = {x, y, z};
                L->barCount = 0;
                std::fill(L->warpCount.begin(), L->warpCount.end(), 0);
                if (!runBlock()) {
                    snprintf(err, errLen,
                             "%s: deadlock in block (%u,%u,%u): a __syncthreads or warp shuffle that not every "
                             "thread of the block or warp reached", name, x, y, z);
                    rc = 3;
                }
            }
    return rc;
}
