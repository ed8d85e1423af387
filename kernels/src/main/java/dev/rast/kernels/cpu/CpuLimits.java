package dev.rast.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * What this machine allows, measured now with the same threads and vector width the kernels use, so that
 * {@code rast bench}, {@code DecodeProfile} and the JMH runner can report a kernel's speed as a fraction of its
 * limit (a published peak says little on a shared VM):
 * <ul>
 *   <li>{@link ReadLimit}: a bare loop that only loads the given segments (the weights as a decode step reads them),
 *       every byte once per pass: the segments cut into pieces of 1 MiB that the threads take through a
 *       {@link WorkerPool}, as the kernels take their rows, each piece read as eight interleaved streams, as the
 *       one-token matrix-vector kernels read. Decode at batch 1 does little more than read every weight once, so this
 *       bounds it.</li>
 *   <li>{@link #fmaGflops}: sixteen independent FMA chains per thread on registers. A large decode batch or a
 *       prefill is bound by FMAs, so this bounds them.</li>
 * </ul>
 *
 * <p>Why the read limit is a median of passes spread over the run, not the best pass of a moment: on a VM whose
 * memory bandwidth is shared with the host's other guests, back-to-back passes over the same 1 GB (nothing else
 * running here) ranged from 25 to 45 GB/s within seconds, and the best of a half-second burst swung 1.6× between
 * runs. A best pass is the quietest moment of the host, which the decode it is compared with (a median of its steps)
 * never sees; a median of passes taken between the timed steps sees the same minutes as they do. So a caller
 * {@link ReadLimit#sample samples} it between its timed runs and compares median with median.
 */
public final class CpuLimits {
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, MatMul.F.vectorShape());
    private static final VectorSpecies<Float> F = MatMul.F;
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, MatMul.F.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Passes of an arithmetic loop after its first (which also compiles it); the best is kept. */
    private static final int PASSES = 3;
    /** Values the loops compute, kept so that the JIT cannot drop them; never read. */
    private static final AtomicLong SINK = new AtomicLong();

    private CpuLimits() {}

    /**
     * The bare read of a fixed set of segments by a CPU backend's threads, sampled a pass at a time. Each
     * {@link #sample} reads every byte once (more often for a set under 64 MiB, see there) and records its GB/s.
     */
    public static final class ReadLimit {
        /** A segment is read in pieces of at most this many bytes, that the threads take as the kernels take rows. */
        private static final long PIECE_BYTES = 1L << 20;
        private final WorkerPool pool;
        private final long bytes;
        private final int reps;
        private final List<Piece> pieces = new ArrayList<>();
        private final List<Double> passes = new ArrayList<>();

        private record Piece(MemorySegment segment, long from, long to) {}

        /** The bare read of {@code given} by {@code backend}'s own threads. */
        public ReadLimit(List<MemorySegment> given, CpuBackend backend) {
            this.pool = backend.pool();
            long total = 0;
            for (MemorySegment given1 : given) {
                // One segment class for the loop: a mapped segment (weights left in the file) and an allocated one
                // (packed weights) are different classes, and a loop that has seen both reads at 7 GB/s where it
                // reads either at 15-33.
                MemorySegment s = given1.isNative() ? MemorySegment.ofAddress(given1.address()).reinterpret(given1.byteSize()) : given1;
                long size = s.byteSize() / 64 * 64; // whole cache lines: what read() covers
                for (long at = 0; at < size; at += PIECE_BYTES) pieces.add(new Piece(s, at, Math.min(size, at + PIECE_BYTES)));
                total += size;
            }
            bytes = total;
            // Handing out an op costs ~0.1 ms, more than one read of a model of a few MB, so such a set is read often
            // enough to cover 64 MiB per pass. (It stays in the caches, so its figure is the caches' bandwidth: what
            // its decode reads at too.)
            reps = bytes == 0 ? 0 : (int) Math.clamp((64L << 20) / bytes, 1, 1000);
            warmUp();
            sample(); // untimed: compiles the pass's own loops, and faults in any page not yet touched
            passes.clear();
        }

        /**
         * Reads every byte once ({@code reps} times for a small set) on the backend's threads, which take the pieces
         * through its {@link WorkerPool} as they take a kernel's rows; records and returns its GB/s. The kernels' own
         * threads, not new ones: on a loaded machine a new thread waits for its first time slice (a thread started
         * per pass left the read at 5 GB/s where the matrix-vector kernels ran at 10 on that minute), and a thread
         * that loses its core leaves its pieces to the others, in a kernel and here alike.
         */
        public double sample() {
            if (bytes == 0) return 0;
            AtomicLong acc = new AtomicLong();
            long t0 = System.nanoTime();
            for (int r = 0; r < reps; r++)
                pool.run(pieces.size(), (w, from, to) -> {
                    long sum = 0;
                    for (int i = from; i < to; i++) {
                        Piece p = pieces.get(i);
                        sum += read(p.segment, p.from, p.to);
                    }
                    acc.addAndGet(sum);
                });
            long ns = Math.max(1, System.nanoTime() - t0);
            SINK.addAndGet(acc.get());
            double gbs = (double) bytes * reps / (ns / 1e9) / 1e9;
            passes.add(gbs);
            return gbs;
        }

        /** The median of the passes so far (0 before any). */
        public double median() {
            if (passes.isEmpty()) return 0;
            double[] v = sorted();
            return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
        }

        public double best() { return passes.isEmpty() ? 0 : sorted()[passes.size() - 1]; }

        public double worst() { return passes.isEmpty() ? 0 : sorted()[0]; }

        public int count() { return passes.size(); }

        /** Bytes a pass reads once: each segment's whole cache lines. */
        public long bytes() { return bytes; }

        public int threads() { return pool.threads(); }

        private double[] sorted() { return passes.stream().mapToDouble(Double::doubleValue).sorted().toArray(); }

        /**
         * How every tool prints the limit: "27.4 GB/s (median of 12 passes {@code when}, 22.0–31.5)", {@code when}
         * saying when the passes ran ("among the timed decode steps").
         */
        public String describe(String when) {
            return String.format(Locale.ROOT, "%.1f GB/s (median of %d passes %s, %.1f–%.1f)", median(), count(), when, worst(), best());
        }
    }

    /**
     * Compiles {@link #read} before anything is timed: a small model's passes are over before the JIT gets to it, and
     * the Vector API's interpreted path reads at 0.4 GB/s. Every path of it, on every kind of piece a model has: a
     * long one (the eight streams, then the rest), one of a few lines (the streams' loop never runs: a BF16 k or v
     * bias is 4 lines) and a single line. A path the profile never saw is compiled as a trap: the first model piece
     * that took it (a BF16 bias) threw the compiled code away in every pass, and BF16 weights read at 10 GB/s where
     * their decode read at 23 and F32 ones (no piece under 8 lines) at 19.
     */
    private static void warmUp() {
        MemorySegment m = MemorySegment.ofAddress(WARM_UP.address()).reinterpret(WARM_UP.byteSize());
        long acc = 0;
        for (int i = 0; i < 3000; i++) {
            acc += read(m, 0, m.byteSize() - 64 * (i % 8));
            acc += read(m, 0, 64 * (1 + i % 7));
        }
        SINK.addAndGet(acc);
    }

    private static final MemorySegment WARM_UP = java.lang.foreign.Arena.global().allocate(64 << 10, 64);

    /**
     * ORs every vector of s[from, to) (to − from a multiple of 64) into one value, reading it as eight interleaved
     * streams (eight equal spans, one cache line of each per pass), as the one-token matrix-vector kernels do: one
     * sequential stream per core leaves reads on the table that the hardware prefetcher takes with several.
     */
    private static int read(MemorySegment s, long from, long to) {
        int vb = I.vectorByteSize();
        long span = (to - from) / 64 / 8 * 64;
        IntVector a = IntVector.zero(I), b = a, c = a, d = a, e = a, f = a, g = a, h = a;
        for (long o = from; o < from + span; o += vb) {
            a = a.or(IntVector.fromMemorySegment(I, s, o, LE));
            b = b.or(IntVector.fromMemorySegment(I, s, o + span, LE));
            c = c.or(IntVector.fromMemorySegment(I, s, o + 2 * span, LE));
            d = d.or(IntVector.fromMemorySegment(I, s, o + 3 * span, LE));
            e = e.or(IntVector.fromMemorySegment(I, s, o + 4 * span, LE));
            f = f.or(IntVector.fromMemorySegment(I, s, o + 5 * span, LE));
            g = g.or(IntVector.fromMemorySegment(I, s, o + 6 * span, LE));
            h = h.or(IntVector.fromMemorySegment(I, s, o + 7 * span, LE));
        }
        for (long o = from + 8 * span; o + vb <= to; o += vb) a = a.or(IntVector.fromMemorySegment(I, s, o, LE));
        return a.or(b).or(c.or(d)).or(e.or(f).or(g.or(h))).lane(0);
    }

    /** GFLOP/s (an FMA counts two) of {@code threads} threads doing nothing but independent FMAs. */
    public static double fmaGflops(int threads) {
        int iterations = 20_000_000;
        return bestRate(threads, 2.0 * 16 * F.length() * iterations, t -> SINK.addAndGet(Float.floatToRawIntBits(fmaLoop(iterations, t))));
    }

    /**
     * G operations/s (a multiply and an add count one each, as an FMA counts two) of {@code threads} threads doing
     * nothing but independent 16-bit integer multiply-adds: the arithmetic that bounds the Q4_0 kernels, which
     * multiply and add in 16-bit lanes, twice as many per vector as F32's, so the FMA peak does not bound them.
     */
    public static double shortMacGops(int threads) {
        int iterations = 20_000_000;
        return bestRate(threads, 2.0 * 16 * S.length() * iterations, t -> SINK.addAndGet(shortMacLoop(iterations, t)));
    }

    /** The best rate ({@code ops} per pass ÷ seconds, in G/s) of {@link #PASSES} passes of {@code body} on every thread, after one that compiles it. */
    private static double bestRate(int threads, double ops, java.util.function.IntConsumer body) {
        double best = 0;
        for (int pass = 0; pass < PASSES + 1; pass++) {
            long t0 = System.nanoTime();
            parallel(threads, body);
            long ns = System.nanoTime() - t0;
            if (ns > 0 && pass > 0) best = Math.max(best, ops * threads / (ns / 1e9) / 1e9);
        }
        return best;
    }

    private static short shortMacLoop(int n, int seed) {
        ShortVector x = ShortVector.broadcast(S, (short) seed), y = ShortVector.broadcast(S, (short) 3);
        ShortVector a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x, a6 = x, a7 = x;
        ShortVector a8 = x, a9 = x, a10 = x, a11 = x, a12 = x, a13 = x, a14 = x, a15 = x;
        for (int i = 0; i < n; i++) { // 16 chains, as fmaLoop's
            a0 = a0.mul(y).add(x); a1 = a1.mul(y).add(x); a2 = a2.mul(y).add(x); a3 = a3.mul(y).add(x);
            a4 = a4.mul(y).add(x); a5 = a5.mul(y).add(x); a6 = a6.mul(y).add(x); a7 = a7.mul(y).add(x);
            a8 = a8.mul(y).add(x); a9 = a9.mul(y).add(x); a10 = a10.mul(y).add(x); a11 = a11.mul(y).add(x);
            a12 = a12.mul(y).add(x); a13 = a13.mul(y).add(x); a14 = a14.mul(y).add(x); a15 = a15.mul(y).add(x);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7)
                .add(a8).add(a9).add(a10).add(a11).add(a12).add(a13).add(a14).add(a15).lane(0);
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
