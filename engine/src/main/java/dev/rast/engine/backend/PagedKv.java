package dev.rast.engine.backend;

import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;

/**
 * One layer's cached keys and values for the sequences of a batch, paged: {@code keys} and {@code values} are pool
 * tensors {@code [blocks·blockSize, kvHeads·headDim]} (F32 or BF16) shared by every sequence of the model, and
 * position p of sequence i sits at row {@code tables[i][p / blockSize]·blockSize + p % blockSize} of both.
 * A sequence's blocks need not be consecutive, and two sequences may list the same block (a shared prompt prefix).
 *
 * <p>A contiguous cache is the one-block case: {@link #contiguous} makes the table {@code {0}} with a block of all
 * the tensor's rows, so every backend has one attention and one KV store, over block tables.
 */
public record PagedKv(Tensor keys, Tensor values, int blockSize, int[][] tables) {
    public PagedKv {
        if (blockSize < 1) throw new IllegalArgumentException("KV block size must be at least 1, is " + blockSize);
        if (keys.dtype() != values.dtype() || (keys.dtype() != DType.F32 && keys.dtype() != DType.BF16))
            throw new IllegalArgumentException("KV pools must be F32 or BF16 alike, are " + keys + " and " + values);
        if (keys.rank() != 2 || values.rank() != 2 || keys.dim(0) != values.dim(0) || keys.dim(1) != values.dim(1))
            throw new IllegalArgumentException("KV pools must have one shape, are " + keys + " and " + values);
    }

    /** One sequence whose positions are the rows of {@code k} and {@code v} in order. */
    public static PagedKv contiguous(Tensor k, Tensor v) {
        return new PagedKv(k, v, Math.max(1, k.dim(0)), new int[][] {{0}});
    }

    /** Blocks the pools hold. */
    public int blocks() { return keys.dim(0) / blockSize; }

    /** The pool row of position {@code pos} of sequence {@code seq}. */
    public int row(int seq, int pos) { return tables[seq][pos / blockSize] * blockSize + pos % blockSize; }

    /**
     * Checks, before anything is read or written, that the pools are {@code width} wide and that chunk i's table
     * covers its positions 0..startPos[i] + chunkRows[i] − 1 with blocks inside the pools; names {@code op}.
     */
    public void check(String op, int width, int[] chunkRows, int[] startPos) {
        if (chunkRows.length != startPos.length || tables.length != chunkRows.length)
            throw new IllegalArgumentException(op + ": " + chunkRows.length + " chunks, " + startPos.length
                    + " start positions, " + tables.length + " block tables");
        if (keys.dim(1) != width) throw new IllegalArgumentException(op + ": KV pool " + keys + " for width " + width);
        int blocks = blocks();
        for (int i = 0; i < tables.length; i++) {
            long end = (long) startPos[i] + chunkRows[i];
            if (startPos[i] < 0 || chunkRows[i] < 0 || end > (long) tables[i].length * blockSize)
                throw new IllegalArgumentException(op + ": chunk " + i + " needs positions up to " + end + ", its block table holds "
                        + (long) tables[i].length * blockSize);
            for (int b = 0; b < Math.ceilDiv((int) end, blockSize); b++)
                if (tables[i][b] < 0 || tables[i][b] >= blocks)
                    throw new IllegalArgumentException(op + ": chunk " + i + " block " + b + " is " + tables[i][b] + ", the pool has " + blocks);
        }
    }
}
