package dev.rast.kernels.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;

/**
 * The CUDA driver API (libcuda.so.1) through {@code java.lang.foreign}: one downcall handle per function, every
 * status checked. Symbol names are the ones cuda.h maps the API names to ({@code cuMemAlloc} is
 * {@code cuMemAlloc_v2}, ...), which every driver since CUDA 11 exports.
 *
 * <p>Loaded lazily by {@link #get()}, so this class loads on machines without CUDA; where the library is missing
 * {@code get()} throws {@link CudaUnavailableException} with one line saying so. Handles (context, stream, module,
 * function, event) are {@link MemorySegment} addresses; device pointers are {@code long}.
 */
public final class CudaDriver {
    public static final String LIBRARY = "libcuda.so.1";

    public static final int CU_DEVICE_ATTRIBUTE_CLOCK_RATE = 13;
    public static final int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    public static final int CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE = 36;
    public static final int CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH = 37;
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    public static final int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
    public static final int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
    public static final int CU_JIT_ERROR_LOG_BUFFER = 5;
    public static final int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
    public static final int CU_STREAM_DEFAULT = 0;
    public static final int CU_EVENT_DEFAULT = 0;
    /** CUstreamCaptureMode: potentially unsafe API calls (cuMemAlloc, synchronous copies) fail from any thread. */
    public static final int CU_STREAM_CAPTURE_MODE_GLOBAL = 0;

    private static Object loaded; // the driver, or the CudaUnavailableException that loading it threw

    /** The process-wide driver binding; throws {@link CudaUnavailableException} (every time) if it cannot load. */
    public static synchronized CudaDriver get() {
        if (loaded == null) {
            try {
                loaded = load(LIBRARY);
            } catch (CudaUnavailableException e) {
                loaded = e;
            }
        }
        if (loaded instanceof CudaUnavailableException e) throw new CudaUnavailableException(e.getMessage());
        return (CudaDriver) loaded;
    }

    /** Binds the driver API in {@code library}; public for tests that point it at a library that is not there. */
    public static CudaDriver load(String library) {
        NativeLibrary lib = NativeLibrary.openFirst(List.of(library)).orElseThrow(
                () -> new CudaUnavailableException("no NVIDIA driver: " + library + " not found"));
        return new CudaDriver(lib);
    }

    final String library;
    private final MethodHandle cuInit, cuDriverGetVersion, cuDeviceGetCount, cuDeviceGet, cuDeviceGetName,
            cuDeviceTotalMem, cuDeviceGetAttribute, cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRelease,
            cuCtxSetCurrent, cuCtxSynchronize, cuMemAlloc, cuMemFree, cuMemGetInfo, cuMemAllocHost, cuMemFreeHost,
            cuMemcpyHtoD, cuMemcpyDtoH, cuMemcpyDtoD, cuMemcpyHtoDAsync, cuMemcpyDtoHAsync, cuMemcpyDtoDAsync,
            cuMemsetD8, cuMemsetD32, cuMemsetD8Async, cuMemsetD32Async, cuStreamCreate, cuStreamDestroy,
            cuStreamSynchronize, cuEventCreate, cuEventRecord, cuEventSynchronize, cuEventElapsedTime, cuEventDestroy,
            cuModuleLoadData, cuModuleLoadDataEx, cuModuleUnload, cuModuleGetFunction, cuFuncSetAttribute,
            cuLaunchKernel, cuGetErrorName, cuGetErrorString, cuStreamBeginCapture, cuStreamEndCapture,
            cuGraphInstantiate, cuGraphLaunch, cuGraphExecDestroy, cuGraphDestroy;

    /** Every symbol this class binds, for tests that check a driver library exports them all. */
    public static final List<String> SYMBOLS = List.of("cuInit", "cuDriverGetVersion", "cuDeviceGetCount", "cuDeviceGet",
            "cuDeviceGetName", "cuDeviceTotalMem_v2", "cuDeviceGetAttribute", "cuDevicePrimaryCtxRetain",
            "cuDevicePrimaryCtxRelease_v2", "cuCtxSetCurrent", "cuCtxSynchronize", "cuMemAlloc_v2", "cuMemFree_v2",
            "cuMemGetInfo_v2", "cuMemAllocHost_v2", "cuMemFreeHost", "cuMemcpyHtoD_v2", "cuMemcpyDtoH_v2",
            "cuMemcpyDtoD_v2", "cuMemcpyHtoDAsync_v2", "cuMemcpyDtoHAsync_v2", "cuMemcpyDtoDAsync_v2", "cuMemsetD8_v2",
            "cuMemsetD32_v2", "cuMemsetD8Async", "cuMemsetD32Async", "cuStreamCreate", "cuStreamDestroy_v2",
            "cuStreamSynchronize", "cuEventCreate", "cuEventRecord", "cuEventSynchronize", "cuEventElapsedTime",
            "cuEventDestroy_v2", "cuModuleLoadData", "cuModuleLoadDataEx", "cuModuleUnload", "cuModuleGetFunction",
            "cuFuncSetAttribute", "cuLaunchKernel", "cuGetErrorName", "cuGetErrorString", "cuStreamBeginCapture_v2",
            "cuStreamEndCapture", "cuGraphInstantiateWithFlags", "cuGraphLaunch", "cuGraphExecDestroy", "cuGraphDestroy");

    private CudaDriver(NativeLibrary lib) {
        library = lib.name;
        FunctionDescriptor iI = FunctionDescriptor.of(JAVA_INT, JAVA_INT);
        FunctionDescriptor iA = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        FunctionDescriptor iAA = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        cuInit = lib.function("cuInit", iI);
        cuDriverGetVersion = lib.function("cuDriverGetVersion", iA);
        cuDeviceGetCount = lib.function("cuDeviceGetCount", iA);
        cuDeviceGet = lib.function("cuDeviceGet", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuDeviceGetName = lib.function("cuDeviceGetName", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuDeviceTotalMem = lib.function("cuDeviceTotalMem_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuDeviceGetAttribute = lib.function("cuDeviceGetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuDevicePrimaryCtxRetain = lib.function("cuDevicePrimaryCtxRetain", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuDevicePrimaryCtxRelease = lib.function("cuDevicePrimaryCtxRelease_v2", iI);
        cuCtxSetCurrent = lib.function("cuCtxSetCurrent", iA);
        cuCtxSynchronize = lib.function("cuCtxSynchronize", FunctionDescriptor.of(JAVA_INT));
        cuMemAlloc = lib.function("cuMemAlloc_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        cuMemFree = lib.function("cuMemFree_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
        cuMemGetInfo = lib.function("cuMemGetInfo_v2", iAA);
        cuMemAllocHost = lib.function("cuMemAllocHost_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        cuMemFreeHost = lib.function("cuMemFreeHost", iA);
        cuMemcpyHtoD = lib.function("cuMemcpyHtoD_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG));
        cuMemcpyDtoH = lib.function("cuMemcpyDtoH_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
        cuMemcpyDtoD = lib.function("cuMemcpyDtoD_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        cuMemcpyHtoDAsync = lib.function("cuMemcpyHtoDAsync_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
        cuMemcpyDtoHAsync = lib.function("cuMemcpyDtoHAsync_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
        cuMemcpyDtoDAsync = lib.function("cuMemcpyDtoDAsync_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS));
        cuMemsetD8 = lib.function("cuMemsetD8_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_BYTE, JAVA_LONG));
        cuMemsetD32 = lib.function("cuMemsetD32_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG));
        cuMemsetD8Async = lib.function("cuMemsetD8Async", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_BYTE, JAVA_LONG, ADDRESS));
        cuMemsetD32Async = lib.function("cuMemsetD32Async", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS));
        cuStreamCreate = lib.function("cuStreamCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuStreamDestroy = lib.function("cuStreamDestroy_v2", iA);
        cuStreamSynchronize = lib.function("cuStreamSynchronize", iA);
        cuEventCreate = lib.function("cuEventCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuEventRecord = lib.function("cuEventRecord", iAA);
        cuEventSynchronize = lib.function("cuEventSynchronize", iA);
        // CUDA 12.8 added cuEventElapsedTime_v2 (same signature); the original stays exported for old binaries.
        FunctionDescriptor elapsed = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        cuEventElapsedTime = lib.optionalFunction("cuEventElapsedTime_v2", elapsed)
                .orElseGet(() -> lib.function("cuEventElapsedTime", elapsed));
        cuEventDestroy = lib.function("cuEventDestroy_v2", iA);
        cuModuleLoadData = lib.function("cuModuleLoadData", iAA);
        cuModuleLoadDataEx = lib.function("cuModuleLoadDataEx", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        cuModuleUnload = lib.function("cuModuleUnload", iA);
        cuModuleGetFunction = lib.function("cuModuleGetFunction", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        cuFuncSetAttribute = lib.function("cuFuncSetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuLaunchKernel = lib.function("cuLaunchKernel", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        cuGetErrorName = lib.function("cuGetErrorName", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        cuGetErrorString = lib.function("cuGetErrorString", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        // Graphs (cuda.h): cuStreamBeginCapture(CUstream, CUstreamCaptureMode) is the _v2 symbol since CUDA 10.1;
        // cuStreamEndCapture(CUstream, CUgraph*); cuGraphInstantiateWithFlags(CUgraphExec*, CUgraph, unsigned long
        // long flags), CUDA 11.4+ (CUDA 12's cuGraphInstantiate is a macro for it); cuGraphLaunch(CUgraphExec,
        // CUstream); cuGraphExecDestroy(CUgraphExec); cuGraphDestroy(CUgraph).
        cuStreamBeginCapture = lib.function("cuStreamBeginCapture_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuStreamEndCapture = lib.function("cuStreamEndCapture", iAA);
        cuGraphInstantiate = lib.function("cuGraphInstantiateWithFlags", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
        cuGraphLaunch = lib.function("cuGraphLaunch", iAA);
        cuGraphExecDestroy = lib.function("cuGraphExecDestroy", iA);
        cuGraphDestroy = lib.function("cuGraphDestroy", iA);
    }

    // ------------------------------------------------------------------ status handling

    /** The driver's name for a status ({@code CUDA_ERROR_OUT_OF_MEMORY}), or the table's when it has none. */
    public String errorName(int status) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            int rc = (int) cuGetErrorName.invokeExact(status, p);
            return rc == 0 ? cString(p.get(ADDRESS, 0)) : CudaStatus.driverName(status);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The driver's description of a status ("out of memory"), or null. */
    public String errorString(int status) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            int rc = (int) cuGetErrorString.invokeExact(status, p);
            return rc == 0 ? cString(p.get(ADDRESS, 0)) : null;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public CudaException error(String call, int status) {
        return new CudaException(call, status, errorName(status), errorString(status));
    }

    void check(int status, String call) {
        if (status != CudaStatus.CUDA_SUCCESS) throw error(call, status);
    }

    static String cString(MemorySegment p) {
        return p.equals(MemorySegment.NULL) ? null : p.reinterpret(Long.MAX_VALUE).getString(0);
    }

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    // ------------------------------------------------------------------ initialization and devices

    /**
     * cuInit(0). No GPU, or a driver library without a working kernel module, becomes a
     * {@link CudaUnavailableException} with one line saying which.
     */
    public void init() {
        int rc;
        try {
            rc = (int) cuInit.invokeExact(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (rc == CudaStatus.CUDA_SUCCESS) return;
        String what = CudaStatus.describe("cuInit", errorName(rc), errorString(rc));
        if (rc == CudaStatus.CUDA_ERROR_NO_DEVICE) throw new CudaUnavailableException("no NVIDIA GPU: " + what);
        throw new CudaUnavailableException("NVIDIA driver not usable: " + what);
    }

    /** The driver's CUDA version as 1000·major + 10·minor (13000 for CUDA 13.0). */
    public int driverVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            check((int) cuDriverGetVersion.invokeExact(p), "cuDriverGetVersion");
            return p.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int deviceCount() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            check((int) cuDeviceGetCount.invokeExact(p), "cuDeviceGetCount");
            return p.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int device(int ordinal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            check((int) cuDeviceGet.invokeExact(p, ordinal), "cuDeviceGet(" + ordinal + ")");
            return p.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public String deviceName(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(256);
            check((int) cuDeviceGetName.invokeExact(p, 256, device), "cuDeviceGetName");
            return p.getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public long deviceTotalMemory(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check((int) cuDeviceTotalMem.invokeExact(p, device), "cuDeviceTotalMem");
            return p.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int deviceAttribute(int device, int attribute) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            check((int) cuDeviceGetAttribute.invokeExact(p, attribute, device), "cuDeviceGetAttribute(" + attribute + ")");
            return p.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public MemorySegment primaryContextRetain(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check((int) cuDevicePrimaryCtxRetain.invokeExact(p, device), "cuDevicePrimaryCtxRetain");
            return p.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void primaryContextRelease(int device) {
        try {
            check((int) cuDevicePrimaryCtxRelease.invokeExact(device), "cuDevicePrimaryCtxRelease");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void contextSetCurrent(MemorySegment context) {
        try {
            check((int) cuCtxSetCurrent.invokeExact(context), "cuCtxSetCurrent");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void contextSynchronize() {
        try {
            check((int) cuCtxSynchronize.invokeExact(), "cuCtxSynchronize");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ------------------------------------------------------------------ memory

    /** cuMemAlloc; returns the raw status through {@code status[0]} so the caller can explain an out-of-memory. */
    public long memAlloc(long bytes, int[] status) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            status[0] = (int) cuMemAlloc.invokeExact(p, bytes);
            return status[0] == 0 ? p.get(JAVA_LONG, 0) : 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void memFree(long ptr) {
        try {
            check((int) cuMemFree.invokeExact(ptr), "cuMemFree");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {free, total} bytes of device memory. */
    public long[] memGetInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment f = a.allocate(JAVA_LONG), t = a.allocate(JAVA_LONG);
            check((int) cuMemGetInfo.invokeExact(f, t), "cuMemGetInfo");
            return new long[] {f.get(JAVA_LONG, 0), t.get(JAVA_LONG, 0)};
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Page-locked host memory (fast, asynchronous copies), as a segment of {@code bytes}. */
    public MemorySegment memAllocHost(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check((int) cuMemAllocHost.invokeExact(p, bytes), "cuMemAllocHost(" + bytes + " bytes)");
            return p.get(ADDRESS, 0).reinterpret(bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void memFreeHost(MemorySegment p) {
        try {
            check((int) cuMemFreeHost.invokeExact(p), "cuMemFreeHost");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void memcpyHtoD(long dst, MemorySegment src, long bytes) {
        try {
            check((int) cuMemcpyHtoD.invokeExact(dst, src, bytes), "cuMemcpyHtoD(" + bytes + " bytes)");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void memcpyDtoH(MemorySegment dst, long src, long bytes) {
        try {
            check((int) cuMemcpyDtoH.invokeExact(dst, src, bytes), "cuMemcpyDtoH(" + bytes + " bytes)");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void memcpyDtoD(long dst, long src, long bytes) {
        try {
            check((int) cuMemcpyDtoD.invokeExact(dst, src, bytes), "cuMemcpyDtoD(" + bytes + " bytes)");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void memcpyHtoDAsync(long dst, MemorySegment src, long bytes, MemorySegment stream) {
        try {
            check((int) cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyHtoDAsync(" + bytes + " bytes)");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void memcpyDtoHAsync(MemorySegment dst, long src, long bytes, MemorySegment stream) {
        try {
            check((int) cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyDtoHAsync(" + bytes + " bytes)");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void memcpyDtoDAsync(long dst, long src, long bytes, MemorySegment stream) {
        try {
            check((int) cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyDtoDAsync(" + bytes + " bytes)");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void memsetD8(long dst, byte value, long count) {
        try {
            check((int) cuMemsetD8.invokeExact(dst, value, count), "cuMemsetD8(" + count + " bytes)");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void memsetD32(long dst, int value, long count) {
        try {
            check((int) cuMemsetD32.invokeExact(dst, value, count), "cuMemsetD32(" + count + " words)");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void memsetD8Async(long dst, byte value, long count, MemorySegment stream) {
        try {
            check((int) cuMemsetD8Async.invokeExact(dst, value, count, stream), "cuMemsetD8Async(" + count + " bytes)");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void memsetD32Async(long dst, int value, long count, MemorySegment stream) {
        try {
            check((int) cuMemsetD32Async.invokeExact(dst, value, count, stream), "cuMemsetD32Async(" + count + " words)");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ------------------------------------------------------------------ streams and events

    public MemorySegment streamCreate(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check((int) cuStreamCreate.invokeExact(p, flags), "cuStreamCreate");
            return p.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void streamDestroy(MemorySegment stream) {
        try {
            check((int) cuStreamDestroy.invokeExact(stream), "cuStreamDestroy");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Waits for the stream; returns the raw status (an earlier kernel's failure surfaces here). */
    public int streamSynchronize(MemorySegment stream) {
        try {
            return (int) cuStreamSynchronize.invokeExact(stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public MemorySegment eventCreate(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check((int) cuEventCreate.invokeExact(p, flags), "cuEventCreate");
            return p.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void eventRecord(MemorySegment event, MemorySegment stream) {
        try {
            check((int) cuEventRecord.invokeExact(event, stream), "cuEventRecord");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void eventSynchronize(MemorySegment event) {
        try {
            check((int) cuEventSynchronize.invokeExact(event), "cuEventSynchronize");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Milliseconds between two recorded events. */
    public float eventElapsedTime(MemorySegment start, MemorySegment end) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_FLOAT);
            check((int) cuEventElapsedTime.invokeExact(p, start, end), "cuEventElapsedTime");
            return p.get(JAVA_FLOAT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void eventDestroy(MemorySegment event) {
        try {
            check((int) cuEventDestroy.invokeExact(event), "cuEventDestroy");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ------------------------------------------------------------------ modules and launches

    /** cuModuleLoadData on a NUL-terminated PTX image. */
    public MemorySegment moduleLoadData(MemorySegment image) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check((int) cuModuleLoadData.invokeExact(p, image), "cuModuleLoadData");
            return p.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * cuModuleLoadDataEx with an error-log buffer, so that a PTX the driver's JIT rejects is reported with the
     * JIT's own message.
     */
    public MemorySegment moduleLoadDataWithLog(MemorySegment image, String what) {
        try (Arena a = Arena.ofConfined()) {
            int logBytes = 8192;
            MemorySegment log = a.allocate(logBytes);
            MemorySegment options = a.allocate(JAVA_INT, 2);
            options.setAtIndex(JAVA_INT, 0, CU_JIT_ERROR_LOG_BUFFER);
            options.setAtIndex(JAVA_INT, 1, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES);
            MemorySegment values = a.allocate(ADDRESS, 2);
            values.setAtIndex(ADDRESS, 0, log);
            values.setAtIndex(ADDRESS, 1, MemorySegment.ofAddress(logBytes)); // option values are pointer-sized ints
            MemorySegment p = a.allocate(ADDRESS);
            int rc = (int) cuModuleLoadDataEx.invokeExact(p, image, 2, options, values);
            if (rc != 0) {
                String jit = log.getString(0).strip();
                String hint = rc == CudaStatus.CUDA_ERROR_UNSUPPORTED_PTX_VERSION
                        ? " [the driver (CUDA " + versionString(driverVersion()) + ") is older than the PTX; update the NVIDIA driver]" : "";
                throw new CudaException("cuModuleLoadData(" + what + ")" + (jit.isEmpty() ? "" : " [JIT: " + jit.replace('\n', ' ') + "]") + hint,
                        rc, errorName(rc), errorString(rc));
            }
            return p.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void moduleUnload(MemorySegment module) {
        try {
            check((int) cuModuleUnload.invokeExact(module), "cuModuleUnload");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public MemorySegment moduleGetFunction(MemorySegment module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check((int) cuModuleGetFunction.invokeExact(p, module, a.allocateFrom(name)), "cuModuleGetFunction(" + name + ")");
            return p.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void funcSetAttribute(MemorySegment function, int attribute, int value, String name) {
        try {
            check((int) cuFuncSetAttribute.invokeExact(function, attribute, value), "cuFuncSetAttribute(" + name + ", " + attribute + ", " + value + ")");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** cuLaunchKernel; returns the raw status so the caller can name the kernel and its launch shape. */
    public int launchKernel(MemorySegment f, int gx, int gy, int gz, int bx, int by, int bz, int sharedBytes,
                            MemorySegment stream, MemorySegment params) {
        try {
            return (int) cuLaunchKernel.invokeExact(f, gx, gy, gz, bx, by, bz, sharedBytes, stream, params, MemorySegment.NULL);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ------------------------------------------------------------------ graphs

    /** Starts capturing the work issued on {@code stream} into a graph instead of running it. */
    public void streamBeginCapture(MemorySegment stream, int mode) {
        try {
            check((int) cuStreamBeginCapture.invokeExact(stream, mode), "cuStreamBeginCapture");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Ends the capture on {@code stream}; {@code graph[0]} receives the graph (NULL when the capture was
     * invalidated). Returns the raw status, so that a failed capture can still be cleaned up by the caller.
     */
    public int streamEndCapture(MemorySegment stream, MemorySegment[] graph) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            int rc = (int) cuStreamEndCapture.invokeExact(stream, p);
            graph[0] = p.get(ADDRESS, 0);
            return rc;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** An executable graph of {@code graph} (flags 0). */
    public MemorySegment graphInstantiate(MemorySegment graph) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check((int) cuGraphInstantiate.invokeExact(p, graph, 0L), "cuGraphInstantiateWithFlags");
            return p.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Queues the executable graph's work on {@code stream}; returns the raw status. */
    public int graphLaunch(MemorySegment exec, MemorySegment stream) {
        try {
            return (int) cuGraphLaunch.invokeExact(exec, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void graphExecDestroy(MemorySegment exec) {
        try {
            check((int) cuGraphExecDestroy.invokeExact(exec), "cuGraphExecDestroy");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void graphDestroy(MemorySegment graph) {
        try {
            check((int) cuGraphDestroy.invokeExact(graph), "cuGraphDestroy");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** "13.0" for 13000. */
    public static String versionString(int v) { return (v / 1000) + "." + (v % 1000) / 10; }
}
