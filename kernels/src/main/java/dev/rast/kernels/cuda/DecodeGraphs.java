package dev.rast.kernels.cuda;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * CUDA graphs for decode steps: the launches of a forward pass's layer stack, captured once per batch size and
 * replayed with one graph launch on later steps.
 *
 * <p>A graph keeps the argument values it was captured with, so a replay is right only if the layer stack would
 * issue exactly the same operations now. Rather than trusting a key (batch size, pool and scratch addresses, ...)
 * to cover everything, each step runs the layer stack <em>dry</em>: the backend's ops build their launches as
 * usual, {@link Tap} records them (kernel, grid, argument bytes; GEMM calls; memsets; copies) without issuing any,
 * and the graph is replayed only when the recording equals the captured one; otherwise the step is captured anew
 * (a KV pool that doubled, a scratch buffer that grew, a longer block table). What changes every step reaches the
 * kernels through device buffers that the backend writes before the dry run (positions, block tables; the token
 * ids and the residual stream are inputs of the layer stack, written by the ops before it). A dry run or a
 * capture that meets an upload, a synchronize or an allocation (a scratch buffer growing) is abandoned and the
 * step runs eagerly.
 *
 * <p>Graphs are kept per model (RAST runs three on one backend, in turn) and batch size. Batch sizes are captured
 * exactly (one graph per size seen, no padding rows): padding would need dummy rows
 * with a cache block of their own to write, and the dry-run check makes a graph per size cheap to keep right.
 */
public final class DecodeGraphs implements AutoCloseable {
    /** Counts, for tests and reports: steps captured, replayed, and run eagerly (a capture refused). */
    public record Counts(int captures, int replays, int eager) {}

    private record Entry(Device.Graph graph, List<Object> ops) {}

    private final Tap tap;
    /** Which graph a step may replay: its batch size and its model (known by its KV pool's address). */
    record Key(int rows, long pool) {}

    private final Map<Key, Entry> graphs = new HashMap<>();
    private int captures, replays, eager;

    DecodeGraphs(Tap tap) { this.tap = tap; }

    Counts counts() { return new Counts(captures, replays, eager); }

    /** Runs one decode step's layer stack: replayed, captured then launched, or eagerly. */
    void run(Key key, Runnable layers) {
        Entry e = graphs.get(key);
        if (e != null) {
            List<Object> ops = tap.dryRun(layers);
            if (ops != null && ops.equals(e.ops)) {
                tap.launch(e.graph);
                replays++;
                return;
            }
            graphs.remove(key);
            e.graph.close();
        }
        Entry captured = tap.captureRecorded(layers);
        if (captured == null) {
            layers.run();
            eager++;
            return;
        }
        graphs.put(key, captured);
        tap.launch(captured.graph); // capturing ran nothing
        captures++;
    }

    @Override
    public void close() {
        for (Entry e : graphs.values()) e.graph.close();
        graphs.clear();
    }

    /** A kernel launch as a graph holds it: kernel, launch shape and the argument values. */
    private record Launch(Kernel kernel, int gridX, int gridY, int gridZ, int block, int shared, ByteBuffer args) {}

    private record Zero(long ptr, long bytes) {}

    private record Copy(long src, long dst, long bytes) {}

    /**
     * The device as {@link CudaBackend} sees it: passes everything through, and while recording (a dry run or a
     * capture) keeps the list of stream operations issued; in a dry run it issues none of them.
     */
    static final class Tap implements Device {
        private final Device dev;
        private List<Object> ops;  // the recording in progress, or null
        private boolean dry;

        Tap(Device dev) { this.dev = dev; }

        /** The operations {@code layers} issues, none run; null if it did something a graph cannot hold. */
        List<Object> dryRun(Runnable layers) {
            ops = new ArrayList<>();
            dry = true;
            try {
                layers.run();
                return ops;
            } catch (GraphCaptureException e) {
                return null;
            } finally {
                ops = null;
                dry = false;
            }
        }

        /** {@code layers} captured into a graph, with its operations; null if the capture was refused. */
        Entry captureRecorded(Runnable layers) {
            ops = new ArrayList<>();
            try {
                Graph g = dev.capture(layers);
                return new Entry(g, ops);
            } catch (GraphCaptureException e) {
                return null;
            } finally {
                ops = null;
            }
        }

        private void refuseDry(String operation) {
            if (dry) throw new GraphCaptureException(operation);
        }

        @Override public String description() { return dev.description(); }

        @Override public long[] memoryInfo() { return dev.memoryInfo(); }

        @Override
        public long alloc(long bytes, String what) {
            refuseDry("an allocation (" + what + ")");
            return dev.alloc(bytes, what);
        }

        @Override
        public void free(long ptr) {
            refuseDry("a free");
            dev.free(ptr);
        }

        @Override
        public void zero(long ptr, long bytes) {
            if (ops != null) ops.add(new Zero(ptr, bytes));
            if (!dry) dev.zero(ptr, bytes);
        }

        @Override
        public void toDevice(MemorySegment src, long dst, long bytes) {
            refuseDry("a host-to-device copy of " + bytes + " bytes");
            dev.toDevice(src, dst, bytes);
        }

        @Override
        public void toHost(long src, MemorySegment dst, long bytes) {
            refuseDry("a device-to-host copy of " + bytes + " bytes");
            dev.toHost(src, dst, bytes);
        }

        @Override
        public void copy(long src, long dst, long bytes) {
            if (ops != null) ops.add(new Copy(src, dst, bytes));
            if (!dry) dev.copy(src, dst, bytes);
        }

        @Override
        public void launch(KernelArgs args, int gridX, int gridY, int gridZ, int block, int sharedBytes) {
            if (ops != null) {
                args.pointers(); // the signature check an issued launch makes
                ops.add(new Launch(args.kernel(), gridX, gridY, gridZ, block, sharedBytes, ByteBuffer.wrap(args.valueBytes())));
            }
            if (!dry) dev.launch(args, gridX, gridY, gridZ, block, sharedBytes);
        }

        @Override
        public void gemm(GemmCall call) {
            if (ops != null) ops.add(call);
            if (!dry) dev.gemm(call);
        }

        @Override
        public void synchronize() {
            refuseDry("a synchronize");
            dev.synchronize();
        }

        @Override
        public double timeMillis(Runnable work) {
            refuseDry("timing with events");
            return dev.timeMillis(work);
        }

        @Override
        public void beginCapture() {
            refuseDry("a capture");
            dev.beginCapture();
        }

        @Override public Graph endCapture() { return dev.endCapture(); }

        @Override public boolean capturing() { return dev.capturing(); }

        @Override
        public void launch(Graph graph) {
            refuseDry("a graph launch");
            dev.launch(graph);
        }

        @Override public void close() { dev.close(); }
    }
}
