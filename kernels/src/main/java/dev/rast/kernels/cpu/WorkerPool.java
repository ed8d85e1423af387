package dev.rast.kernels.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed team of threads for data-parallel kernels: {@link #run} splits [0, n) into contiguous pieces, a few per
 * thread, that the threads take in turn, and returns when all are done. The caller is thread 0.
 *
 * <p>Why pieces rather than one range per thread: a thread that runs slower (another process on its core, a memory
 * stream that stalls) would hold up the whole op while the others wait; with pieces the others take over its
 * share. A piece costs one atomic increment.
 *
 * <p>Why not ForkJoinPool: a forward pass issues a few hundred short parallel ops per token; waking pooled
 * threads through futexes each time costs tens of microseconds per op. Our workers spin briefly between ops
 * (the next op usually follows within microseconds) and park only when idle.
 */
public final class WorkerPool implements AutoCloseable {
    /** Body of a parallel op: thread {@code worker} handles items [start, end). */
    @FunctionalInterface
    public interface Body {
        void run(int worker, int start, int end);
    }

    private static final long SPIN_NANOS = 200_000;
    /** Pieces per thread an op is cut into. */
    private static final int PIECES_PER_THREAD = 8;

    private final int threads;
    private final Thread[] workers;
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicInteger nextPiece = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile long generation;
    private volatile boolean closed;
    private Body body;
    private int items;
    private int pieces;

    public WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, is " + threads);
        this.threads = threads;
        workers = new Thread[threads - 1];
        for (int w = 1; w < threads; w++) {
            int id = w;
            workers[w - 1] = Thread.ofPlatform().daemon().name("rast-cpu-" + w).start(() -> loop(id));
        }
    }

    public int threads() { return threads; }

    /** Runs {@code body} over [0, n) in pieces shared out among the threads; rethrows the first failure. */
    public void run(int n, Body body) {
        if (n <= 0) return;
        if (threads == 1 || n == 1) {
            body.run(0, 0, n);
            return;
        }
        this.body = body;
        this.items = n;
        this.pieces = Math.min(n, threads * PIECES_PER_THREAD);
        nextPiece.set(0);
        pending.set(threads - 1);
        generation++; // volatile write publishes body and items
        for (Thread t : workers) LockSupport.unpark(t);
        try {
            work(0, body, n, pieces);
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
        while (pending.get() != 0) Thread.onSpinWait();
        this.body = null;
        Throwable t = failure.getAndSet(null);
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error e) throw e;
        if (t != null) throw new RuntimeException(t);
    }

    /** Takes pieces until none are left. */
    private void work(int w, Body b, int n, int pieces) {
        try {
            for (int p; (p = nextPiece.getAndIncrement()) < pieces; ) {
                int start = (int) ((long) n * p / pieces), end = (int) ((long) n * (p + 1) / pieces);
                if (start < end) b.run(w, start, end);
            }
        } catch (Throwable t) {
            nextPiece.set(pieces); // the op has failed: the others stop taking pieces
            throw t;
        }
    }

    private void loop(int id) {
        long seen = 0;
        while (!closed) {
            long g = generation;
            if (g == seen) {
                long spinStart = System.nanoTime();
                while ((g = generation) == seen && !closed) {
                    if (System.nanoTime() - spinStart < SPIN_NANOS) Thread.onSpinWait();
                    else LockSupport.park(this);
                }
                if (closed) return;
            }
            seen = g;
            try {
                work(id, body, items, pieces);
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
            pending.decrementAndGet();
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) LockSupport.unpark(t);
    }
}
