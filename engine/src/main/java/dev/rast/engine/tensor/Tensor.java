package dev.rast.engine.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A typed, shaped view over storage that a backend owns. Row-major; the first dimension is "rows" (tokens for
 * activations, output features for weights).
 *
 * <p>The storage is a {@link MemorySegment}: for the CPU backend it is host memory (an mmapped checkpoint or an
 * off-heap buffer); a device backend puts a device address with the right byte size in it, which the host never
 * dereferences. Either way views ({@link #rows}) are plain segment slices, so they work for both.
 */
public final class Tensor {
    private final DType dtype;
    private final int[] shape;
    private final MemorySegment data;
    private final MemorySegment prepared;

    public Tensor(DType dtype, int[] shape, MemorySegment data) { this(dtype, shape, data, null); }

    /**
     * A weight with a backend's own copy of it attached: the same values in the layout that backend's kernels
     * read (the CPU backend's row blocks). {@link #data} stays the checkpoint's row-major view, so anything that
     * reads rows (an embedding lookup, a download) works unchanged; views ({@link #rows}) drop the attachment.
     */
    public Tensor(DType dtype, int[] shape, MemorySegment data, MemorySegment prepared) {
        this.dtype = dtype;
        this.shape = shape.clone();
        this.data = data;
        this.prepared = prepared;
        long need = dtype.byteSize(shape);
        if (data.byteSize() != need)
            throw new IllegalArgumentException("tensor " + Arrays.toString(shape) + " " + dtype + " needs " + need
                    + " bytes, storage has " + data.byteSize());
    }

    public DType dtype() { return dtype; }

    public int[] shape() { return shape.clone(); }

    public int dim(int i) { return shape[i < 0 ? shape.length + i : i]; }

    public int rank() { return shape.length; }

    public MemorySegment data() { return data; }

    /** The backend's own layout of this weight (see the four-argument constructor), or null. */
    public MemorySegment prepared() { return prepared; }

    public long numel() {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    /** A view of rows [from, from+count) of a rank-2 tensor. */
    public Tensor rows(int from, int count) {
        if (shape.length != 2) throw new IllegalStateException("rows() needs a rank-2 tensor, have " + Arrays.toString(shape));
        if (from < 0 || count < 0 || from + count > shape[0])
            throw new IndexOutOfBoundsException("rows " + from + "+" + count + " of " + shape[0]);
        long rowBytes = dtype.rowBytes(shape[1]);
        return new Tensor(dtype, new int[] {count, shape[1]}, data.asSlice(from * rowBytes, count * rowBytes));
    }

    @Override
    public String toString() { return dtype + Arrays.toString(shape); }
}
