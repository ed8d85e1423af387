package dev.rast.kernels.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.rast.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The parameter block of one kernel launch, as cuLaunchKernel takes it: an array of pointers, each to one argument
 * value (for a struct, its bytes). Values live in a confined arena that {@link #close} frees (the driver copies them at launch). The letters
 * pushed so far must spell the kernel's {@link Kernel#signature}.
 */
public final class KernelArgs implements AutoCloseable {
    private final Kernel kernel;
    private final Arena arena = Arena.ofConfined();
    private final List<MemorySegment> values = new ArrayList<>();
    private final StringBuilder kinds = new StringBuilder();

    KernelArgs(Kernel kernel) { this.kernel = kernel; }

    public Kernel kernel() { return kernel; }

    /** A device pointer (0 for a null pointer). */
    public KernelArgs ptr(long address) {
        MemorySegment v = arena.allocate(JAVA_LONG);
        v.set(JAVA_LONG, 0, address);
        return push(v, 'p');
    }

    /** The device address of a tensor (or of a view into one). */
    public KernelArgs ptr(Tensor t) { return ptr(t.data().address()); }

    public KernelArgs i32(int value) {
        MemorySegment v = arena.allocate(JAVA_INT);
        v.set(JAVA_INT, 0, value);
        return push(v, 'i');
    }

    public KernelArgs i64(long value) {
        MemorySegment v = arena.allocate(JAVA_LONG);
        v.set(JAVA_LONG, 0, value);
        return push(v, 'l');
    }

    public KernelArgs f32(float value) {
        MemorySegment v = arena.allocate(JAVA_FLOAT);
        v.set(JAVA_FLOAT, 0, value);
        return push(v, 'f');
    }

    /** A struct passed by value ({@link BatchRows}): its bytes are copied into the parameter block. */
    public KernelArgs struct(MemorySegment bytes) {
        MemorySegment v = arena.allocate(bytes.byteSize(), 8);
        v.copyFrom(bytes);
        return push(v, 'b');
    }

    private KernelArgs push(MemorySegment v, char kind) {
        values.add(v);
        kinds.append(kind);
        return this;
    }

    /** The letters pushed, in order. */
    public String signature() { return kinds.toString(); }

    /** The {@code void**} array for cuLaunchKernel; fails if the arguments do not match the kernel. */
    public MemorySegment pointers() {
        if (!kinds.toString().equals(kernel.signature))
            throw new IllegalStateException("kernel " + kernel.entry + " takes (" + kernel.signature + "), launched with ("
                    + kinds + ")");
        MemorySegment array = arena.allocate(ADDRESS, Math.max(1, values.size()));
        for (int i = 0; i < values.size(); i++) array.setAtIndex(ADDRESS, i, values.get(i));
        return array;
    }

    /** The argument values' bytes, in order: what a launch passes, for comparing two launches. */
    public byte[] valueBytes() {
        int n = 0;
        for (MemorySegment v : values) n += (int) v.byteSize();
        byte[] out = new byte[n];
        int at = 0;
        for (MemorySegment v : values) {
            MemorySegment.copy(v, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, out, at, (int) v.byteSize());
            at += (int) v.byteSize();
        }
        return out;
    }

    /**
     * The {@code void**} array of {@link #pointers}, with every argument value copied into {@code into}: what an
     * emulated graph keeps of a captured launch after this block is closed.
     */
    public MemorySegment pointersCopiedInto(Arena into) {
        pointers(); // checks the signature
        MemorySegment array = into.allocate(ADDRESS, Math.max(1, values.size()));
        for (int i = 0; i < values.size(); i++) {
            MemorySegment v = into.allocate(values.get(i).byteSize(), 8);
            v.copyFrom(values.get(i));
            array.setAtIndex(ADDRESS, i, v);
        }
        return array;
    }

    @Override
    public void close() { arena.close(); }
}
