package dev.rast.kernels.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * cuBLAS through {@code java.lang.foreign}: the handle calls and the two mixed-precision GEMMs rast uses. Loads the
 * first of libcublas.so.13 / .12 (CUDA 13 / 12) that the dynamic loader finds, then the same names under
 * $CUDA_HOME/lib64 and /usr/local/cuda/lib64, then plain libcublas.so; {@code RAST_CUBLAS=/path/libcublas.so.N}
 * overrides the search.
 */
public final class Cublas {
    // cublasOperation_t
    public static final int CUBLAS_OP_N = 0;
    public static final int CUBLAS_OP_T = 1;
    // cudaDataType_t (library_types.h)
    public static final int CUDA_R_32F = 0;
    public static final int CUDA_R_16F = 2;
    public static final int CUDA_R_16BF = 14;
    // cublasComputeType_t
    public static final int CUBLAS_COMPUTE_32F = 68;
    // cublasGemmAlgo_t
    public static final int CUBLAS_GEMM_DEFAULT = -1;
    // cublasMath_t: default math keeps CUBLAS_COMPUTE_32F in full F32 (no TF32 down-conversion of F32 inputs).
    public static final int CUBLAS_DEFAULT_MATH = 0;

    static final String[] NAMES = {"libcublas.so.13", "libcublas.so.12"};

    private static Object loaded;

    /** The search order described above, for the error message and the tests. */
    static List<String> candidates(String override, String cudaHome) {
        List<String> out = new ArrayList<>();
        if (override != null && !override.isBlank()) out.add(override);
        out.addAll(List.of(NAMES));
        List<String> dirs = new ArrayList<>();
        if (cudaHome != null && !cudaHome.isBlank()) dirs.add(cudaHome + "/lib64");
        dirs.add("/usr/local/cuda/lib64");
        for (String d : dirs) for (String n : NAMES) out.add(d + "/" + n);
        out.add("libcublas.so");
        return out;
    }

    public static synchronized Cublas get() {
        if (loaded == null) {
            List<String> c = candidates(System.getenv("RAST_CUBLAS"), System.getenv("CUDA_HOME"));
            Optional<NativeLibrary> lib = NativeLibrary.openFirst(c);
            try {
                loaded = lib.map(Cublas::new).orElseThrow(() -> new CudaUnavailableException(
                        "cuBLAS not found (tried libcublas.so.13, libcublas.so.12, /usr/local/cuda/lib64, libcublas.so);"
                                + " install the CUDA toolkit's cuBLAS or set RAST_CUBLAS=/path/to/libcublas.so.N"));
            } catch (CudaUnavailableException e) {
                loaded = e;
            }
        }
        if (loaded instanceof CudaUnavailableException e) throw new CudaUnavailableException(e.getMessage());
        return (Cublas) loaded;
    }

    /** Every symbol bound here (cublasGetStatusName is optional: it came with cuBLAS 11.4). */
    public static final List<String> SYMBOLS = List.of("cublasCreate_v2", "cublasDestroy_v2", "cublasSetStream_v2",
            "cublasSetMathMode", "cublasGetVersion_v2", "cublasGemmEx", "cublasGemmStridedBatchedEx");

    final String library;
    private final MethodHandle create, destroy, setStream, setMathMode, getVersion, gemmEx, gemmStridedBatchedEx;
    private final MethodHandle statusName; // may be null
    private final MethodHandle setWorkspace; // may be null (cublasSetWorkspace came with cuBLAS 11.4)

    private Cublas(NativeLibrary lib) {
        library = lib.name;
        create = lib.function("cublasCreate_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        destroy = lib.function("cublasDestroy_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        setStream = lib.function("cublasSetStream_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        setMathMode = lib.function("cublasSetMathMode", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        getVersion = lib.function("cublasGetVersion_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        // cublasGemmEx(handle, transa, transb, m, n, k, alpha*, A*, Atype, lda, B*, Btype, ldb, beta*, C*, Ctype, ldc,
        //              computeType, algo)
        gemmEx = lib.function("cublasGemmEx", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        // cublasGemmStridedBatchedEx(handle, transa, transb, m, n, k, alpha*, A*, Atype, lda, strideA (long long), B*,
        //              Btype, ldb, strideB, beta*, C*, Ctype, ldc, strideC, batchCount, computeType, algo)
        gemmStridedBatchedEx = lib.function("cublasGemmStridedBatchedEx", FunctionDescriptor.of(JAVA_INT, ADDRESS,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS,
                JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT));
        // cublasSetWorkspace(handle, void* workspace, size_t bytes)
        setWorkspace = lib.optionalFunction("cublasSetWorkspace_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG)).orElse(null);
        statusName = lib.optionalFunction("cublasGetStatusName", FunctionDescriptor.of(ADDRESS, JAVA_INT)).orElse(null);
    }

    /** cuBLAS's own name for a status when it has the function, else the table's. */
    public String statusName(int status) {
        if (statusName != null) {
            try {
                String n = CudaDriver.cString((MemorySegment) statusName.invokeExact(status));
                if (n != null && !n.isBlank() && !n.contains("UNKNOWN")) return n;
            } catch (Throwable t) {
                throw CudaDriver.rethrow(t);
            }
        }
        return CudaStatus.cublasName(status);
    }

    void check(int status, String call) {
        if (status != CudaStatus.CUBLAS_STATUS_SUCCESS) throw new CudaException(call, status, statusName(status), null);
    }

    /** A new handle; needs a current context. */
    public MemorySegment create() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check((int) create.invokeExact(p), "cublasCreate");
            return p.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    public void destroy(MemorySegment handle) {
        try {
            check((int) destroy.invokeExact(handle), "cublasDestroy");
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    public void setStream(MemorySegment handle, MemorySegment stream) {
        try {
            check((int) setStream.invokeExact(handle, stream), "cublasSetStream");
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    public void setMathMode(MemorySegment handle, int mode) {
        try {
            check((int) setMathMode.invokeExact(handle, mode), "cublasSetMathMode(" + mode + ")");
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    /**
     * Gives the handle a device workspace of its own (256-byte aligned), so that GEMMs captured into a CUDA graph
     * need no allocation from cuBLAS's pool during the capture (cuBLAS's advice for stream capture).
     */
    public void setWorkspace(MemorySegment handle, long workspace, long bytes) {
        if (setWorkspace == null) throw new CudaException("cublasSetWorkspace", 15, "CUBLAS_STATUS_NOT_SUPPORTED",
                "this cuBLAS has no cublasSetWorkspace (needs cuBLAS 11.4 or later for CUDA graphs)");
        try {
            check((int) setWorkspace.invokeExact(handle, MemorySegment.ofAddress(workspace), bytes), "cublasSetWorkspace");
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    /** cuBLAS version as major·10000 + minor·100 + patch (e.g. 130001). */
    public int version(MemorySegment handle) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            check((int) getVersion.invokeExact(handle, p), "cublasGetVersion");
            return p.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    /** cublasGemmEx with F32 compute; alpha and beta are host pointers to floats. */
    public void gemmEx(MemorySegment handle, GemmCall g, MemorySegment alpha, MemorySegment beta) {
        int rc;
        try {
            rc = (int) gemmEx.invokeExact(handle, g.transA(), g.transB(), g.m(), g.n(), g.k(), alpha,
                    MemorySegment.ofAddress(g.a()), g.aType(), g.lda(), MemorySegment.ofAddress(g.b()), g.bType(), g.ldb(),
                    beta, MemorySegment.ofAddress(g.c()), g.cType(), g.ldc(), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
        check(rc, "cublasGemmEx(" + g + ")");
    }

    /** cublasGemmStridedBatchedEx: {@code batch} GEMMs whose operands are {@code stride*} elements apart. */
    public void gemmStridedBatchedEx(MemorySegment handle, GemmCall g, long strideA, long strideB, long strideC, int batch,
                                     MemorySegment alpha, MemorySegment beta) {
        int rc;
        try {
            rc = (int) gemmStridedBatchedEx.invokeExact(handle, g.transA(), g.transB(), g.m(), g.n(), g.k(), alpha,
                    MemorySegment.ofAddress(g.a()), g.aType(), g.lda(), strideA, MemorySegment.ofAddress(g.b()), g.bType(),
                    g.ldb(), strideB, beta, MemorySegment.ofAddress(g.c()), g.cType(), g.ldc(), strideC, batch,
                    CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
        check(rc, "cublasGemmStridedBatchedEx(" + g + ", batch " + batch + ")");
    }
}
