package dev.rast.kernels.cuda;

import dev.rast.engine.tensor.DType;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One GPU through the driver API and cuBLAS: its primary context, one stream that all work is ordered on, rast's
 * PTX module and a cuBLAS handle bound to that stream.
 *
 * <p>Ordering: the stream is a blocking one (CU_STREAM_DEFAULT), so the synchronous cuMemcpy calls (which run on
 * the legacy default stream) wait for the stream's earlier work and later stream work waits for them. Copies from
 * Java heap memory go through a page-locked staging buffer. Every call made from a new thread first makes the
 * context current there.
 *
 * <p>Set {@code RAST_CUDA_SYNC=1} to wait after every kernel, so that a kernel that fails asynchronously is named.
 */
public final class CudaDevice implements Device {
    private static final long STAGING_BYTES = 16L << 20;
    private static final int DEFAULT_SHARED_LIMIT = 48 * 1024;
    /**
     * Statuses that mean "an earlier asynchronous operation failed"; the context is unusable afterwards. Not 701
     * (too many resources requested for a launch): that one is returned by the launch itself and leaves the
     * context usable.
     */
    private static final Set<Integer> STICKY = Set.of(700, 702, 715, 716, 718, 719);

    private static String unavailable; // cached probe result; "" = available
    private static final String NONE = "";

    /**
     * Why CUDA cannot run here (no driver, no GPU, no cuBLAS), or null when it can. Probes once per process and
     * prints nothing.
     */
    public static synchronized String unavailableReason() {
        if (unavailable == null) {
            try {
                CudaDriver cu = CudaDriver.get();
                cu.init();
                if (cu.deviceCount() == 0) throw new CudaUnavailableException("no NVIDIA GPU: the driver sees no device");
                Cublas.get();
                unavailable = NONE;
            } catch (CudaUnavailableException | CudaException e) {
                unavailable = e.getMessage();
            }
        }
        return unavailable.isEmpty() ? null : unavailable;
    }

    /** Static facts about the GPU, for the backend's name and the benchmark report. */
    public record Info(String name, int ccMajor, int ccMinor, int multiprocessors, long totalMemory, int driverVersion,
                       int memoryClockKHz, int memoryBusBits, int smClockKHz, int cublasVersion, String cublasLibrary) {
        /** Peak DRAM bandwidth from the memory clock and bus width (double data rate), bytes/s; 0 if unknown. */
        public double peakBandwidth() { return 2.0 * memoryClockKHz * 1e3 * memoryBusBits / 8; }
    }

    private final CudaDriver cu;
    private final Cublas blas;
    private final int device;
    private final MemorySegment context, stream, module, handle;
    private final Info info;
    private final Map<Kernel, MemorySegment> functions = new EnumMap<>(Kernel.class);
    private final Map<Kernel, Integer> sharedOptIn = new EnumMap<>(Kernel.class);
    private final ThreadLocal<Boolean> bound = new ThreadLocal<>();
    private final boolean syncEachLaunch = "1".equals(System.getenv("RAST_CUDA_SYNC"));
    private MemorySegment staging;
    private boolean closed;
    private boolean capturing;
    private int captured;          // operations issued during the capture in progress
    private long blasWorkspace;    // cuBLAS's own workspace, set before the first capture
    static final long BLAS_WORKSPACE_BYTES = 32L << 20;  // cuBLAS's suggested workspace for Hopper

    /** Opens GPU {@code ordinal}; throws {@link CudaUnavailableException} when there is none. */
    public static CudaDevice open(int ordinal) {
        String why = unavailableReason();
        if (why != null) throw new CudaUnavailableException(why);
        return new CudaDevice(CudaDriver.get(), Cublas.get(), ordinal);
    }

    private CudaDevice(CudaDriver cu, Cublas blas, int ordinal) {
        this.cu = cu;
        this.blas = blas;
        int count = cu.deviceCount();
        if (ordinal < 0 || ordinal >= count)
            throw new CudaUnavailableException("GPU " + ordinal + " requested, but the driver sees " + count);
        device = cu.device(ordinal);
        context = cu.primaryContextRetain(device);
        cu.contextSetCurrent(context);
        bound.set(true);
        MemorySegment s = null, m = null, h = null;
        try {
            s = cu.streamCreate(CudaDriver.CU_STREAM_DEFAULT);
            m = loadModule(cu);
            h = blas.create();
            blas.setStream(h, s);
            blas.setMathMode(h, Cublas.CUBLAS_DEFAULT_MATH);
        } catch (RuntimeException e) {
            if (h != null) blas.destroy(h);
            if (m != null) cu.moduleUnload(m);
            if (s != null) cu.streamDestroy(s);
            cu.primaryContextRelease(device);
            throw e;
        }
        stream = s;
        module = m;
        handle = h;
        info = new Info(cu.deviceName(device),
                cu.deviceAttribute(device, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                cu.deviceAttribute(device, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
                cu.deviceAttribute(device, CudaDriver.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT),
                cu.deviceTotalMemory(device), cu.driverVersion(),
                optionalAttribute(CudaDriver.CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE),
                optionalAttribute(CudaDriver.CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH),
                optionalAttribute(CudaDriver.CU_DEVICE_ATTRIBUTE_CLOCK_RATE),
                blas.version(handle), blas.library);
    }

    /** Attributes some drivers stopped reporting; 0 when unknown. */
    private int optionalAttribute(int attribute) {
        try {
            return cu.deviceAttribute(device, attribute);
        } catch (CudaException e) {
            return 0;
        }
    }

    /** Reads the PTX resource and lets the driver JIT it for this GPU. */
    private static MemorySegment loadModule(CudaDriver cu) {
        byte[] ptx;
        try (InputStream in = CudaDevice.class.getResourceAsStream(Kernel.PTX_RESOURCE)) {
            if (in == null) throw new IllegalStateException(Kernel.PTX_RESOURCE + " is missing from the rast-kernels jar");
            ptx = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment image = a.allocate(ptx.length + 1L); // NUL-terminated text
            MemorySegment.copy(ptx, 0, image, ValueLayout.JAVA_BYTE, 0, ptx.length);
            return cu.moduleLoadDataWithLog(image, Kernel.PTX_RESOURCE);
        }
    }

    public Info info() { return info; }

    @Override
    public String description() {
        return String.format(Locale.ROOT, "%s, sm_%d%d, %.1f GiB, driver CUDA %s, cuBLAS %d.%d.%d", info.name, info.ccMajor,
                info.ccMinor, info.totalMemory / (double) (1L << 30), CudaDriver.versionString(info.driverVersion),
                info.cublasVersion / 10000, info.cublasVersion / 100 % 100, info.cublasVersion % 100);
    }

    private void bind() {
        if (closed) throw new IllegalStateException("CUDA device is closed");
        if (bound.get() == null) {
            cu.contextSetCurrent(context);
            bound.set(true);
        }
    }

    @Override
    public long[] memoryInfo() {
        bind();
        return cu.memGetInfo();
    }

    @Override
    public long alloc(long bytes, String what) {
        bind();
        refuseWhileCapturing("an allocation (" + what + ")");
        int[] status = new int[1];
        long p = cu.memAlloc(bytes, status);
        if (status[0] == CudaStatus.CUDA_ERROR_OUT_OF_MEMORY) {
            long[] mem = cu.memGetInfo();
            throw new DeviceOutOfMemoryException(outOfMemoryMessage(bytes, what, mem[0], mem[1], info.name));
        }
        if (status[0] != 0) throw cu.error("cuMemAlloc(" + bytes + " bytes)", status[0]);
        return p;
    }

    /** One line: what did not fit, how much it needed and how much was free. */
    static String outOfMemoryMessage(long bytes, String what, long free, long total, String gpu) {
        return String.format(Locale.ROOT, "out of GPU memory: cuMemAlloc(%d bytes) for %s: CUDA_ERROR_OUT_OF_MEMORY;"
                + " needs %.2f GiB, %.2f GiB free of %.2f GiB on %s", bytes, what, gib(bytes), gib(free), gib(total), gpu);
    }

    private static double gib(long b) { return b / (double) (1L << 30); }

    @Override
    public void free(long ptr) {
        bind();
        refuseWhileCapturing("a free");
        cu.memFree(ptr);
    }

    @Override
    public void zero(long ptr, long bytes) {
        bind();
        if (bytes == 0) return;
        if (capturing) captured++;
        if (bytes % 4 == 0 && ptr % 4 == 0) cu.memsetD32Async(ptr, 0, bytes / 4, stream);
        else cu.memsetD8Async(ptr, (byte) 0, bytes, stream);
    }

    private MemorySegment staging() {
        if (staging == null) staging = cu.memAllocHost(STAGING_BYTES);
        return staging;
    }

    @Override
    public void toDevice(MemorySegment src, long dst, long bytes) {
        bind();
        refuseWhileCapturing("a host-to-device copy of " + bytes + " bytes");
        if (bytes == 0) return;
        if (src.isNative()) {
            cu.memcpyHtoD(dst, src, bytes); // synchronous: src may be reused on return
            return;
        }
        MemorySegment st = staging();
        for (long off = 0; off < bytes; off += STAGING_BYTES) {
            long n = Math.min(STAGING_BYTES, bytes - off);
            MemorySegment.copy(src, off, st, 0, n);
            cu.memcpyHtoDAsync(dst + off, st, n, stream);
            waitStream("cuMemcpyHtoDAsync(" + n + " bytes)");
        }
    }

    @Override
    public void toHost(long src, MemorySegment dst, long bytes) {
        bind();
        refuseWhileCapturing("a device-to-host copy of " + bytes + " bytes");
        if (bytes == 0) return;
        try {
            if (dst.isNative()) {
                cu.memcpyDtoH(dst, src, bytes);
                return;
            }
            MemorySegment st = staging();
            for (long off = 0; off < bytes; off += STAGING_BYTES) {
                long n = Math.min(STAGING_BYTES, bytes - off);
                cu.memcpyDtoHAsync(st, src + off, n, stream);
                waitStream("cuMemcpyDtoHAsync(" + n + " bytes)");
                MemorySegment.copy(st, 0, dst, off, n);
            }
        } catch (CudaException e) {
            throw withHint(e);
        }
    }

    @Override
    public void copy(long src, long dst, long bytes) {
        bind();
        if (bytes == 0) return;
        if (capturing) captured++;
        cu.memcpyDtoDAsync(dst, src, bytes, stream);
    }

    private MemorySegment function(Kernel k) {
        MemorySegment f = functions.get(k);
        if (f == null) {
            f = cu.moduleGetFunction(module, k.entry);
            functions.put(k, f);
        }
        return f;
    }

    @Override
    public void launch(KernelArgs args, int gridX, int gridY, int gridZ, int block, int sharedBytes) {
        bind();
        Kernel k = args.kernel();
        checkLaunchShape(k, gridX, gridY, gridZ, block);
        MemorySegment f = function(k);
        if (sharedBytes > DEFAULT_SHARED_LIMIT && sharedOptIn.getOrDefault(k, 0) < sharedBytes) {
            cu.funcSetAttribute(f, CudaDriver.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, sharedBytes, k.entry);
            sharedOptIn.put(k, sharedBytes);
        }
        int rc = cu.launchKernel(f, gridX, gridY, gridZ, block, 1, 1, sharedBytes, stream, args.pointers());
        String what = k.entry + ", grid " + gridX + "x" + gridY + "x" + gridZ + ", block " + block + ", " + sharedBytes + " B shared";
        if (rc != 0) throw withHint(cu.error("cuLaunchKernel(" + what + ")", rc));
        if (capturing) {
            captured++;
            return;
        }
        if (syncEachLaunch) {
            int s = cu.streamSynchronize(stream);
            if (s != 0) throw cu.error("kernel " + what + " failed", s);
        }
    }

    /** Grid and block limits of every CUDA GPU since compute capability 3.0. */
    static void checkLaunchShape(Kernel k, int gridX, int gridY, int gridZ, int block) {
        if (gridX < 1 || gridY < 1 || gridZ < 1 || gridY > 65535 || gridZ > 65535 || block < 1 || block > 1024)
            throw new IllegalArgumentException("kernel " + k.entry + ": launch shape grid " + gridX + "x" + gridY + "x"
                    + gridZ + ", block " + block + " is outside CUDA's limits");
    }

    @Override
    public void gemm(GemmCall call) {
        bind();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment alpha = a.allocateFrom(ValueLayout.JAVA_FLOAT, call.alpha());
            MemorySegment beta = a.allocateFrom(ValueLayout.JAVA_FLOAT, call.beta());
            blas.gemmEx(handle, call, alpha, beta);
        }
        if (capturing) captured++;
    }

    /** A batch of equally strided GEMMs (for benchmarks and batched attention). */
    public void gemmStridedBatched(GemmCall call, long strideA, long strideB, long strideC, int batch) {
        bind();
        if (capturing) captured++;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment alpha = a.allocateFrom(ValueLayout.JAVA_FLOAT, call.alpha());
            MemorySegment beta = a.allocateFrom(ValueLayout.JAVA_FLOAT, call.beta());
            blas.gemmStridedBatchedEx(handle, call, strideA, strideB, strideC, batch, alpha, beta);
        }
    }

    private void waitStream(String after) {
        int rc = cu.streamSynchronize(stream);
        if (rc != 0) throw withHint(cu.error("cuStreamSynchronize after " + after, rc));
    }

    @Override
    public void synchronize() {
        bind();
        refuseWhileCapturing("a synchronize");
        waitStream("the work issued so far");
    }

    /** A failure reported by a later call than the one that caused it gets a hint how to find the culprit. */
    private CudaException withHint(CudaException e) {
        if (!STICKY.contains(e.status()) || syncEachLaunch) return e;
        return e.withCall(e.call() + " [an earlier kernel failed; rerun with RAST_CUDA_SYNC=1 to name it]");
    }

    @Override
    public double timeMillis(Runnable work) {
        bind();
        refuseWhileCapturing("timing with events");
        MemorySegment start = cu.eventCreate(CudaDriver.CU_EVENT_DEFAULT), end = cu.eventCreate(CudaDriver.CU_EVENT_DEFAULT);
        try {
            cu.eventRecord(start, stream);
            work.run();
            cu.eventRecord(end, stream);
            cu.eventSynchronize(end);
            return cu.eventElapsedTime(start, end);
        } finally {
            cu.eventDestroy(start);
            cu.eventDestroy(end);
        }
    }

    // ------------------------------------------------------------------ graphs

    /** A captured graph and its executable instance; both are destroyed by close. */
    private final class CudaGraph implements Graph {
        private final MemorySegment graph, exec;
        private final int operations;
        private boolean freed;

        CudaGraph(MemorySegment graph, MemorySegment exec, int operations) {
            this.graph = graph;
            this.exec = exec;
            this.operations = operations;
        }

        @Override public int operations() { return operations; }

        @Override
        public void close() {
            if (freed || closed) return;
            freed = true;
            bind();
            try {
                cu.graphExecDestroy(exec);
            } finally {
                cu.graphDestroy(graph);
            }
        }
    }

    /**
     * Global capture mode: an unsafe call from any thread (cuMemAlloc, a synchronous copy) fails the capture
     * rather than running. cuBLAS gets a workspace of its own first, so its captured GEMMs allocate nothing.
     */
    @Override
    public void beginCapture() {
        bind();
        if (capturing) throw new IllegalStateException("CUDA graph capture: beginCapture while already capturing");
        if (blasWorkspace == 0) {
            long w = alloc(BLAS_WORKSPACE_BYTES, "cuBLAS workspace for CUDA graphs");
            try {
                blas.setWorkspace(handle, w, BLAS_WORKSPACE_BYTES);
            } catch (RuntimeException e) {
                cu.memFree(w);
                throw e;
            }
            blasWorkspace = w;
        }
        cu.streamBeginCapture(stream, CudaDriver.CU_STREAM_CAPTURE_MODE_GLOBAL);
        capturing = true;
        captured = 0;
    }

    @Override
    public Graph endCapture() {
        bind();
        if (!capturing) throw new IllegalStateException("CUDA graph capture: endCapture without beginCapture");
        capturing = false;
        MemorySegment[] g = new MemorySegment[1];
        int rc = cu.streamEndCapture(stream, g);
        if (rc != 0) {
            if (g[0] != null && !g[0].equals(MemorySegment.NULL)) cu.graphDestroy(g[0]);
            throw cu.error("cuStreamEndCapture", rc);
        }
        MemorySegment exec;
        try {
            exec = cu.graphInstantiate(g[0]);
        } catch (RuntimeException e) {
            cu.graphDestroy(g[0]);
            throw e;
        }
        return new CudaGraph(g[0], exec, captured);
    }

    @Override public boolean capturing() { return capturing; }

    @Override
    public void launch(Graph graph) {
        bind();
        refuseWhileCapturing("a graph launch");
        if (!(graph instanceof CudaGraph g) || g.freed) throw new IllegalArgumentException("not a live graph of this device: " + graph);
        int rc = cu.graphLaunch(g.exec, stream);
        if (rc != 0) throw withHint(cu.error("cuGraphLaunch(" + g.operations + " operations)", rc));
        if (syncEachLaunch) {
            int sr = cu.streamSynchronize(stream);
            if (sr != 0) throw cu.error("graph of " + g.operations + " operations failed", sr);
        }
    }

    /** Ends a capture in progress (discarding its graph) and throws: {@code operation} cannot be captured. */
    private void refuseWhileCapturing(String operation) {
        if (!capturing) return;
        capturing = false;
        MemorySegment[] g = new MemorySegment[1];
        cu.streamEndCapture(stream, g);
        if (g[0] != null && !g[0].equals(MemorySegment.NULL)) cu.graphDestroy(g[0]);
        throw new GraphCaptureException(operation);
    }

    /** The cudaDataType of a weight dtype. */
    static int cudaType(DType t) {
        return switch (t) {
            case F32 -> Cublas.CUDA_R_32F;
            case F16 -> Cublas.CUDA_R_16F;
            case BF16 -> Cublas.CUDA_R_16BF;
            case Q8_0, Q4_0 -> throw new IllegalArgumentException("no cuBLAS type for " + t);
        };
    }

    @Override
    public void close() {
        if (closed) return;
        bind();
        try {
            if (capturing) { // a capture abandoned by an exception: end it so the stream can be destroyed
                capturing = false;
                MemorySegment[] g = new MemorySegment[1];
                cu.streamEndCapture(stream, g);
                if (g[0] != null && !g[0].equals(MemorySegment.NULL)) cu.graphDestroy(g[0]);
            }
            int rc = cu.streamSynchronize(stream);
            if (rc != 0 && !STICKY.contains(rc)) throw cu.error("cuStreamSynchronize", rc);
            blas.destroy(handle);
            if (blasWorkspace != 0) cu.memFree(blasWorkspace);
            cu.moduleUnload(module);
            cu.streamDestroy(stream);
            if (staging != null) cu.memFreeHost(staging);
        } finally {
            closed = true;
            cu.primaryContextRelease(device);
        }
    }
}
