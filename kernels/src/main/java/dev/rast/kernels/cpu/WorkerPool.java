package dev.rast.kernels.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed team of threads for data-parallel kernels: {@link #run} splits [0, n) into one contiguous range per
 * thread and returns when all are done. The caller is thread 0.
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

    private final int threads;
    private final Thread[] workers;
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile long generation;
    private volatile boolean closed;
    private Body body;
    private int items;

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

    /** Runs {@code body} over [0, n) split evenly across the threads; rethrows the first failure. */
    public void run(int n, Body body) {
        if (n <= 0) return;
        if (threads == 1 || n == 1) {
            body.run(0, 0, n);
            return;
        }
        this.body = body;
        this.items = n;
        pending.set(threads - 1);
        generation++; // volatile write publishes body and items
        for (Thread t : workers) LockSupport.unpark(t);
        try {
            part(0, body, n);
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

    private void part(int w, Body b, int n) {
        int start = (int) ((long) n * w / threads), end = (int) ((long) n * (w + 1) / threads);
        if (start < end) b.run(w, start, end);
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
                part(id, body, items);
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
