package dev.rast.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * What this machine allows, measured now with the same threads and vector width the kernels use, so that
 * {@code rast bench} can report a kernel's speed as a fraction of its limit (a published peak says little on a
 * shared VM):
 * <ul>
 *   <li>{@link #readGBs}: a bare loop that only loads the given segments (the weights as a decode step reads them), split over
 *       the threads. Decode at batch 1 does little more than read every weight once, so this bounds it.</li>
 *   <li>{@link #fmaGflops}: sixteen independent FMA chains per thread on registers. A large decode batch or a
 *       prefill is bound by FMAs, so this bounds them.</li>
 * </ul>
 * Each figure is the best of a few passes: the limit is what the hardware can do, not the average under noise.
 */
public final class CpuLimits {
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, MatMul.F.vectorShape());
    private static final VectorSpecies<Float> F = MatMul.F;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int PASSES = 3;
    /** Values the loops compute, kept so that the JIT cannot drop them; never read. */
    private static final AtomicLong SINK = new AtomicLong();

    private CpuLimits() {}

    /** GB/s of a bare read of {@code segments} (each cut into one contiguous share per thread). */
    public static double readGBs(List<MemorySegment> given, int threads) {
        // One segment class for the loop: a mapped segment (weights left in the file) and an allocated one (packed
        // weights) are different classes, and a loop that has seen both reads at 7 GB/s where it reads either at 15-33.
        List<MemorySegment> segments = given.stream()
                .map(s -> s.isNative() ? MemorySegment.ofAddress(s.address()).reinterpret(s.byteSize()) : s).toList();
        warmUp();
        long bytes = 0;
        for (MemorySegment s : segments) bytes += s.byteSize() / 64 * 64; // whole cache lines: what read() covers
        if (bytes == 0) return 0;
        double best = 0;
        // Each pass reads the segments often enough to cover 64 MiB: starting the threads costs ~0.1 ms, more than
        // one read of a model of a few MB, so a single read would time the start, not the read. (Such a model stays
        // in the caches, so its figure is the caches' bandwidth: what its decode reads at too.)
        int reps = (int) Math.clamp((64L << 20) / bytes, 1, 1000);
        // At least PASSES passes and half a second, the best of them: the figure is what the machine can do.
        long start = System.nanoTime();
        for (int pass = 0; pass < PASSES || (System.nanoTime() - start < 500_000_000L && pass < 1000); pass++) {
            long t0 = System.nanoTime();
            parallel(threads, t -> {
                long acc = 0;
                for (int r = 0; r < reps; r++)
                    for (MemorySegment s : segments) {
                        long lines = s.byteSize() / 64, from = lines * t / threads * 64, to = lines * (t + 1) / threads * 64;
                        acc += read(s, from, to);
                    }
                SINK.addAndGet(acc);
            });
            long ns = System.nanoTime() - t0;
            if (ns > 0) best = Math.max(best, (double) bytes * reps / (ns / 1e9) / 1e9);
        }
        return best;
    }

    /**
     * Compiles {@link #read} before anything is timed: a small model's passes are over before the JIT gets to it, and
     * the Vector API's interpreted path reads at 0.4 GB/s.
     */
    private static void warmUp() {
        MemorySegment m = MemorySegment.ofAddress(WARM_UP.address()).reinterpret(WARM_UP.byteSize());
        long acc = 0;
        for (int i = 0; i < 2000; i++) acc += read(m, 0, m.byteSize());
        SINK.addAndGet(acc);
    }

    private static final MemorySegment WARM_UP = java.lang.foreign.Arena.global().allocate(64 << 10, 64);

    /**
     * ORs every vector of s[from, to) (to − from a multiple of 64) into one value, reading it as four interleaved
     * streams (four equal spans, one cache line of each per pass), as the matrix-vector kernels do: one sequential
     * stream per core leaves reads on the table that the hardware prefetcher takes with several.
     */
    private static int read(MemorySegment s, long from, long to) {
        int vb = I.vectorByteSize();
        long lines = (to - from) / 64, span = lines / 4 * 64;
        IntVector a = IntVector.zero(I), b = a, c = a, d = a;
        for (long o = from; o < from + span; o += 64)
            for (int v = 0; v < 64; v += vb) {
                a = a.or(IntVector.fromMemorySegment(I, s, o + v, LE));
                b = b.or(IntVector.fromMemorySegment(I, s, o + span + v, LE));
                c = c.or(IntVector.fromMemorySegment(I, s, o + 2 * span + v, LE));
                d = d.or(IntVector.fromMemorySegment(I, s, o + 3 * span + v, LE));
            }
        for (long o = from + 4 * span; o + vb <= to; o += vb) a = a.or(IntVector.fromMemorySegment(I, s, o, LE));
        return a.or(b).or(c.or(d)).lane(0);
    }

    /** GFLOP/s (an FMA counts two) of {@code threads} threads doing nothing but independent FMAs. */
    public static double fmaGflops(int threads) {
        int iterations = 20_000_000;
        double best = 0;
        for (int pass = 0; pass < PASSES + 1; pass++) { // the first pass also compiles the loop
            long t0 = System.nanoTime();
            parallel(threads, t -> SINK.addAndGet(Float.floatToRawIntBits(fmaLoop(iterations, t))));
            double flops = 2.0 * 16 * F.length() * iterations * threads;
            long ns = System.nanoTime() - t0;
            if (ns > 0) best = Math.max(best, flops / (ns / 1e9) / 1e9);
        }
        return best;
    }

    private static float fmaLoop(int n, int seed) {
        FloatVector x = FloatVector.broadcast(F, 1e-7f * seed), y = FloatVector.broadcast(F, 0.999f);
        FloatVector a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x, a6 = x, a7 = x;
        FloatVector a8 = x, a9 = x, a10 = x, a11 = x, a12 = x, a13 = x, a14 = x, a15 = x;
        for (int i = 0; i < n; i++) { // 16 chains: more than FMA latency × FMA ports, so the units never wait
            a0 = a0.fma(y, x); a1 = a1.fma(y, x); a2 = a2.fma(y, x); a3 = a3.fma(y, x);
            a4 = a4.fma(y, x); a5 = a5.fma(y, x); a6 = a6.fma(y, x); a7 = a7.fma(y, x);
            a8 = a8.fma(y, x); a9 = a9.fma(y, x); a10 = a10.fma(y, x); a11 = a11.fma(y, x);
            a12 = a12.fma(y, x); a13 = a13.fma(y, x); a14 = a14.fma(y, x); a15 = a15.fma(y, x);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7)
                .add(a8).add(a9).add(a10).add(a11).add(a12).add(a13).add(a14).add(a15).lane(0);
    }

    /** Runs body(0..threads−1) on that many threads at once (the caller is thread 0) and waits for all. */
    private static void parallel(int threads, java.util.function.IntConsumer body) {
        Thread[] others = new Thread[threads - 1];
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        for (int t = 1; t < threads; t++) {
            int id = t;
            others[t - 1] = Thread.ofPlatform().start(() -> {
                try {
                    body.accept(id);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
        }
        body.accept(0);
        for (Thread t : others) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while measuring", e);
            }
        }
        if (failure.get() != null) throw new IllegalStateException("measuring the machine's limits failed", failure.get());
    }
}
