package dev.rast.kernels.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed team of threads for data-parallel kernels: {@link #run} splits [0, n) into contiguous pieces that the
 * threads take in turn, and returns when all are done. The caller is thread 0.
 *
 * <p>Why not ForkJoinPool: a forward pass issues a few hundred short parallel ops per token; waking pooled
 * threads through futexes each time costs tens of microseconds per op. Our workers spin briefly between ops
 * (the next op usually follows within microseconds) and park only when idle.
 *
 * <p>Why pieces, and why the caller waits only for threads already inside the op: when another process shares a
 * core, a thread can lose its core for milliseconds. With one fixed range per thread every op would wait for it;
 * here the running threads take over its pieces, and a thread that has not even woken up yet finds no pieces left
 * when it does. A piece costs one atomic compare-and-set.
 *
 * <p>Why pieces shrink (guided scheduling): a piece takes 1/{@value #SHARE} of what is left per thread, down to
 * 1/{@value #MIN_PIECES_PER_THREAD} of the op per thread. The first pieces are long (a matrix-vector piece streams
 * its rows front to back, and a stream pays to start), and the last ones short, so that when the last piece is
 * taken the other threads are left with little to wait for. With equal pieces of 1/8 per thread, the other
 * thread was on average half a piece from its end when the last one was taken: 1/32 of every op on two threads.
 *
 * <p>Waiting, at the end of an op for the other threads and between ops for the next one, spins first (the other
 * side usually comes within microseconds) and then yields the core: on a machine with more runnable threads than
 * cores, a thread spinning for a descheduled partner only burns the time slice the partner needs.
 *
 * <p>A failure in a worker reaches the caller of {@link #run}, never ends the worker: the first failure of an op is
 * rethrown when the op ends. Some errors arrive late: the JVM reports a fault on mapped memory (a checkpoint file
 * truncated under the run) at the thread's next safepoint, which may come after its piece is done. Such an error
 * is kept and thrown by the next {@link #run}.
 */
public final class WorkerPool implements AutoCloseable {
    /** Body of a parallel op: thread {@code worker} handles items [start, end). */
    @FunctionalInterface
    public interface Body {
        void run(int worker, int start, int end);
    }

    /** A worker with no op spins (then yields) this long before it parks. */
    private static final long SPIN_NANOS = 200_000;
    /** Spinning for this long, a waiting thread starts to yield its core between checks. */
    private static final long YIELD_AFTER_NANOS = 20_000;
    /** A piece is 1/SHARE of the items left per thread... */
    static final int SHARE = 4;
    /** ...and no smaller than 1/MIN_PIECES_PER_THREAD of the op's items per thread. */
    static final int MIN_PIECES_PER_THREAD = 32;

    /** One parallel op: its body, the next item to hand out, and the threads working on it. */
    private static final class Op {
        final Body body;
        final int items, share, minPiece;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger active = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Op(Body body, int items, int threads) {
            this.body = body;
            this.items = items;
            this.share = SHARE * threads;
            this.minPiece = Math.max(1, items / (MIN_PIECES_PER_THREAD * threads));
        }

        /** Takes pieces until none are left. */
        void work(int worker) {
            try {
                for (int start; (start = next.get()) < items; ) {
                    int left = items - start, size = Math.min(left, Math.max(minPiece, (left + share - 1) / share));
                    if (next.compareAndSet(start, start + size)) body.run(worker, start, start + size);
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
                next.set(items); // the op has failed: nobody takes another piece
            }
        }
    }

    private final int threads;
    private final Thread[] workers;
    /** When {@link #wake} last ran (System.nanoTime): a parked worker it woke spins from then. */
    private volatile long wokenAt;
    /** An error a worker met outside any op's piece, for the next {@link #run} to throw. */
    private final AtomicReference<Throwable> late = new AtomicReference<>();
    private volatile Op current;
    private volatile boolean closed;

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

    /**
     * Ops are coming within microseconds (a forward pass begins): parked workers wake now, so that they are spinning
     * by the first op instead of starting on it (a wake-up takes tens of microseconds, in which the caller works
     * alone). Each spins for {@value #SPIN_NANOS} ns from now, as after an op, and parks again if none comes.
     */
    public void wake() {
        wokenAt = System.nanoTime();
        for (Thread t : workers) LockSupport.unpark(t);
    }

    /** Whether every worker is parked (none spins): an idle pool, {@value #SPIN_NANOS} ns after its last op or wake. */
    boolean parked() {
        for (Thread t : workers)
            if (t.getState() != Thread.State.WAITING) return false;
        return true;
    }

    /** Runs {@code body} over [0, n) in pieces shared out among the threads; rethrows the first failure. */
    public void run(int n, Body body) {
        rethrow(late.getAndSet(null));
        if (n <= 0) return;
        if (threads == 1 || n == 1) {
            body.run(0, 0, n);
            return;
        }
        Op op = new Op(body, n, threads);
        current = op; // volatile write publishes the op
        for (Thread t : workers) LockSupport.unpark(t);
        op.work(0);
        // Every piece is taken. A thread counted in active may still be running one; a thread that joins later
        // increments active before taking a piece, and finds none (next only grows), so it cannot be missed.
        for (long since = 0; op.active.get() != 0; ) since = pause(since);
        Throwable t = op.failure.get();
        rethrow(t != null ? t : late.getAndSet(null));
    }

    /**
     * One turn of a wait loop that began at {@code since} (0: now): a spin hint for the first
     * {@value #YIELD_AFTER_NANOS} ns, then a yield of the core. Returns when the wait began.
     */
    private static long pause(long since) {
        long now = System.nanoTime();
        if (since == 0) since = now;
        if (now - since < YIELD_AFTER_NANOS) Thread.onSpinWait();
        else Thread.yield();
        return since;
    }

    private static void rethrow(Throwable t) {
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error e) throw e;
        if (t != null) throw new RuntimeException(t);
    }

    private void loop(int id) {
        Op seen = null;
        while (!closed) {
            try {
                Op op = current;
                if (op == seen) {
                    long spinStart = System.nanoTime();
                    while ((op = current) == seen && !closed) {
                        long woken = wokenAt;
                        if (woken - spinStart > 0) spinStart = woken; // woken: spin afresh
                        if (System.nanoTime() - spinStart < SPIN_NANOS) pause(spinStart);
                        else LockSupport.park(this);
                    }
                    if (closed) return;
                }
                seen = op;
                op.active.incrementAndGet();
                try {
                    op.work(id);
                } finally {
                    op.active.decrementAndGet();
                }
            } catch (Throwable t) {
                late.compareAndSet(null, t);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) LockSupport.unpark(t);
    }
}
