package dev.rast.kernels.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import dev.rast.engine.tensor.DType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * A {@link Device} on the CPU: host memory stands in for device memory, rast's real kernel sources run in the
 * fiber emulator of src/test/cuda-emu (compiled here with g++ on first use), and cuBLAS GEMMs are computed by a
 * plain loop that also enforces cuBLAS's argument rules (leading dimensions, supported type combinations, operands
 * inside their allocations). It lets every CudaBackend test run where there is no GPU; what it cannot show is
 * whether the PTX, the driver and cuBLAS behave as modelled, which the same tests check on a real GPU.
 *
 * <p>Every allocation is followed by a 4 KiB red zone of 0xFF bytes (NaN as floats): a kernel reading past a
 * buffer gets NaNs that fail the comparison, one writing past it fails the launch.
 */
public final class EmulatedDevice implements Device {
    private static final long RED_ZONE = 4096;
    private static Object library; // the loaded emulator, or the reason there is none

    private record Emulator(MethodHandle launch, Map<String, String> signatures) {}

    /** Why the emulator cannot run here (no g++, no sources), or null. */
    public static synchronized String unavailableReason() {
        emulator();
        return library instanceof String s ? s : null;
    }

    private static synchronized Emulator emulator() {
        if (library == null) {
            try {
                library = build();
            } catch (RuntimeException | IOException | InterruptedException e) {
                library = "CUDA emulator not built: " + e.getMessage();
            }
        }
        return library instanceof Emulator e ? e : null;
    }

    /** Finds kernels/src relative to the working directory (the kernels module, the tests module, or the root). */
    static Path sourceRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path k = p.resolve("kernels/src");
            if (Files.isDirectory(k.resolve("main/cuda"))) return k;
            if (p.getFileName() != null && p.getFileName().toString().equals("kernels") && Files.isDirectory(p.resolve("src/main/cuda")))
                return p.resolve("src");
        }
        throw new IllegalStateException("kernels/src/main/cuda not found above " + Path.of("").toAbsolutePath());
    }

    private static Object build() throws IOException, InterruptedException {
        String gxx = findOnPath("g++");
        if (gxx == null) return "g++ not found, so the CUDA emulator cannot be built";
        Path src = sourceRoot();
        Path emu = src.resolve("test/cuda-emu"), cuda = src.resolve("main/cuda");
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        List<Path> inputs = new ArrayList<>();
        for (Path dir : List.of(emu, cuda)) try (var s = Files.list(dir)) { s.sorted().forEach(inputs::add); }
        for (Path f : inputs) md.update(Files.readAllBytes(f));
        String hash = HexFormat.of().formatHex(md.digest()).substring(0, 16);
        Path lib = Path.of(System.getProperty("java.io.tmpdir"), "rast-cuda-emu-" + hash + ".so");
        if (!Files.exists(lib)) {
            Path tmp = Files.createTempFile("rast-cuda-emu", ".so");
            List<String> cmd = List.of(gxx, "-std=c++20", "-O1", "-fPIC", "-shared", "-ffp-contract=off", "-U_FORTIFY_SOURCE",
                    "-Wall", "-Wno-unknown-pragmas", "-DRAST_EMU", "-I" + cuda, "-include", emu.resolve("cuda_emu.h").toString(),
                    emu.resolve("emu_main.cpp").toString(), "-o", tmp.toString());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0)
                throw new IllegalStateException("g++ failed on the kernel sources:\n" + out);
            Files.move(tmp, lib, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        SymbolLookup l = SymbolLookup.libraryLookup(lib, Arena.global());
        Linker linker = Linker.nativeLinker();
        MethodHandle count = linker.downcallHandle(l.findOrThrow("emu_kernel_count"), FunctionDescriptor.of(JAVA_INT));
        MethodHandle name = linker.downcallHandle(l.findOrThrow("emu_kernel_name"), FunctionDescriptor.of(ADDRESS, JAVA_INT));
        MethodHandle sig = linker.downcallHandle(l.findOrThrow("emu_kernel_signature"), FunctionDescriptor.of(ADDRESS, JAVA_INT));
        MethodHandle launch = linker.downcallHandle(l.findOrThrow("emu_launch"), FunctionDescriptor.of(JAVA_INT, ADDRESS,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        Map<String, String> signatures = new TreeMap<>();
        try {
            int n = (int) count.invokeExact();
            for (int i = 0; i < n; i++)
                signatures.put(CudaDriver.cString((MemorySegment) name.invokeExact(i)), CudaDriver.cString((MemorySegment) sig.invokeExact(i)));
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
        return new Emulator(launch, signatures);
    }

    static String findOnPath(String exe) {
        String path = System.getenv("PATH");
        if (path == null) return null;
        for (String d : path.split(":")) {
            Path p = Path.of(d, exe);
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }

    /** Kernel name → signature letters, as the emulator's compiler sees the kernel sources. */
    public static Map<String, String> kernelSignatures() {
        Emulator e = emulator();
        if (e == null) throw new IllegalStateException(unavailableReason());
        return e.signatures();
    }

    private record Allocation(Arena arena, MemorySegment segment, long bytes) {}

    private final Emulator emu;
    private final long capacity;
    private final Map<Long, Allocation> allocations = new HashMap<>();
    private long used;
    private int launches, gemms, copies, graphLaunches;
    private List<Runnable> recording;  // the capture in progress, or null
    private Arena recordingArena;      // the captured launches' argument values
    private final Map<Kernel, Integer> launchesOf = new java.util.EnumMap<>(Kernel.class);

    /** An emulated GPU with {@code capacity} bytes of memory. */
    public EmulatedDevice(long capacity) {
        emu = emulator();
        if (emu == null) throw new IllegalStateException(unavailableReason());
        this.capacity = capacity;
    }

    /** Kernel launches the host issued so far (run eagerly or recorded into a graph; not graph replays). */
    public int launches() { return launches; }

    /** Graph launches so far. */
    public int graphLaunches() { return graphLaunches; }

    /** Launches of kernel k so far. */
    public int launches(Kernel k) { return launchesOf.getOrDefault(k, 0); }

    /** Device-to-device copies so far. */
    public int copies() { return copies; }

    /** cuBLAS GEMMs so far. */
    public int gemms() { return gemms; }

    @Override public String description() { return "CPU emulation of rast's CUDA kernels"; }

    @Override public synchronized long[] memoryInfo() { return new long[] {capacity - used, capacity}; }

    @Override
    public synchronized long alloc(long bytes, String what) {
        refuseWhileCapturing("an allocation (" + what + ")");
        if (bytes <= 0) throw new IllegalArgumentException("alloc of " + bytes + " bytes");
        if (used + bytes > capacity)
            throw new DeviceOutOfMemoryException(CudaDevice.outOfMemoryMessage(bytes, what, capacity - used, capacity, "emulated GPU"));
        Arena a = Arena.ofShared();
        MemorySegment s = a.allocate(bytes + RED_ZONE, 256);
        s.fill((byte) 0xFF); // uninitialized device memory reads as NaN
        allocations.put(s.address(), new Allocation(a, s, bytes));
        used += bytes;
        return s.address();
    }

    @Override
    public synchronized void free(long ptr) {
        refuseWhileCapturing("a free");
        Allocation a = allocations.remove(ptr);
        if (a == null) throw new IllegalArgumentException("free of " + Long.toHexString(ptr) + ", which is not an allocation");
        checkRedZone(a, "before free");
        used -= a.bytes;
        a.arena.close();
    }

    /** The device bytes [ptr, ptr + bytes), which must lie inside one allocation. */
    synchronized MemorySegment span(long ptr, long bytes, String what) {
        for (Allocation a : allocations.values()) {
            long base = a.segment.address();
            if (ptr >= base && ptr + bytes <= base + a.bytes) return a.segment.asSlice(ptr - base, bytes);
        }
        throw new IllegalStateException(what + ": [" + Long.toHexString(ptr) + ", +" + bytes + ") is not inside any allocation");
    }

    private static void checkRedZone(Allocation a, String when) {
        MemorySegment z = a.segment.asSlice(a.bytes, RED_ZONE);
        for (long i = 0; i < RED_ZONE; i++)
            if (z.get(JAVA_BYTE, i) != (byte) 0xFF)
                throw new IllegalStateException("a kernel wrote past the end of a " + a.bytes + "-byte buffer (" + when + ")");
    }

    @Override
    public synchronized void zero(long ptr, long bytes) {
        if (bytes <= 0) return;
        span(ptr, bytes, "zero");
        if (record(() -> span(ptr, bytes, "zero").fill((byte) 0))) return;
        span(ptr, bytes, "zero").fill((byte) 0);
    }

    @Override
    public synchronized void toDevice(MemorySegment src, long dst, long bytes) {
        refuseWhileCapturing("a host-to-device copy of " + bytes + " bytes");
        if (bytes > 0) MemorySegment.copy(src, 0, span(dst, bytes, "toDevice"), 0, bytes);
    }

    @Override
    public synchronized void toHost(long src, MemorySegment dst, long bytes) {
        refuseWhileCapturing("a device-to-host copy of " + bytes + " bytes");
        if (bytes > 0) MemorySegment.copy(span(src, bytes, "toHost"), 0, dst, 0, bytes);
    }

    @Override
    public synchronized void copy(long src, long dst, long bytes) {
        copies++;
        if (bytes <= 0) return;
        Runnable op = () -> MemorySegment.copy(span(src, bytes, "copy"), 0, span(dst, bytes, "copy"), 0, bytes);
        if (!record(op)) op.run();
    }

    @Override
    public synchronized void launch(KernelArgs args, int gridX, int gridY, int gridZ, int block, int sharedBytes) {
        Kernel k = args.kernel();
        CudaDevice.checkLaunchShape(k, gridX, gridY, gridZ, block);
        String sig = emu.signatures().get(k.entry);
        if (sig == null) throw new IllegalStateException("the kernel sources have no entry " + k.entry);
        if (!sig.equals(k.signature))
            throw new IllegalStateException(k.entry + ": the source takes (" + sig + "), Kernel declares (" + k.signature + ")");
        launches++;
        launchesOf.merge(k, 1, Integer::sum);
        if (recording != null) {
            MemorySegment params = args.pointersCopiedInto(recordingArena); // the values as they are now
            record(() -> run(k, gridX, gridY, gridZ, block, sharedBytes, params));
            return;
        }
        run(k, gridX, gridY, gridZ, block, sharedBytes, args.pointers());
    }

    private void run(Kernel k, int gridX, int gridY, int gridZ, int block, int sharedBytes, MemorySegment params) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = a.allocate(512);
            int rc = (int) emu.launch().invokeExact(a.allocateFrom(k.entry), gridX, gridY, gridZ, block, 1, 1, sharedBytes, params, err, 512);
            if (rc != 0) throw new CudaException("emulated launch of " + k.entry, rc, "EMULATOR_ERROR", err.getString(0));
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
        for (Allocation a : allocations.values()) checkRedZone(a, "after " + k.entry);
    }

    @Override
    public synchronized void gemm(GemmCall g) {
        gemms++;
        if (!record(() -> runGemm(g))) runGemm(g);
    }

    private void runGemm(GemmCall g) {
        // cuBLAS's rules, as cublasGemmEx checks them (CUBLAS_STATUS_INVALID_VALUE / NOT_SUPPORTED).
        boolean ta = g.transA() == Cublas.CUBLAS_OP_T, tb = g.transB() == Cublas.CUBLAS_OP_T;
        int aRows = ta ? g.k() : g.m(), aCols = ta ? g.m() : g.k(), bRows = tb ? g.n() : g.k(), bCols = tb ? g.k() : g.n();
        if (g.m() < 0 || g.n() < 0 || g.k() < 0 || g.lda() < Math.max(1, aRows) || g.ldb() < Math.max(1, bRows) || g.ldc() < Math.max(1, g.m()))
            throw new CudaException("cublasGemmEx(" + g + ")", 7, "CUBLAS_STATUS_INVALID_VALUE", null);
        boolean typesOk = g.aType() == g.bType() && (g.cType() == Cublas.CUDA_R_32F || g.cType() == g.aType())
                && (g.aType() == Cublas.CUDA_R_32F || g.aType() == Cublas.CUDA_R_16F || g.aType() == Cublas.CUDA_R_16BF);
        if (!typesOk) throw new CudaException("cublasGemmEx(" + g + ")", 15, "CUBLAS_STATUS_NOT_SUPPORTED", null);
        if (g.cType() != Cublas.CUDA_R_32F) throw new UnsupportedOperationException("emulated GEMM writes F32 only");
        int ea = elementBytes(g.aType()), eb = elementBytes(g.bType());
        MemorySegment A = span(g.a(), ((long) g.lda() * (aCols - 1) + aRows) * ea, "GEMM operand A");
        MemorySegment B = span(g.b(), ((long) g.ldb() * (bCols - 1) + bRows) * eb, "GEMM operand B");
        MemorySegment C = span(g.c(), ((long) g.ldc() * (g.n() - 1) + g.m()) * 4, "GEMM operand C");
        for (int j = 0; j < g.n(); j++)
            for (int i = 0; i < g.m(); i++) {
                float s = 0;
                for (int l = 0; l < g.k(); l++) {
                    long ai = ta ? l + (long) i * g.lda() : i + (long) l * g.lda();
                    long bi = tb ? j + (long) l * g.ldb() : l + (long) j * g.ldb();
                    s += element(A, g.aType(), ai) * element(B, g.bType(), bi);
                }
                long ci = i + (long) j * g.ldc();
                float c = g.alpha() * s;
                if (g.beta() != 0) c += g.beta() * C.getAtIndex(JAVA_FLOAT_UNALIGNED, ci); // beta = 0: C is not read
                C.setAtIndex(JAVA_FLOAT_UNALIGNED, ci, c);
            }
    }

    private static int elementBytes(int cudaType) { return cudaType == Cublas.CUDA_R_32F ? 4 : 2; }

    private static float element(MemorySegment s, int cudaType, long i) {
        return switch (cudaType) {
            case Cublas.CUDA_R_32F -> s.getAtIndex(JAVA_FLOAT_UNALIGNED, i);
            case Cublas.CUDA_R_16BF -> DType.bf16ToFloat(s.getAtIndex(JAVA_SHORT_UNALIGNED, i));
            default -> Float.float16ToFloat(s.getAtIndex(JAVA_SHORT_UNALIGNED, i));
        };
    }

    @Override public synchronized void synchronize() { refuseWhileCapturing("a synchronize"); }

    @Override
    public double timeMillis(Runnable work) {
        synchronized (this) {
            refuseWhileCapturing("timing with events");
        }
        long t0 = System.nanoTime();
        work.run();
        return (System.nanoTime() - t0) / 1e6;
    }

    // ------------------------------------------------------------------ graphs

    /** A captured graph: the recorded operations, replayed in order with the argument values they were issued with. */
    private final class EmulatedGraph implements Graph {
        private final List<Runnable> ops;
        private final Arena arena;
        private boolean freed;

        EmulatedGraph(List<Runnable> ops, Arena arena) {
            this.ops = ops;
            this.arena = arena;
        }

        @Override public int operations() { return ops.size(); }

        @Override
        public void close() {
            synchronized (EmulatedDevice.this) {
                if (freed) return;
                freed = true;
                arena.close();
            }
        }
    }

    /** While capturing, appends {@code op} to the graph being recorded and returns true; else false. */
    private boolean record(Runnable op) {
        if (recording == null) return false;
        recording.add(op);
        return true;
    }

    private void refuseWhileCapturing(String operation) {
        if (recording == null) return;
        recording = null;
        recordingArena.close();
        recordingArena = null;
        throw new GraphCaptureException(operation);
    }

    @Override
    public synchronized void beginCapture() {
        if (recording != null) throw new IllegalStateException("CUDA graph capture: beginCapture while already capturing");
        recording = new ArrayList<>();
        recordingArena = Arena.ofShared();
    }

    @Override
    public synchronized Graph endCapture() {
        if (recording == null) throw new IllegalStateException("CUDA graph capture: endCapture without beginCapture");
        Graph g = new EmulatedGraph(List.copyOf(recording), recordingArena);
        recording = null;
        recordingArena = null;
        return g;
    }

    @Override public synchronized boolean capturing() { return recording != null; }

    @Override
    public synchronized void launch(Graph graph) {
        refuseWhileCapturing("a graph launch");
        if (!(graph instanceof EmulatedGraph g) || g.freed) throw new IllegalArgumentException("not a live graph of this device: " + graph);
        graphLaunches++;
        for (Runnable op : g.ops) op.run();
    }

    @Override
    public synchronized void close() {
        if (recordingArena != null) recordingArena.close();
        recording = null;
        recordingArena = null;
        for (Allocation a : allocations.values()) a.arena.close();
        allocations.clear();
        used = 0;
    }

}
