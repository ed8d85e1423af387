package dev.rast.engine.model;

import dev.rast.engine.tensor.DType;
import java.util.Arrays;

/**
 * Keys and values of one sequence for every layer: a block table into its model's {@link KvPool}. Position p sits
 * at row {@code table[p / blockSize]·blockSize + p % blockSize} of each layer's pool tensors (on the device for a GPU
 * backend). {@link #length()} tokens are filled; at most {@link #capacity()} ever will be.
 *
 * <p>Stored as F32, or as BF16 (half the memory and half the bytes attention reads per position; the forward pass
 * computes keys and values in F32 and the backend rounds them to nearest even as it stores them). BF16 is what
 * Hugging Face and vLLM keep for a BF16 checkpoint; see {@link KvCacheDtype}.
 *
 * <p>Memory follows the tokens actually held, not the capacity: a block is taken from the pool when the sequence
 * crosses into it. Sampling at the paper's settings asks for 32 samples of up to 16,384 tokens each, but most answers
 * end after a few hundred: reserved up front, Qwen2.5-0.5B's caches alone would take 32 × 403 MB = 12.9 GB (three
 * models for RAST), where paged they take what the samples use.
 *
 * <p>{@link #fork} shares the blocks instead of copying them: n samples of one prompt hold its blocks once. A
 * shared block is never written while shared: full blocks are never written again, and before the first write into
 * a partly filled shared last block, {@link #reserve} copies it into a block of the cache's own (copy on write).
 */
public final class KvCache implements AutoCloseable {
    private final KvPool pool;
    private final int capacity;
    private int[] table = new int[4];
    private int blocks;
    private int length;
    private boolean closed;

    /** An empty cache of at most {@code capacity} tokens in {@code pool}; takes no block until a token is reserved. */
    public KvCache(KvPool pool, int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("KV cache capacity must be at least 1, is " + capacity);
        this.pool = pool;
        this.capacity = capacity;
    }

    /** The pool the blocks come from (shared by every cache of the model). */
    public KvPool pool() { return pool; }

    /** The block table: a copy of the ids of the blocks that hold positions 0.., in order. */
    public int[] blockTable() { return Arrays.copyOf(table, blocks); }

    public int capacity() { return capacity; }

    /** What the cache stores: F32 or BF16. */
    public DType dtype() { return pool.dtype(); }

    /** Blocks the table holds now (shared ones included). */
    public int blocks() { return blocks; }

    /** Positions the table has room for now (between {@link #length()} and a block more). */
    public int allocatedRows() { return blocks * pool.blockSize(); }

    public int length() { return length; }

    /** Bytes its blocks take, counting shared blocks in full: keys and values of every layer. */
    public long allocatedBytes() { return blocks * pool.bytesPerBlock(); }

    /** Blocks a cache of {@code length} positions holding {@code n} more needs from the pool (0 if they fit). */
    public static int blocksNeeded(int length, int n, int blockSize) {
        return Math.ceilDiv(length + n, blockSize) - Math.ceilDiv(length, blockSize);
    }

    /**
     * Blocks that {@link #reserve}({@code n}) would take from the pool now: new blocks for the positions past the
     * table, plus one for a shared, partly filled last block it must copy before writing into it.
     */
    public int blocksToReserve(int n) {
        int bs = pool.blockSize(), copy = length % bs != 0 && n > 0 && pool.refs(table[blocks - 1]) > 1 ? 1 : 0;
        return copy + Math.max(0, Math.ceilDiv(length + n, bs) - blocks);
    }

    /**
     * Checks that {@code n} more tokens fit, before any are written, and takes the blocks they need (and a copy of a
     * shared last block they would write into). Throws {@link KvPool.Full} when the pool has no block left; the
     * blocks taken before that stay with the cache.
     */
    public void reserve(int n) {
        if (closed) throw new IllegalStateException("KV cache is closed");
        if (length + n > capacity)
            throw new IllegalStateException("KV cache full: " + length + " + " + n + " tokens > capacity " + capacity);
        int bs = pool.blockSize();
        if (n > 0 && length % bs != 0) { // the next write lands in the last block: make it ours if it is shared
            int last = table[blocks - 1];
            if (pool.refs(last) > 1) {
                int own = pool.take();
                pool.copyBlock(last, own, length % bs);
                pool.release(last);
                table[blocks - 1] = own;
            }
        }
        while (blocks * bs < length + n) {
            if (blocks == table.length) table = Arrays.copyOf(table, 2 * blocks);
            table[blocks] = pool.take();
            blocks++;
        }
    }

    /** Marks {@code n} more positions as filled (after the forward pass wrote them). */
    public void advance(int n) {
        reserve(n);
        length += n;
    }

    /**
     * A new cache of {@code capacity} tokens that starts where this one is, sharing its blocks (their counts go up;
     * nothing is copied now). This is how n samples share one prompt prefill: prefill once, fork n times, then decode
     * the forks as a batch; the prompt's blocks are held once, and only a partly filled last block is copied, by the
     * first of them to write into it. Either cache can be closed on its own.
     */
    public KvCache fork(int capacity) {
        if (capacity < length)
            throw new IllegalArgumentException("fork capacity " + capacity + " < " + length + " filled positions");
        if (closed) throw new IllegalStateException("KV cache is closed");
        KvCache f = new KvCache(pool, capacity);
        int keep = Math.ceilDiv(length, pool.blockSize()); // blocks past the filled positions stay this cache's
        f.table = Arrays.copyOf(table, Math.max(4, keep));
        f.blocks = keep;
        for (int b = 0; b < keep; b++) pool.retain(table[b]);
        f.length = length;
        return f;
    }

    /** Gives the blocks back to the pool (those shared with forks stay theirs). */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (int b = 0; b < blocks; b++) pool.release(table[b]);
        blocks = 0;
    }
}
