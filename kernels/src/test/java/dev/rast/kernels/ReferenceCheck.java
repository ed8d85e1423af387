package dev.rast.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.backend.PagedKv;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import dev.rast.kernels.cuda.CudaBackend;
import dev.rast.kernels.reference.ReferenceBackend;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * One op run on a backend and on {@link ReferenceBackend} with the same inputs (the same bytes uploaded to each),
 * its outputs compared by normalised mean squared error, NMSE = Σ(got − want)² / Σ want², the metric of llama.cpp's
 * test-backend-ops; ops that must give the reference's bits are compared byte for byte. BackendOpsTest picks the
 * cases; a backend-specific test (a kernel variant, a launch count) runs a case through the same method.
 *
 * <p>Tolerances, the largest NMSE allowed (each case's value is kept, and {@link #report} lists the largest per op
 * and backend):
 * <ul>
 *   <li>{@link #EXACT}: 0. Ops with at most one rounding per element from the same operands (embed's widening,
 *       add, addBias; copyRows and storeKeysValues, compared by their bytes) give the reference's bits.</li>
 *   <li>{@link #SUMS}: 1e-10. F32 sums in a backend's own order (matmul, rmsNorm, attention) and rope's F32 products
 *       against the reference's double sums rounded once: each result is off by a few F32 roundings of its terms'
 *       size, NMSE about n·(6e-8)² ≈ 1e-14 to 1e-11 for the n ≤ 5000 terms here (measured ≤ 2e-12, CPU and
 *       emulator). Low enough to catch a GEMM in TF32 (10 mantissa bits: NMSE ~1e-7).</li>
 *   <li>{@link #SPLIT_BF16}: 1e-9, CUDA with BF16 weights: its GEMM splits x into hi + lo BF16 halves, so x keeps
 *       ~16 of its 24 mantissa bits, a relative error up to 2⁻¹⁷ (7.6e-6) per element: NMSE ~1e-11 (measured ≤
 *       1.7e-11 on the emulator). Low enough to catch x in one BF16 half (-Drast.cuda.gemm=bf16: 8 bits, NMSE
 *       ~1e-6).</li>
 *   <li>{@link #EXP}: 1e-10, siluMul: its exp is the backend's own (a polynomial on the CPU, the GPU's expf), a few
 *       F32 ulps from Math.exp (measured ≤ 1.4e-14); the bar stays at the per-element 1e-5 relative error the
 *       GPU has been held to (NMSE up to 1e-10).</li>
 * </ul>
 * A real bug is far outside: a dropped term of a K-long sum moves NMSE to about 1/K (2e-4 at K = 5000), a wrong
 * sign, pair, position or head to O(1); NaN (a causal kernel reading the poisoned cache rows past the last position)
 * fails every comparison.
 */
public final class ReferenceCheck {
    public static final double EXACT = 0, SUMS = 1e-10, SPLIT_BF16 = 1e-9, EXP = 1e-10;

    /** op → backend → the largest NMSE seen. */
    private static final Map<String, Map<String, Double>> MAX_NMSE = new TreeMap<>();

    private final Backend b;
    private final String label;
    private final ReferenceBackend ref;
    private final SplittableRandom rnd;

    /** Checks of backend {@code b} (named {@code label} in messages and the report) against {@code ref}. */
    public ReferenceCheck(Backend b, String label, ReferenceBackend ref, long seed) {
        this.b = b;
        this.label = label;
        this.ref = ref;
        this.rnd = new SplittableRandom(seed);
    }

    /** n values uniform in [-1, 1). */
    public float[] random(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rnd.nextDouble() * 2 - 1);
        return v;
    }

    /**
     * Host bytes of {@code values} as a tensor of {@code shape} in dtype dt: a quantized dtype's rows of blocks
     * (QuantBlocks, llama.cpp's rules), otherwise as {@link #bytes(DType, float[])}.
     */
    public static MemorySegment bytes(DType dt, float[] values, int... shape) {
        if (!dt.quantized()) return bytes(dt, values);
        int K = shape[shape.length - 1], rows = values.length / K;
        long rowBytes = dt.rowBytes(K);
        MemorySegment s = Arena.ofAuto().allocate(Math.max(1, rows * rowBytes), 16).asSlice(0, rows * rowBytes);
        float[] row = new float[K];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(values, r * K, row, 0, K);
            dev.rast.engine.tensor.QuantBlocks.quantizeRow(row, K, dt, s, r * rowBytes);
        }
        return s;
    }

    /** Host bytes of {@code values} in dtype dt; the values are rounded in place to what dt holds (to nearest even). */
    public static MemorySegment bytes(DType dt, float[] values) {
        if (dt.quantized()) throw new IllegalArgumentException(dt + " needs a shape: bytes(dt, values, shape)");
        MemorySegment s = Arena.ofAuto().allocate((long) values.length * dt.bytes(), 16);
        for (int i = 0; i < values.length; i++) {
            switch (dt) {
                case F32 -> s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, values[i]);
                case BF16 -> {
                    short b = DType.floatToBf16(values[i]);
                    s.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, b);
                    values[i] = DType.bf16ToFloat(b);
                }
                case F16 -> {
                    short h = Float.floatToFloat16(values[i]);
                    s.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, h);
                    values[i] = Float.float16ToFloat(h);
                }
                default -> throw new IllegalArgumentException(dt.toString());
            }
        }
        return s;
    }

    /** A tensor of {@code backend}'s holding {@code data}. */
    public static Tensor tensor(Backend backend, DType dt, MemorySegment data, int... shape) {
        Tensor t = backend.allocate(dt, shape);
        backend.upload(data, t);
        return t;
    }

    /** A tensor's bytes, brought to the host. */
    public static byte[] bytesOf(Backend backend, Tensor t) {
        byte[] out = new byte[(int) t.dtype().byteSize(t.shape())];
        backend.download(t, MemorySegment.ofArray(out));
        return out;
    }

    /** An F32 tensor's values, brought to the host. */
    public static float[] read(Backend backend, Tensor t) {
        float[] out = new float[(int) t.numel()];
        backend.download(t, MemorySegment.ofArray(out));
        return out;
    }

    public static double nmse(float[] want, float[] got) {
        double err = 0, norm = 0;
        for (int i = 0; i < want.length; i++) {
            double d = (double) got[i] - want[i];
            err += d * d;
            norm += (double) want[i] * want[i];
        }
        return err == 0 ? 0 : err / norm;
    }

    /** The same tensor in the backend under test ({@code got}) and in the reference ({@code want}). */
    public record Both(Tensor got, Tensor want) {
        Both rows(int from, int count) { return new Both(got.rows(from, count), want.rows(from, count)); }
    }

    /** An activation or cache holding {@code values} (as dt holds them) on both sides. */
    public Both input(DType dt, float[] values, int... shape) {
        MemorySegment data = bytes(dt, values, shape);
        return new Both(tensor(b, dt, data, shape), tensor(ref, dt, data, shape));
    }

    /** A checkpoint tensor through {@link Backend#weight} on both sides, or, if not {@code prepared}, allocated and uploaded. */
    public Both weight(DType dt, float[] values, boolean prepared, int... shape) {
        if (!prepared) return input(dt, values, shape);
        Tensor host = new Tensor(dt, shape, bytes(dt, values, shape));
        return new Both(b.weight(host), ref.weight(host));
    }

    public Both output(DType dt, int... shape) { return new Both(b.allocate(dt, shape), ref.allocate(dt, shape)); }

    public void free(Both... ts) {
        for (Both t : ts) {
            b.free(t.got);
            ref.free(t.want);
        }
    }

    /** The outputs' NMSE within {@code tolerance}; the value goes to the report under {@code op}. */
    public void compare(String op, Both out, double tolerance, String what) {
        double e = nmse(read(ref, out.want), read(b, out.got));
        synchronized (MAX_NMSE) { MAX_NMSE.computeIfAbsent(op, k -> new TreeMap<>()).merge(label, e, Math::max); }
        assertTrue(e <= tolerance, label + " " + op + " " + what + ": NMSE " + e + " > " + tolerance);
    }

    /** The outputs' bytes equal (an exact op; BF16 values compared bit for bit). */
    public void compareBytes(String op, Both out, String what) {
        assertArrayEquals(bytesOf(ref, out.want), bytesOf(b, out.got), label + " " + op + " " + what);
        synchronized (MAX_NMSE) { MAX_NMSE.computeIfAbsent(op, k -> new TreeMap<>()).merge(label, 0.0, Math::max); }
    }

    /** The largest NMSE of every op and backend since the last report, a line each; starts the next report afresh. */
    public static String report() {
        StringBuilder s = new StringBuilder("largest NMSE against the reference backend:\n");
        synchronized (MAX_NMSE) {
            MAX_NMSE.forEach((op, perBackend) -> perBackend.forEach((backend, e) ->
                    s.append(String.format(java.util.Locale.ROOT, "  %-20s %-24s %.2e%n", op, backend, e))));
            MAX_NMSE.clear();
        }
        return s.toString();
    }

    // ------------------------------------------------------------------ one case of each op

    /** How embed's table reaches the backend. */
    public enum Table { WEIGHT, LOOKUP_TABLE, ALLOCATED }

    public void embed(DType dt, int V, int D, int[] ids, Table kind) {
        float[] values = random(V * D);
        Both table = switch (kind) {
            case WEIGHT -> weight(dt, values, true, V, D);
            case LOOKUP_TABLE -> {
                Tensor host = new Tensor(dt, new int[] {V, D}, bytes(dt, values, V, D));
                yield new Both(b.lookupTable(host), ref.lookupTable(host));
            }
            case ALLOCATED -> input(dt, values, V, D);
        };
        Both out = output(DType.F32, ids.length, D);
        b.embed(table.got, ids, out.got);
        ref.embed(table.want, ids, out.want);
        compare("embed", out, EXACT, dt + " " + kind + " V=" + V + " D=" + D);
        free(table, out);
    }

    /** Bf16 weights on CUDA may take the split-bf16 GEMM; everything else sums F32 products. */
    double matmulTolerance(DType dt) { return b instanceof CudaBackend && dt == DType.BF16 ? SPLIT_BF16 : SUMS; }

    public void matmul(DType dt, boolean prepared, int T, int N, int K) {
        Both x = input(DType.F32, random(T * K), T, K), w = weight(dt, random(N * K), prepared, N, K), out = output(DType.F32, T, N);
        b.matmul(x.got, w.got, out.got);
        ref.matmul(x.want, w.want, out.want);
        compare("matmul", out, matmulTolerance(dt), dt + (prepared ? " weight()" : " allocated") + " T=" + T + " N=" + N + " K=" + K);
        free(x, w, out);
    }

    /**
     * Matrices sharing their input (q, k, v; gate, up) in one call, with N rows each of {@code ns}; the weight at
     * {@code allocatedAt} (if ≥ 0) allocated rather than through weight(), as one left in place when memory is short.
     */
    public void matmuls(DType dt, int T, int K, int[] ns, int allocatedAt) {
        Both x = input(DType.F32, random(T * K), T, K);
        List<Both> ws = new ArrayList<>(), outs = new ArrayList<>();
        for (int i = 0; i < ns.length; i++) {
            ws.add(weight(dt, random(ns[i] * K), i != allocatedAt, ns[i], K));
            outs.add(output(DType.F32, T, ns[i]));
        }
        b.matmul(x.got, ws.stream().map(Both::got).toList(), outs.stream().map(Both::got).toList());
        ref.matmul(x.want, ws.stream().map(Both::want).toList(), outs.stream().map(Both::want).toList());
        for (int i = 0; i < ns.length; i++)
            compare("matmul (grouped)", outs.get(i), matmulTolerance(dt), dt + " T=" + T + " K=" + K + " part " + i + " N=" + ns[i]);
        free(x);
        ws.forEach(this::free);
        outs.forEach(this::free);
    }

    public void addBias(DType dt, int T, int N) {
        Both x = input(DType.F32, random(T * N), T, N), bias = weight(dt, random(N), true, N);
        b.addBias(x.got, bias.got);
        ref.addBias(x.want, bias.want);
        compare("addBias", x, EXACT, dt + " T=" + T + " N=" + N);
        free(x, bias);
    }

    public void rmsNorm(DType dt, int T, int D, boolean inPlace) {
        Both x = input(DType.F32, random(T * D), T, D), w = weight(dt, random(D), true, D);
        Both out = inPlace ? x : output(DType.F32, T, D);
        b.rmsNorm(x.got, w.got, 1e-6f, out.got);
        ref.rmsNorm(x.want, w.want, 1e-6f, out.want);
        compare("rmsNorm", out, SUMS, dt + " T=" + T + " D=" + D + (inPlace ? " in place" : ""));
        free(x, w);
        if (!inPlace) free(out);
    }

    /** Random cos and sin tables of {@code positions} rows for head dim hd (any values rotate the same way). */
    private Both[] ropeTables(int positions, int hd) {
        return new Both[] {input(DType.F32, random(positions * hd / 2), positions, hd / 2), input(DType.F32, random(positions * hd / 2), positions, hd / 2)};
    }

    public void rope(int T, int heads, int hd, int start) {
        Both[] cs = ropeTables(start + T + 3, hd);
        Both x = input(DType.F32, random(T * heads * hd), T, heads * hd);
        b.rope(x.got, hd, cs[0].got, cs[1].got, start);
        ref.rope(x.want, hd, cs[0].want, cs[1].want, start);
        compare("rope", x, SUMS, "T=" + T + " heads=" + heads + " hd=" + hd + " start=" + start);
        free(x, cs[0], cs[1]);
    }

    /** Batched rope: chunk i of {@code chunkRows[i]} rows at positions startPos[i]... */
    public void rope(int[] chunkRows, int[] startPos, int heads, int hd) {
        int T = sum(chunkRows), positions = 0;
        for (int i = 0; i < startPos.length; i++) positions = Math.max(positions, startPos[i] + chunkRows[i]);
        Both[] cs = ropeTables(positions + 3, hd);
        Both x = input(DType.F32, random(T * heads * hd), T, heads * hd);
        b.rope(x.got, hd, cs[0].got, cs[1].got, chunkRows, startPos);
        ref.rope(x.want, hd, cs[0].want, cs[1].want, chunkRows, startPos);
        compare("rope (batched)", x, SUMS, chunkRows.length + " chunks hd=" + hd);
        free(x, cs[0], cs[1]);
    }

    /** {@code rows} rows of {@code src} dtype into a {@code dst} tensor holding random values, at row dstRow. */
    public void copyRows(DType src, DType dst, int rows, int width, int dstRow) {
        Both s = input(src, random(rows * width), rows, width), d = input(dst, random((dstRow + rows + 2) * width), dstRow + rows + 2, width);
        b.copyRows(s.got, d.got, dstRow);
        ref.copyRows(s.want, d.want, dstRow);
        compareBytes("copyRows", d, src + " into " + dst + " " + rows + "x" + width + " at row " + dstRow);
        free(s, d);
    }

    /**
     * A paged cache for chunk i's positions 0..startPos[i] + chunkRows[i] − 1, blocks of {@code blockSize}: every
     * sequence's blocks drawn at random from a pool with 3 spare blocks (so tables are neither consecutive nor
     * ordered), the rows random, poisoned with NaN where no sequence keeps a position (a kernel reading a row through
     * the wrong block, or past a sequence's end, gets NaNs that fail the comparison).
     */
    private record Paged(Both keys, Both values, int blockSize, int[][] tables) {
        PagedKv got() { return new PagedKv(keys.got(), values.got(), blockSize, tables); }

        PagedKv want() { return new PagedKv(keys.want(), values.want(), blockSize, tables); }
    }

    private Paged paged(DType cache, int[] chunkRows, int[] startPos, int kvWidth, int blockSize) {
        int[][] tables = new int[chunkRows.length][];
        int blocks = 3;
        for (int i = 0; i < tables.length; i++) blocks += Math.ceilDiv(startPos[i] + chunkRows[i], blockSize);
        int[] order = new int[blocks];
        for (int b = 0; b < blocks; b++) order[b] = b;
        for (int b = blocks - 1; b > 0; b--) { // Fisher-Yates
            int j = rnd.nextInt(b + 1), t = order[b];
            order[b] = order[j];
            order[j] = t;
        }
        boolean[] kept = new boolean[blocks * blockSize];
        int next = 0;
        for (int i = 0; i < tables.length; i++) {
            int valid = startPos[i] + chunkRows[i];
            tables[i] = Arrays.copyOfRange(order, next, next + Math.ceilDiv(valid, blockSize));
            next += tables[i].length;
            for (int p = 0; p < valid; p++) kept[tables[i][p / blockSize] * blockSize + p % blockSize] = true;
        }
        Both[] kv = new Both[2];
        for (int n = 0; n < 2; n++) {
            float[] v = random(blocks * blockSize * kvWidth);
            for (int r = 0; r < kept.length; r++) if (!kept[r]) Arrays.fill(v, r * kvWidth, (r + 1) * kvWidth, Float.NaN);
            kv[n] = input(cache, v, blocks * blockSize, kvWidth);
        }
        return new Paged(kv[0], kv[1], blockSize, tables);
    }

    /** Block size of the paged checks: small, so that a chunk crosses many blocks (and the CPU's 64-position tiles). */
    public static final int BLOCK = 4;

    public void storeKeysValues(DType cache, int[] chunkRows, int[] startPos, int kvWidth) {
        int T = sum(chunkRows);
        Both k = input(DType.F32, random(T * kvWidth), T, kvWidth), v = input(DType.F32, random(T * kvWidth), T, kvWidth);
        Paged c = paged(cache, chunkRows, startPos, kvWidth, BLOCK);
        b.storeKeysValues(k.got, v.got, c.got(), chunkRows, startPos);
        ref.storeKeysValues(k.want, v.want, c.want(), chunkRows, startPos);
        compareBytes("storeKeysValues", c.keys, cache + " key pool, " + chunkRows.length + " chunks");
        compareBytes("storeKeysValues", c.values, cache + " value pool, " + chunkRows.length + " chunks");
        free(k, v, c.keys, c.values);
    }

    /**
     * Queries {@code [T, heads·hd]} at positions start.. over one contiguous cache of start + T + 3 rows (the rows
     * past start + T NaN: a causal kernel never reads there).
     */
    public void attention(DType cache, int heads, int kvHeads, int hd, int start, int T) {
        Both q = input(DType.F32, random(T * heads * hd), T, heads * hd), out = output(DType.F32, T, heads * hd);
        int valid = start + T, rows = valid + 3, kvWidth = kvHeads * hd;
        Both[] kv = new Both[2];
        for (int n = 0; n < 2; n++) {
            float[] v = random(rows * kvWidth);
            Arrays.fill(v, valid * kvWidth, v.length, Float.NaN);
            kv[n] = input(cache, v, rows, kvWidth);
        }
        b.attention(q.got, kv[0].got, kv[1].got, heads, kvHeads, hd, start, out.got);
        ref.attention(q.want, kv[0].want, kv[1].want, heads, kvHeads, hd, start, out.want);
        compare("attention", out, SUMS, cache + " heads=" + heads + " kvHeads=" + kvHeads + " hd=" + hd + " start=" + start + " T=" + T);
        free(q, out, kv[0], kv[1]);
    }

    /**
     * Batched attention: chunk i of {@code chunkRows[i]} rows at positions startPos[i].. over its own positions of a
     * paged cache with random block tables ({@link #paged}).
     */
    public void attention(DType cache, int[] chunkRows, int[] startPos, int heads, int kvHeads, int hd) {
        int T = sum(chunkRows);
        Both q = input(DType.F32, random(T * heads * hd), T, heads * hd), out = output(DType.F32, T, heads * hd);
        Paged c = paged(cache, chunkRows, startPos, kvHeads * hd, BLOCK);
        b.attention(q.got, c.got(), chunkRows, startPos, heads, kvHeads, hd, out.got);
        ref.attention(q.want, c.want(), chunkRows, startPos, heads, kvHeads, hd, out.want);
        compare("attention (paged)", out, SUMS, cache + " " + chunkRows.length + " chunks heads=" + heads + " kvHeads=" + kvHeads + " hd=" + hd);
        free(q, out, c.keys, c.values);
    }

    /**
     * Attention cases, {heads, kvHeads, headDim, startPos, T}: decode (T < 16) with one and several key splits per
     * query; prefill (T ≥ 16) from position 0 and over a filled cache; a group of 7 (a row's queries straddle the
     * CPU's lane groups), head dims whose weighted sums leave one-vector and one-float leftovers (20, 80); head dim
     * 256 (more than 48 KiB of shared memory on CUDA); 64 heads × 2 queries in 8 splits of 38 keys; 4,301 keys on 2
     * heads in 253 splits; 200 rows in several blocks of a prompt crossing tiles of 64 positions.
     */
    public static final int[][] ATTENTION_CASES = {{6, 2, 20, 9, 4}, {4, 1, 128, 300, 1}, {4, 4, 32, 0, 1}, {6, 2, 20, 0, 40},
            {4, 2, 64, 50, 17}, {2, 2, 256, 3, 20}, {8, 2, 128, 130, 15}, {64, 8, 32, 299, 2}, {2, 1, 32, 4300, 1},
            {7, 1, 80, 3, 67}, {14, 2, 20, 61, 200}, {8, 2, 64, 0, 1}, {8, 8, 80, 130, 1}};

    /** {@link #attention(DType, int[], int[], int, int, int)} of a decode step: B sequences of one row each. */
    public void decodeAttention(DType cache, int B, int heads, int kvHeads, int hd) {
        attention(cache, ones(B), decodePositions(B), heads, kvHeads, hd);
    }

    /** n ones: the chunk sizes of a decode step. */
    public static int[] ones(int n) {
        int[] a = new int[n];
        Arrays.fill(a, 1);
        return a;
    }

    /** Decode positions of n sequences, spread over 0..149 (0 included: a first token). */
    public static int[] decodePositions(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = (i * 37) % 150;
        return p;
    }

    /** Gate values spread over [-12, 12) (silu's curved part and both tails). */
    public void siluMul(int n, boolean inPlace) {
        float[] g = random(n);
        for (int i = 0; i < n; i++) g[i] *= 12;
        Both gate = input(DType.F32, g, 1, n), up = input(DType.F32, random(n), 1, n);
        Both out = inPlace ? gate : output(DType.F32, 1, n);
        b.siluMul(gate.got, up.got, out.got);
        ref.siluMul(gate.want, up.want, out.want);
        compare("siluMul", out, EXP, "n=" + n + (inPlace ? " in place" : ""));
        free(gate, up);
        if (!inPlace) free(out);
    }

    public void add(int n) {
        Both x = input(DType.F32, random(n), 1, n), y = input(DType.F32, random(n), 1, n);
        b.add(x.got, y.got);
        ref.add(x.want, y.want);
        compare("add", x, EXACT, "n=" + n);
        free(x, y);
    }

    private static int sum(int[] a) { return Arrays.stream(a).sum(); }
}
