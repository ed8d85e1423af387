package dev.rast.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.backend.BackendProvider;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The CUDA backend's host side, checked on any machine: the committed PTX and the Java kernel list agree, the
 * bindings name the right symbols and statuses, the cuBLAS argument computation is right by hand, and a machine
 * without a driver or GPU gets one clear line. Tests that need the real driver library skip where it is absent.
 */
class CudaHostTest {
    static String ptx() throws IOException {
        try (InputStream in = Kernel.class.getResourceAsStream(Kernel.PTX_RESOURCE)) {
            assertTrue(in != null, Kernel.PTX_RESOURCE + " is not on the class path");
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    /**
     * entry name → signature letters from the PTX's .param list (u64 → p or l, u32/s32 → i, f32 → f, a byte array
     * of BatchRows' or RowTables' size → b).
     */
    static Map<String, String> ptxEntries(String ptx) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = Pattern.compile("\\.visible \\.entry (\\w+)\\(([^)]*)\\)").matcher(ptx);
        while (m.find()) {
            StringBuilder sig = new StringBuilder();
            Matcher p = Pattern.compile("\\.param \\.(\\w+)(?: \\d+ \\.b8 \\w+\\[(\\d+)\\])?").matcher(m.group(2));
            while (p.find()) sig.append(switch (p.group(1)) {
                case "u64", "s64", "b64" -> 'l';
                case "u32", "s32", "b32" -> 'i';
                case "f32" -> 'f';
                case "align" -> { int bytes = Integer.parseInt(p.group(2) == null ? "-1" : p.group(2)); yield bytes == BatchRows.BYTES || bytes == RowTables.BYTES ? 'b' : '?'; }
                default -> '?';
            });
            out.put(m.group(1), sig.toString());
        }
        return out;
    }

    @Test
    void ptxHasEveryKernelWithTheDeclaredParameters() throws IOException {
        String ptx = ptx();
        assertTrue(ptx.contains(".target sm_80"), "PTX for the compute_80 virtual architecture");
        Matcher v = Pattern.compile("\\.version (\\d+)\\.(\\d+)").matcher(ptx);
        assertTrue(v.find());
        assertTrue(Integer.parseInt(v.group(1)) * 10 + Integer.parseInt(v.group(2)) <= 78,
                "PTX ISA " + v.group() + ": the committed PTX must stay loadable by drivers since CUDA 11.8 (ISA 7.8)");
        Map<String, String> entries = ptxEntries(ptx);
        Map<String, String> declared = new TreeMap<>();
        for (Kernel k : Kernel.values()) declared.put(k.entry, k.signature.replace('p', 'l'));
        assertEquals(declared, new TreeMap<>(entries), "PTX entries vs Kernel (pointers are .u64 in PTX)");
    }

    @Test
    void kernelSourcesListEveryEntryAndTheEmulatorSeesTheDeclaredSignatures() throws IOException {
        String cu = Files.readString(EmulatedDevice.sourceRoot().resolve("main/cuda/rast_kernels.cu"));
        Matcher m = Pattern.compile("X\\((\\w+)\\)").matcher(cu.substring(cu.indexOf("#define RAST_KERNELS")));
        List<String> listed = new ArrayList<>();
        while (m.find()) listed.add(m.group(1));
        assertEquals(java.util.Arrays.stream(Kernel.values()).map(k -> k.entry).sorted().toList(), listed.stream().sorted().toList());
        String why = EmulatedDevice.unavailableReason();
        Assumptions.assumeTrue(why == null, why);
        Map<String, String> want = new TreeMap<>();
        for (Kernel k : Kernel.values()) want.put(k.entry, k.signature);
        assertEquals(want, new TreeMap<>(EmulatedDevice.kernelSignatures()), "C++ parameter types vs Kernel signatures");
    }

    @Test
    void kernelArgsRefuseAnArgumentListThatDoesNotSpellTheSignature() {
        try (KernelArgs ok = Kernel.ADD.args().ptr(1).ptr(2).i64(3)) {
            assertEquals("ppl", ok.signature());
            ok.pointers();
        }
        try (KernelArgs bad = Kernel.ADD.args().ptr(1).ptr(2).i32(3)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, bad::pointers);
            assertEquals("kernel add_inplace takes (ppl), launched with (ppi)", e.getMessage());
        }
    }

    /** out[T, N] = x[T, K]·w[N, K]ᵀ, worked out by hand in GemmCall's comment; here for T=3, N=5, K=7. */
    @Test
    void gemmArgumentsForRowMajorLinearLayers() {
        GemmCall g = GemmCall.linear(3, 5, 7, 0x1000, Cublas.CUDA_R_16BF, 0x2000, Cublas.CUDA_R_16BF, 0x3000, 5, 0f);
        assertEquals(new GemmCall(Cublas.CUBLAS_OP_T, Cublas.CUBLAS_OP_N, 5, 3, 7, 1f, 0x1000, 14, 7, 0x2000, 14, 7, 0f,
                0x3000, 0, 5), g);
        // A slab of rows 2..4 of a 9-row output: m = rows of the slab, C starts at column 2 of row 0, ldc = all 9.
        GemmCall slab = GemmCall.linear(4, 3, 6, 0x1000, Cublas.CUDA_R_32F, 0x2000, Cublas.CUDA_R_32F, 0x3000 + 2 * 4, 9, 1f);
        assertEquals(3, slab.m());
        assertEquals(4, slab.n());
        assertEquals(6, slab.k());
        assertEquals(6, slab.lda());
        assertEquals(6, slab.ldb());
        assertEquals(9, slab.ldc());
        assertEquals(1f, slab.beta());
        assertThrows(IllegalArgumentException.class, () -> GemmCall.linear(1, 5, 7, 0, 0, 0, 0, 0, 4, 0f));
        // Enum values from cublas_api.h / library_types.h.
        assertArrayEquals(new int[] {0, 1, 0, 2, 14, 68, -1, 0}, new int[] {Cublas.CUBLAS_OP_N, Cublas.CUBLAS_OP_T,
                Cublas.CUDA_R_32F, Cublas.CUDA_R_16F, Cublas.CUDA_R_16BF, Cublas.CUBLAS_COMPUTE_32F,
                Cublas.CUBLAS_GEMM_DEFAULT, Cublas.CUBLAS_DEFAULT_MATH});
    }

    @Test
    void aMachineWithoutTheDriverLibraryGetsOneClearLine() {
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> CudaDriver.load("libcuda-absent-for-test.so.1"));
        assertEquals("no NVIDIA driver: libcuda-absent-for-test.so.1 not found", e.getMessage());
    }

    @Test
    void theProviderIsRegisteredAndExplainsWhyItCannotRun() {
        BackendProvider cuda = BackendProvider.all().stream().filter(p -> p.name().equals("cuda")).findFirst().orElseThrow();
        String why = cuda.unavailableReason();
        if (why == null) return; // a GPU machine: the GPU tests cover it
        assertFalse(why.contains("\n"), "one line: " + why);
        assertTrue(why.startsWith("no NVIDIA driver: ") || why.startsWith("no NVIDIA GPU: ") || why.startsWith("NVIDIA driver not usable: ")
                || why.startsWith("cuBLAS not found"), why);
        dev.rast.engine.BadInputException e = assertThrows(dev.rast.engine.BadInputException.class, () -> BackendProvider.open("cuda", 1));
        assertEquals("--device cuda: not available here: " + why, e.getMessage());
    }

    @Test
    void statusNamesMatchTheDriverAndCublasWhereTheyArePresent() {
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", CudaStatus.driverName(2));
        assertEquals("CUDA_ERROR_NO_DEVICE", CudaStatus.driverName(100));
        assertEquals("CUresult 12345", CudaStatus.driverName(12345));
        assertEquals("CUBLAS_STATUS_NOT_SUPPORTED", CudaStatus.cublasName(15));
        CudaException e = new CudaException("cuMemAlloc(1073741824 bytes)", 2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory");
        assertEquals("cuMemAlloc(1073741824 bytes): CUDA_ERROR_OUT_OF_MEMORY (out of memory)", e.getMessage());
        CudaDriver cu;
        try {
            cu = CudaDriver.get();
        } catch (CudaUnavailableException none) {
            Assumptions.abort("no driver library to compare names with: " + none.getMessage());
            return;
        }
        // The driver names every code in our table the same way (cuGetErrorName works without cuInit or a GPU).
        for (var entry : CudaStatus.DRIVER.entrySet()) assertEquals(entry.getValue(), cu.errorName(entry.getKey()), "CUresult " + entry.getKey());
    }

    @Test
    void everyBoundSymbolExistsInTheInstalledLibraries() {
        SymbolLookup cuda;
        try {
            cuda = SymbolLookup.libraryLookup(CudaDriver.LIBRARY, Arena.global());
        } catch (IllegalArgumentException none) {
            Assumptions.abort(CudaDriver.LIBRARY + " not installed");
            return;
        }
        for (String s : CudaDriver.SYMBOLS) assertTrue(cuda.find(s).isPresent(), CudaDriver.LIBRARY + " lacks " + s);
        Cublas blas; // binding it checks every symbol of Cublas.SYMBOLS
        try {
            blas = Cublas.get();
        } catch (CudaUnavailableException none) {
            boolean gpu;
            try {
                CudaDriver cu = CudaDriver.get();
                cu.init();
                gpu = cu.deviceCount() > 0;
            } catch (RuntimeException noGpu) {
                gpu = false;
            }
            // Where there is a GPU, a missing or too old cuBLAS fails here instead of quietly skipping the GPU tests.
            assertFalse(gpu, "a GPU is present but " + none.getMessage());
            Assumptions.abort(none.getMessage());
            return;
        }
        assertEquals("CUBLAS_STATUS_NOT_SUPPORTED", blas.statusName(15));
        assertEquals("CUBLAS_STATUS_INVALID_VALUE", blas.statusName(7));
        for (var entry : CudaStatus.CUBLAS.entrySet()) assertEquals(entry.getValue(), blas.statusName(entry.getKey()));
    }

    @Test
    void outOfMemoryMessageSaysWhatNeededHowMuchAndWhatWasFree() {
        assertEquals("out of GPU memory: cuMemAlloc(1073741824 bytes) for weight BF16[131072, 4096]: CUDA_ERROR_OUT_OF_MEMORY;"
                        + " needs 1.00 GiB, 0.50 GiB free of 80.00 GiB on NVIDIA H100",
                CudaDevice.outOfMemoryMessage(1L << 30, "weight BF16[131072, 4096]", 1L << 29, 80L << 30, "NVIDIA H100"));
        DeviceOutOfMemoryException e = new DeviceOutOfMemoryException("x");
        assertTrue(e instanceof dev.rast.engine.BadInputException, "the command line reports it as one line, exit 2");
    }

    /** Known-answer vectors of Philox4x32-10 from Random123's kat_vectors. */
    @Test
    void philoxMatchesTheRandom123KnownAnswers() {
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}, Philox.block(new int[] {0, 0, 0, 0}, 0, 0));
        assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}, Philox.block(new int[] {-1, -1, -1, -1}, -1, -1));
        assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
                Philox.block(new int[] {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, 0xa4093822, 0x299f31d0));
        assertEquals((0x6627e8d5 >>> 8) / 16777216.0f, Philox.uniform(0, 0));
    }

    @Test
    void cublasSearchOrderPrefersCuda13ThenCuda12() {
        assertEquals(List.of("/opt/x/libcublas.so.13", "libcublas.so.13", "libcublas.so.12", "/cuda/lib64/libcublas.so.13",
                "/cuda/lib64/libcublas.so.12", "/usr/local/cuda/lib64/libcublas.so.13", "/usr/local/cuda/lib64/libcublas.so.12",
                "libcublas.so"), Cublas.candidates("/opt/x/libcublas.so.13", "/cuda"));
    }

    @Test
    void decodeAttentionSplitsAndPrefillSharedMemory() {
        // One query on 12 heads (Qwen2.5-1.5B): 1024 / 12 → 86 splits wanted, of at least 16 keys.
        assertEquals(16, CudaBackend.decodeChunk(1, 12, 1024, 16));
        assertEquals(16, CudaBackend.decodeChunk(150, 12, 1024, 16));      // 10 splits
        assertEquals(48, CudaBackend.decodeChunk(4_096, 12, 1024, 16));    // ⌈4096 / 86⌉
        // Two heads: 512 splits wanted, 256 allowed.
        assertEquals(17, CudaBackend.decodeChunk(4_300, 2, 1024, 16));     // ⌈4300 / 256⌉
        assertEquals(64, CudaBackend.decodeChunk(16_384, 1, 1024, 16));
        // 32 sequences × 28 heads (Qwen2.5-7B) fill 896 blocks: 2 splits.
        assertEquals(75, CudaBackend.decodeChunk(150, 32 * 28, 1024, 16));
        assertEquals(8_192, CudaBackend.decodeChunk(16_384, 32 * 28, 1024, 16));
        // The split docs/gpu-report.md timed (-Drast.cuda.decode-min-chunk=64 -Drast.cuda.decode-target-blocks=0): 256 splits of 64+.
        assertEquals(64, CudaBackend.decodeChunk(150, 12, 0, 64));
        assertEquals(128, CudaBackend.decodeChunk(32_768, 12, 0, 64));
        assertEquals(41_088, CudaBackend.prefillSharedBytes(128)); // under the 48 KiB every GPU gives without opting in
        assertTrue(CudaBackend.prefillSharedBytes(256) > 48 * 1024);
    }
}
