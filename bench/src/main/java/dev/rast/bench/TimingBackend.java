package dev.rast.bench;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.backend.PagedKv;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A backend that runs another and adds up the wall time of each op by name (a matmul by its weights' shapes), for
 * {@link DecodeProfile}. The CPU backend's ops are synchronous, so an op's wall time is what it costs the step. An
 * op's clock stops as soon as it returns, before its name is looked up, and a matmul's name is made once per weight
 * (the first of a group), so that the bookkeeping falls outside the ops, in what the profile leaves unaccounted.
 */
final class TimingBackend implements Backend {
    /** Calls and nanoseconds of one op name, and the weight bytes its calls read and their multiply-adds (matmuls). */
    static final class Tally {
        long calls, nanos;
        double weightBytes, macs;
    }

    private final Backend b;
    private final Map<String, Tally> tallies = new LinkedHashMap<>();
    /** Each matmul's tally by its (first) weight, so that its name is built once. */
    private final Map<Tensor, Tally> matmuls = new IdentityHashMap<>();
    private boolean on;

    TimingBackend(Backend b) { this.b = b; }

    /** Starts counting (loading and warm-up are not counted). */
    void start() { on = true; }

    Map<String, Tally> tallies() { return tallies; }

    private long t0() { return on ? System.nanoTime() : 0; }

    private void end(String op, long t0, double bytes) {
        if (on) add(tallies.computeIfAbsent(op, k -> new Tally()), System.nanoTime() - t0, bytes, 0);
    }

    /** A matmul of x by {@code ws} (one op) that began at {@code t0}. */
    private void endMatmul(long t0, Tensor x, List<Tensor> ws) {
        if (!on) return;
        long nanos = System.nanoTime() - t0;
        double bytes = 0, macs = 0;
        for (Tensor w : ws) {
            bytes += bytes(w);
            macs += macs(x, w);
        }
        add(matmuls.computeIfAbsent(ws.get(0), k -> tallies.computeIfAbsent(matmulName(ws), n -> new Tally())), nanos, bytes, macs);
    }

    private static void add(Tally t, long nanos, double bytes, double macs) {
        t.calls++;
        t.nanos += nanos;
        t.weightBytes += bytes;
        t.macs += macs;
    }

    /** "matmul 896×896+128×896+128×896": the weights' shapes. */
    private static String matmulName(List<Tensor> ws) {
        StringBuilder s = new StringBuilder("matmul ");
        for (Tensor w : ws) s.append(s.length() > 7 ? "+" : "").append(shape(w));
        return s.toString();
    }

    private static double bytes(Tensor w) { return (double) w.dtype().byteSize(w.shape()); }

    /** Multiply-adds of x times w's rows. */
    private static double macs(Tensor x, Tensor w) { return (double) x.dim(0) * w.dim(0) * w.dim(1); }

    private static String shape(Tensor w) { return w.dim(0) + "×" + w.dim(1); }

    @Override public String name() { return b.name(); }
    @Override public Tensor weight(Tensor host) { return b.weight(host); }
    @Override public Tensor lookupTable(Tensor host) { return b.lookupTable(host); }
    @Override public Tensor allocate(DType dtype, int... shape) { return b.allocate(dtype, shape); }
    @Override public long freeMemoryBytes() { return b.freeMemoryBytes(); }
    @Override public void free(Tensor t) { b.free(t); }
    @Override public void close() { b.close(); }

    @Override public void upload(MemorySegment src, Tensor dst) { long t = t0(); b.upload(src, dst); end("upload", t, 0); }
    @Override public void download(Tensor src, MemorySegment dst) { long t = t0(); b.download(src, dst); end("download logits", t, 0); }
    @Override public void embed(Tensor table, int[] ids, Tensor out) { long t = t0(); b.embed(table, ids, out); end("embed", t, 0); }

    @Override public void matmul(Tensor x, Tensor w, Tensor out) {
        long t = t0();
        b.matmul(x, w, out);
        endMatmul(t, x, List.of(w));
    }

    @Override public void matmul(Tensor x, List<Tensor> ws, List<Tensor> outs) {
        long t = t0();
        b.matmul(x, ws, outs);
        endMatmul(t, x, ws);
    }

    @Override public void addBias(Tensor x, Tensor bias) { long t = t0(); b.addBias(x, bias); end("addBias", t, 0); }
    @Override public void rmsNorm(Tensor x, Tensor w, float eps, Tensor out) { long t = t0(); b.rmsNorm(x, w, eps, out); end("rmsNorm", t, 0); }

    @Override public void rope(Tensor x, int headDim, Tensor cos, Tensor sin, int startPos) {
        long t = t0();
        b.rope(x, headDim, cos, sin, startPos);
        end("rope", t, 0);
    }

    @Override public void rope(Tensor x, int headDim, Tensor cos, Tensor sin, int[] chunkRows, int[] startPos) {
        long t = t0();
        b.rope(x, headDim, cos, sin, chunkRows, startPos);
        end("rope", t, 0);
    }

    @Override public void copyRows(Tensor src, Tensor dst, int dstRow) { long t = t0(); b.copyRows(src, dst, dstRow); end("copyRows", t, 0); }

    @Override public void storeKeysValues(Tensor k, Tensor v, PagedKv cache, int[] rows, int[] pos) {
        long t = t0();
        b.storeKeysValues(k, v, cache, rows, pos);
        end("storeKeysValues", t, 0);
    }

    @Override public void attention(Tensor q, Tensor k, Tensor v, int heads, int kvHeads, int headDim, int startPos, Tensor out) {
        long t = t0();
        b.attention(q, k, v, heads, kvHeads, headDim, startPos, out);
        end("attention", t, 0);
    }

    @Override public void attention(Tensor q, PagedKv cache, int[] rows, int[] pos, int heads, int kvHeads, int headDim, Tensor out) {
        long t = t0();
        b.attention(q, cache, rows, pos, heads, kvHeads, headDim, out);
        end("attention", t, 0);
    }

    @Override public void addRmsNorm(Tensor x, Tensor y, Tensor w, float eps, Tensor out) {
        long t = t0();
        b.addRmsNorm(x, y, w, eps, out);
        end("addRmsNorm", t, 0);
    }

    @Override public void biasRope(Tensor q, Tensor k, Tensor v, Tensor bq, Tensor bk, Tensor bv, int headDim, Tensor cos, Tensor sin,
                                   int[] chunkRows, int[] startPos) {
        long t = t0();
        b.biasRope(q, k, v, bq, bk, bv, headDim, cos, sin, chunkRows, startPos);
        end("biasRope", t, 0);
    }

    @Override public void siluMul(Tensor gate, Tensor up, Tensor out) { long t = t0(); b.siluMul(gate, up, out); end("siluMul", t, 0); }
    @Override public void add(Tensor x, Tensor y) { long t = t0(); b.add(x, y); end("add", t, 0); }
}
