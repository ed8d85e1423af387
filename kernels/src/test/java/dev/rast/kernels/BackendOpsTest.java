package dev.rast.kernels;

import static dev.rast.kernels.ReferenceCheck.decodePositions;
import static dev.rast.kernels.ReferenceCheck.ones;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import dev.rast.kernels.ReferenceCheck.Table;
import dev.rast.kernels.cuda.GpuTargets;
import dev.rast.kernels.cuda.TestBackends;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every op of {@link Backend} on every backend present against {@link dev.rast.kernels.reference.ReferenceBackend},
 * after llama.cpp's test-backend-ops: "cpu" (CpuBackend, 2 threads), "emulator" (CudaBackend on the CPU emulation of
 * its kernels, where g++ is found) and "cuda" (a real GPU), each CUDA target skipped with its reason where it cannot
 * run. {@link ReferenceCheck} runs a case on both sides and compares (NMSE; its tolerances say why); this class picks
 * the cases: odd sizes and sizes that are no multiple of a vector or block width, one row and many, head dims 20 to
 * 256, F32, BF16 and F16 weights, Q8_0 and Q4_0 ones on the CPU (K not a multiple of their 32-wide blocks included), F32 and BF16 caches, and the sizes at which a backend changes kernel (CPU: the
 * matrix-vector path, packed groups of 12 tokens, 300-token slices; CUDA: the matvec kernel up to 8 rows, cuBLAS
 * beyond, two GEMMs past 256 rows, decode attention below 16 queries and tiled prefill from 16, decode steps of more
 * than 64 sequences in two launches).
 */
class BackendOpsTest {
    @RegisterExtension static final TestBackends backends = new TestBackends();

    static Stream<String> backendNames() { return Stream.concat(Stream.of("cpu"), GpuTargets.targets().stream()); }

    /** Q8_0 and Q4_0 are CPU-only weights (the CUDA backend refuses them); the float dtypes everywhere. */
    static Stream<DType> dtypesOf(String backend) {
        return Stream.of(DType.values()).filter(d -> !d.quantized() || backend.equals("cpu") || backend.equals("reference"));
    }

    static Stream<Arguments> backendsAndDtypes() {
        return backendNames().flatMap(b -> dtypesOf(b).map(d -> Arguments.of(b, d)));
    }

    /** Norm weights and biases are never quantized. */
    static Stream<Arguments> backendsAndFloatDtypes() {
        return backendNames().flatMap(b -> Stream.of(DType.values()).filter(d -> !d.quantized()).map(d -> Arguments.of(b, d)));
    }

    static Stream<Arguments> backendsAndCaches() {
        return backendNames().flatMap(b -> Stream.of(DType.F32, DType.BF16).map(d -> Arguments.of(b, d)));
    }

    static ReferenceCheck check(String backend) {
        return new ReferenceCheck(backends.backend(backend), backend, backends.reference, backend.hashCode());
    }

    @AfterAll static void report() { System.out.print(ReferenceCheck.report()); }

    @ParameterizedTest
    @MethodSource("backendsAndDtypes")
    void embed(String backend, DType dt) {
        ReferenceCheck c = check(backend);
        for (Table kind : Table.values()) {
            c.embed(dt, 11, 19, new int[] {10, 0, 4}, kind);
            c.embed(dt, 37, 21, new int[] {0, 36, 5, 5, 17}, kind);
            c.embed(dt, 1000, 64, new int[] {999}, kind);
        }
    }

    /** Weights through weight() (the CPU packs F32 and BF16 ones) and allocated (read in place, row-major). */
    @ParameterizedTest
    @MethodSource("backendsAndDtypes")
    void matmul(String backend, DType dt) {
        ReferenceCheck c = check(backend);
        for (boolean prepared : new boolean[] {true, false}) {
            for (int T : new int[] {1, 2, 5, 8, 9, 19, 33})
                for (int N : new int[] {1, 7, 70})
                    for (int K : new int[] {1, 15, 64, 97, 300}) c.matmul(dt, prepared, T, N, K);
            // K even and a multiple of 8 (CUDA's vector matvec), partial token groups, many row blocks; 257 rows take
            // two split-bf16 GEMMs on CUDA; 300 tokens are one CPU slice, and with K = 5000 seven; 600 tokens three
            // calls of the packed kernel; 5003 rows for one token, spread over the CPU's threads in streams.
            for (int[] s : new int[][] {{3, 9, 256}, {24, 9, 2}, {12, 150, 515}, {40, 1001, 33}, {257, 70, 97},
                    {300, 70, 300}, {300, 70, 5000}, {600, 40, 33}, {1, 5003, 64}})
                c.matmul(dt, prepared, s[0], s[1], s[2]);
        }
    }

    /** q, k, v (or gate, up) of the same x in one call; one weight allocated (left in place) in the mixed case. */
    @ParameterizedTest
    @MethodSource("backendsAndDtypes")
    void matmulOfWeightsSharingTheirInput(String backend, DType dt) {
        ReferenceCheck c = check(backend);
        for (int T : new int[] {1, 2, 7, 40, 300})
            for (int K : new int[] {33, 96}) {
                c.matmuls(dt, T, K, new int[] {900, 16, 33, 1}, -1);
                c.matmuls(dt, T, K, new int[] {70, 16, 33}, 1);
            }
    }

    @ParameterizedTest
    @MethodSource("backendsAndFloatDtypes")
    void addBiasAndRmsNorm(String backend, DType dt) {
        ReferenceCheck c = check(backend);
        for (int D : new int[] {1, 15, 17, 37, 100, 896})
            for (int T : new int[] {1, 3, 40}) {
                c.addBias(dt, T, D);
                c.rmsNorm(dt, T, D, false);
                c.rmsNorm(dt, T, D, true);
            }
    }

    @ParameterizedTest
    @MethodSource("backendNames")
    void rope(String backend) {
        ReferenceCheck c = check(backend);
        for (int hd : new int[] {20, 22, 64, 80, 128})
            for (int T : new int[] {1, 5, 40}) {
                c.rope(T, 3, hd, 0);
                c.rope(T, 3, hd, 7);
            }
        // Batched: a prompt's chunks and single rows at their own positions; decode steps (every chunk one row) of
        // 5 and of 70 sequences (CUDA: one launch of 64 rows and one of 6).
        c.rope(new int[] {2, 1, 4}, new int[] {9, 0, 5}, 6, 20);
        c.rope(ones(5), decodePositions(5), 4, 32);
        c.rope(ones(70), decodePositions(70), 4, 64);
    }

    @ParameterizedTest
    @MethodSource("backendNames")
    void copyRows(String backend) {
        ReferenceCheck c = check(backend);
        for (DType[] pair : new DType[][] {{DType.F32, DType.F32}, {DType.BF16, DType.BF16}, {DType.F16, DType.F16}, {DType.F32, DType.BF16}})
            for (int[] s : new int[][] {{1, 37, 0}, {3, 37, 1}, {5, 66, 3}, {40, 128, 7}, {1, 4099, 2}})
                c.copyRows(pair[0], pair[1], s[0], s[1], s[2]);
    }

    @ParameterizedTest
    @MethodSource("backendsAndCaches")
    void storeKeysValues(String backend, DType cache) {
        ReferenceCheck c = check(backend);
        c.storeKeysValues(cache, new int[] {2, 1, 4}, new int[] {9, 0, 5}, 40);
        c.storeKeysValues(cache, new int[] {7}, new int[] {0}, 37);
        c.storeKeysValues(cache, ones(5), decodePositions(5), 64);
        c.storeKeysValues(cache, ones(70), decodePositions(70), 128);
    }

    @ParameterizedTest
    @MethodSource("backendsAndCaches")
    void attention(String backend, DType cache) {
        ReferenceCheck c = check(backend);
        for (int[] a : ReferenceCheck.ATTENTION_CASES) c.attention(cache, a[0], a[1], a[2], a[3], a[4]);
    }

    /** Several sequences in one call: prompt chunks and decode rows mixed, and decode steps of 5 and 70 sequences. */
    @ParameterizedTest
    @MethodSource("backendsAndCaches")
    void batchedAttention(String backend, DType cache) {
        ReferenceCheck c = check(backend);
        c.attention(cache, new int[] {2, 1, 4}, new int[] {9, 0, 5}, 6, 2, 20);
        c.attention(cache, new int[] {17, 1, 1, 3}, new int[] {0, 40, 3, 130}, 8, 2, 64);
        c.decodeAttention(cache, 5, 4, 2, 32);
        c.decodeAttention(cache, 70, 8, 2, 128);
    }

    @ParameterizedTest
    @MethodSource("backendNames")
    void siluMulAndAdd(String backend) {
        ReferenceCheck c = check(backend);
        for (int n : new int[] {1, 17, 4099, 40_000, 70_001}) { // 40k: the CPU splits over threads; 70,001: several grid passes
            c.siluMul(n, false);
            c.siluMul(n, true);
            c.add(n);
        }
    }

    /**
     * Memory: allocate gives zeros; upload then download gives the same bytes, also through a view of some rows;
     * weight() and lookupTable() keep a checkpoint tensor's values (whatever layout a backend adds); free, and a
     * backend says a name and its free memory (or -1). The reference backend too.
     */
    @ParameterizedTest
    @MethodSource("backendsAndReference")
    void memoryRoundTrips(String name) {
        Backend b = backends.backend(name);
        ReferenceCheck c = check(name);
        assertFalse(b.name().isBlank());
        assertTrue(b.freeMemoryBytes() >= -1);
        for (DType dt : dtypesOf(name).toList())
            for (int[] shape : new int[][] {{1, 1}, {7, 37}, {64, 96}}) {
                int n = shape[0] * shape[1];
                Tensor t = b.allocate(dt, shape);
                assertArrayEquals(new byte[(int) dt.byteSize(shape)], ReferenceCheck.bytesOf(b, t), name + " " + dt + " allocate is zero-filled");
                byte[] data = ReferenceCheck.bytes(dt, c.random(n), shape).toArray(ValueLayout.JAVA_BYTE);
                b.upload(MemorySegment.ofArray(data), t);
                assertArrayEquals(data, ReferenceCheck.bytesOf(b, t), name + " " + dt + " upload, download");
                int rowBytes = (int) dt.rowBytes(shape[1]), from = shape[0] / 2, count = shape[0] - from;
                assertArrayEquals(Arrays.copyOfRange(data, from * rowBytes, (from + count) * rowBytes),
                        ReferenceCheck.bytesOf(b, t.rows(from, count)), name + " " + dt + " rows " + from + "+" + count);
                b.free(t);
                Tensor host = new Tensor(dt, shape, MemorySegment.ofArray(data.clone()));
                for (Tensor w : List.of(b.weight(host), b.lookupTable(host))) {
                    assertArrayEquals(data, ReferenceCheck.bytesOf(b, w), name + " " + dt + " weight / lookup table");
                    if (w != host) b.free(w);
                }
            }
    }

    static Stream<String> backendsAndReference() { return Stream.concat(backendNames(), Stream.of("reference")); }

    /** What the reference refuses as misuse of the interface, a backend refuses too, before it computes. */
    @ParameterizedTest
    @MethodSource("backendNames")
    void refusesWhatTheReferenceRefuses(String name) {
        for (Backend b : List.of(backends.backend(name), backends.reference)) {
            Tensor x = b.allocate(DType.F32, 2, 8), w = b.allocate(DType.F32, 4, 9), out = b.allocate(DType.F32, 2, 4);
            Tensor table = b.allocate(DType.F32, 5, 8), bf16 = b.allocate(DType.BF16, 2, 8);
            Consumer<Executable> refused = e -> assertThrows(IllegalArgumentException.class, e, b.name());
            refused.accept(() -> b.matmul(x, w, out));                                    // K differs
            refused.accept(() -> b.matmul(x, List.of(w, w), List.of(out)));               // two weights, one output
            refused.accept(() -> b.embed(table, new int[] {5}, x.rows(0, 1)));            // id outside the table
            refused.accept(() -> b.copyRows(bf16, x, 0));                                 // BF16 into F32
            refused.accept(() -> b.copyRows(x, table, 4));                                // past the last row
            refused.accept(() -> b.upload(MemorySegment.ofArray(new float[3]), x));       // wrong byte count
            refused.accept(() -> b.addBias(x, b.allocate(DType.F32, 7)));                 // bias of another width
            for (Tensor t : List.of(x, w, out, table, bf16)) b.free(t);
        }
    }
}
