package dev.rast.kernels.cuda;

import java.lang.foreign.MemorySegment;

/**
 * What {@link CudaBackend} needs from a GPU: device memory, copies, kernel launches and cuBLAS GEMMs, all ordered
 * on one stream. {@link CudaDevice} is the real one (driver API + cuBLAS); the tests also run the backend on a CPU
 * emulation of the same kernels, which is why this is an interface.
 */
public interface Device extends AutoCloseable {
    /** For {@code Backend.name()}: e.g. "NVIDIA H100 80GB HBM3, sm_90, 79.2 GiB, driver CUDA 13.0, cuBLAS 13.0.2". */
    String description();

    /** {free, total} bytes of device memory. */
    long[] memoryInfo();

    /**
     * A device allocation of {@code bytes} (at least 256-byte aligned); {@code what} names it in the
     * {@link DeviceOutOfMemoryException} thrown when it does not fit.
     */
    long alloc(long bytes, String what);

    void free(long ptr);

    /** Zero-fills {@code bytes} at {@code ptr}, ordered after earlier work. */
    void zero(long ptr, long bytes);

    /** Copies host bytes to the device, ordered after earlier work; {@code src} may be reused on return. */
    void toDevice(MemorySegment src, long dst, long bytes);

    /** Copies device bytes to the host after all earlier work; the data is in {@code dst} on return. */
    void toHost(long src, MemorySegment dst, long bytes);

    /** Device-to-device copy, ordered after earlier work. */
    void copy(long src, long dst, long bytes);

    /** Launches a kernel with a 1-D block of {@code block} threads, ordered after earlier work. */
    void launch(KernelArgs args, int gridX, int gridY, int gridZ, int block, int sharedBytes);

    /** One cuBLAS GEMM (F32 compute), ordered after earlier work. */
    void gemm(GemmCall call);

    /** Waits until all work issued so far is done; reports an earlier asynchronous failure. */
    void synchronize();

    /** Runs {@code work} and returns the device time it took in milliseconds (events around it). */
    double timeMillis(Runnable work);

    // ------------------------------------------------------------------ CUDA graphs

    /**
     * An executable CUDA graph: the kernels, GEMMs, memsets and device-to-device copies issued between
     * {@link #beginCapture} and {@link #endCapture}, with the argument values they had then. Replaying it reads
     * whatever device memory holds at replay time, so anything that changes between replays must be written into
     * device buffers before {@link #launch(Graph)}, never passed as a kernel argument.
     */
    interface Graph extends AutoCloseable {
        /** Operations captured (kernel launches, GEMMs, memsets, copies, as the host issued them). */
        int operations();

        /** Frees the graph; it must not be launched afterwards. */
        @Override
        void close();
    }

    /**
     * From now until {@link #endCapture}, launches, GEMMs, {@link #zero} and {@link #copy} are recorded into a graph
     * instead of running. {@link #toDevice}, {@link #toHost}, {@link #synchronize}, {@link #alloc}, {@link #free},
     * {@link #timeMillis} and graph launches are refused while capturing with a {@link GraphCaptureException} that
     * names the operation, and the capture is abandoned (the device runs eagerly again): a real capture fails on
     * them too.
     */
    void beginCapture();

    /** Ends the capture begun by {@link #beginCapture}: the recorded work as an executable graph. */
    Graph endCapture();

    /** Whether a capture is in progress. */
    boolean capturing();

    /** Runs a graph's work, ordered after earlier work like any launch. */
    void launch(Graph graph);

    /** {@code work} captured into a graph; if it throws, the capture is ended and its graph freed before rethrowing. */
    default Graph capture(Runnable work) {
        beginCapture();
        try {
            work.run();
        } catch (RuntimeException | Error e) {
            if (capturing()) {
                try {
                    endCapture().close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        return endCapture();
    }

    @Override
    void close();
}
