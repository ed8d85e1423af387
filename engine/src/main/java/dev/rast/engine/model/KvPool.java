package dev.rast.engine.model;

import dev.rast.engine.BadInputException;
import dev.rast.engine.backend.Backend;
import dev.rast.engine.backend.PagedKv;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import java.util.Arrays;

/**
 * A model's KV-cache memory, in fixed-size blocks of {@link #blockSize()} positions: per layer one key and one value
 * tensor {@code [blocks·blockSize, kvDim]} (F32 or BF16), owned by the backend. A {@link KvCache} is a block table
 * into this pool; it takes a block when its sequence crosses into one, so memory follows the tokens held, not the
 * capacity asked for.
 *
 * <p>Every block has a reference count: 0 is free; a fork shares its parent's blocks (count &gt; 1) instead of
 * copying them, and {@link KvCache} copies a shared block only before writing into it (copy on write).
 *
 * <p>The pool's tensors start with room for a few blocks and double (up to {@link #maxBlocks()}) when a block is
 * wanted and none is free, the old rows copied over; block ids stay valid across a growth. A pool made with a cap
 * holds at most that many blocks: {@link #take} then fails with {@link Full} and a scheduler must wait or preempt.
 * When the backend has no memory for a growth, the pool keeps its size, takes it as its cap, and fails with
 * {@link Full} too. (A growth holds the old and the new tensors at once for a moment; a cap near a device's free
 * memory therefore ends at the last doubling that fits.)
 */
public final class KvPool implements AutoCloseable {
    /** Positions per block: 16, vLLM's default, even (the CPU attention pairs positions (even, odd)). */
    public static final int BLOCK_SIZE = 16;
    /** Blocks the tensors start with: 256 positions. */
    static final int INITIAL_BLOCKS = 16;

    /** No free block, and the pool is at its cap. */
    public static final class Full extends IllegalStateException {
        Full(String message) { super(message); }
    }

    private final Backend backend;
    private final int layers;
    private final int kvDim;
    private final DType dtype;
    private final int blockSize;
    private int maxBlocks; // lowered to the size reached when the backend cannot give more memory
    private final Tensor[] keys;
    private final Tensor[] values;
    private int[] refs = new int[0];
    private int[] free = new int[0]; // a stack of free block ids below refs.length
    private int freeCount;
    private boolean closed;

    /**
     * A pool of at most {@code maxBlocks} blocks of {@code blockSize} positions (even) for {@code layers} layers of
     * {@code kvDim}-wide keys and values stored as {@code dtype} (F32 or BF16). Allocates nothing until a block is taken.
     */
    public KvPool(Backend backend, int layers, int kvDim, DType dtype, int blockSize, int maxBlocks) {
        if (dtype != DType.F32 && dtype != DType.BF16) throw new IllegalArgumentException("KV cache dtype must be F32 or BF16, is " + dtype);
        if (blockSize < 2 || blockSize % 2 != 0) throw new IllegalArgumentException("KV block size must be even and at least 2, is " + blockSize);
        if (maxBlocks < 1) throw new IllegalArgumentException("a KV pool needs at least one block, has " + maxBlocks);
        this.backend = backend;
        this.layers = layers;
        this.kvDim = kvDim;
        this.dtype = dtype;
        this.blockSize = blockSize;
        this.maxBlocks = (int) Math.min(maxBlocks, Integer.MAX_VALUE / blockSize);
        keys = new Tensor[layers];
        values = new Tensor[layers];
    }

    /** A pool of {@link #BLOCK_SIZE} blocks, capped only by what the backend can allocate. */
    public KvPool(Backend backend, int layers, int kvDim, DType dtype) {
        this(backend, layers, kvDim, dtype, BLOCK_SIZE, Integer.MAX_VALUE);
    }

    /** Bytes of one block: keys and values of every layer for {@code blockSize} positions. */
    public static long bytesPerBlock(int layers, int kvDim, DType dtype, int blockSize) {
        return 2L * layers * kvDim * dtype.bytes() * blockSize;
    }

    public int blockSize() { return blockSize; }

    public DType dtype() { return dtype; }

    public synchronized int maxBlocks() { return maxBlocks; }

    public long bytesPerBlock() { return bytesPerBlock(layers, kvDim, dtype, blockSize); }

    /** Blocks some cache holds now. */
    public synchronized int usedBlocks() { return refs.length - freeCount; }

    /** Blocks that can still be taken: the free ones and those the pool may still grow by. */
    public synchronized int freeBlocks() { return maxBlocks - usedBlocks(); }

    /** Blocks the tensors have room for now. */
    public synchronized int allocatedBlocks() { return refs.length; }

    /** Caches holding block {@code b} (0: free). */
    public synchronized int refs(int b) { return refs[b]; }

    /** Layer {@code layer}'s key pool (replaced when the pool grows: take it after the blocks a pass needs are taken). */
    public synchronized Tensor keys(int layer) { return keys[layer]; }

    public synchronized Tensor values(int layer) { return values[layer]; }

    /** Layer {@code layer} for sequences with block tables {@code tables}, as the backend's attention takes it. */
    public synchronized PagedKv layer(int layer, int[][] tables) { return new PagedKv(keys[layer], values[layer], blockSize, tables); }

    /** A free block, its count set to 1; grows the tensors when none is free. Throws {@link Full} at the cap. */
    public synchronized int take() {
        if (closed) throw new IllegalStateException("KV pool is closed");
        if (freeCount == 0) {
            if (refs.length >= maxBlocks)
                throw new Full("KV cache memory full: all " + maxBlocks + " blocks of " + blockSize + " positions are in use");
            int want = (int) Math.min(maxBlocks, Math.max(refs.length + 1L, Math.max(INITIAL_BLOCKS, 2L * refs.length)));
            try {
                grow(want);
            } catch (BadInputException e) { // the backend's out of memory: the pool is as large as it gets
                if (refs.length == 0) throw e;
                maxBlocks = refs.length;
                throw new Full("KV cache memory full: the pool has " + refs.length + " blocks of " + blockSize
                        + " positions and cannot grow to " + want + " (" + e.getMessage() + ")");
            }
        }
        int b = free[--freeCount];
        refs[b] = 1;
        return b;
    }

    /** One more cache holds block {@code b}. */
    public synchronized void retain(int b) {
        if (refs[b] < 1) throw new IllegalStateException("KV block " + b + " is free");
        refs[b]++;
    }

    /** One cache fewer holds block {@code b}; at 0 it is free again. */
    public synchronized void release(int b) {
        if (refs[b] < 1) throw new IllegalStateException("KV block " + b + " released twice");
        if (--refs[b] == 0) free[freeCount++] = b;
    }

    /** Copies the first {@code rows} positions of block {@code from} into block {@code to}, every layer. */
    synchronized void copyBlock(int from, int to, int rows) {
        for (int l = 0; l < layers; l++) {
            backend.copyRows(keys[l].rows(from * blockSize, rows), keys[l], to * blockSize);
            backend.copyRows(values[l].rows(from * blockSize, rows), values[l], to * blockSize);
        }
    }

    /** Moves every layer into tensors of {@code blocks} blocks, keeping the rows; the new blocks go on the free stack. */
    private void grow(int blocks) {
        int old = refs.length, rows = blocks * blockSize;
        Tensor[] nk = new Tensor[layers], nv = new Tensor[layers];
        try {
            for (int l = 0; l < layers; l++) {
                nk[l] = backend.allocate(dtype, rows, kvDim);
                nv[l] = backend.allocate(dtype, rows, kvDim);
                if (old > 0) {
                    backend.copyRows(keys[l], nk[l], 0);
                    backend.copyRows(values[l], nv[l], 0);
                }
            }
        } catch (RuntimeException e) { // out of memory part way: give back what was taken, keep the old tensors
            for (Tensor t : nk) if (t != null) backend.free(t);
            for (Tensor t : nv) if (t != null) backend.free(t);
            throw e;
        }
        for (int l = 0; l < layers; l++) {
            if (keys[l] != null) backend.free(keys[l]);
            if (values[l] != null) backend.free(values[l]);
            keys[l] = nk[l];
            values[l] = nv[l];
        }
        refs = Arrays.copyOf(refs, blocks);
        free = Arrays.copyOf(free, blocks);
        for (int b = blocks - 1; b >= old; b--) free[freeCount++] = b; // lowest ids taken first
    }

    /** Frees the tensors; caches still open on the pool must not be used after this. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (Tensor t : keys) if (t != null) backend.free(t);
        for (Tensor t : values) if (t != null) backend.free(t);
    }
}
