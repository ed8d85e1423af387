package dev.rast.kernels.cpu;

import dev.rast.engine.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** Row-wise Vector API kernels on F32 activations. Each handles a range of rows so the caller can split work. */
final class VectorOps {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** Shorts as many as F has floats: one BF16 vector widens to one F32 vector. */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));

    private VectorOps() {}

    /**
     * {@code n} floats from byte offset {@code srcOff} rounded to BF16 at byte offset {@code dstOff}: round to nearest
     * even, NaN kept quiet, as {@link DType#floatToBf16} (which the tail uses, so both paths give the same bits).
     */
    static void toBf16(MemorySegment src, long srcOff, MemorySegment dst, long dstOff, long n) {
        long i = 0;
        for (; i <= n - L; i += L) {
            IntVector b = IntVector.fromMemorySegment(I, src, srcOff + 4 * i, LE);
            IntVector rounded = b.add(b.lanewise(VectorOperators.LSHR, 16).and(1).add(0x7FFF)).lanewise(VectorOperators.LSHR, 16);
            VectorMask<Integer> nan = b.and(0x7FFFFFFF).compare(VectorOperators.GT, 0x7F800000);
            IntVector r = rounded.blend(b.lanewise(VectorOperators.LSHR, 16).or(0x40), nan);
            r.convertShape(VectorOperators.I2S, S, 0).intoMemorySegment(dst, dstOff + 2 * i, LE);
        }
        for (; i < n; i++)
            dst.set(ValueLayout.JAVA_SHORT_UNALIGNED, dstOff + 2 * i, DType.floatToBf16(src.get(FLOAT, srcOff + 4 * i)));
    }

    /** One vector of F's length widened from BF16 at byte offset {@code off}: exact (the bits move up 16 places). */
    static FloatVector bf16Vector(MemorySegment m, long off) {
        return ((IntVector) ShortVector.fromMemorySegment(S, m, off, LE).convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** Weight vectors (norm scales, biases) widened to F32 once per call. */
    static float[] widen(MemorySegment w, DType dt, int n) {
        float[] out = new float[n];
        MatMul.widenRow(w, dt, 0, n, out, 0);
        return out;
    }

    static void rmsNorm(MemorySegment x, float[] weight, float eps, MemorySegment out, int row, int D) {
        long base = (long) row * D * 4;
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i <= D - L; i += L) {
            FloatVector v = FloatVector.fromMemorySegment(F, x, base + 4L * i, LE);
            acc = v.fma(v, acc);
        }
        float ss = dev.rast.engine.math.Lanes.sum(acc);
        for (; i < D; i++) {
            float v = x.get(FLOAT, base + 4L * i);
            ss += v * v;
        }
        float inv = (float) (1.0 / Math.sqrt(ss / D + eps));
        i = 0;
        for (; i <= D - L; i += L) {
            FloatVector v = FloatVector.fromMemorySegment(F, x, base + 4L * i, LE);
            v.mul(inv).mul(FloatVector.fromArray(F, weight, i)).intoMemorySegment(out, base + 4L * i, LE);
        }
        for (; i < D; i++) out.set(FLOAT, base + 4L * i, x.get(FLOAT, base + 4L * i) * inv * weight[i]);
    }

    /** {@code x[i] += y[i]} over elements [from, to). */
    static void add(MemorySegment x, MemorySegment y, long from, long to) {
        long i = from;
        for (; i <= to - L; i += L) {
            FloatVector a = FloatVector.fromMemorySegment(F, x, 4 * i, LE);
            a.add(FloatVector.fromMemorySegment(F, y, 4 * i, LE)).intoMemorySegment(x, 4 * i, LE);
        }
        for (; i < to; i++) x.set(FLOAT, 4 * i, x.get(FLOAT, 4 * i) + y.get(FLOAT, 4 * i));
    }

    static void addBias(MemorySegment x, float[] bias, int row, int N) {
        long base = (long) row * N * 4;
        int i = 0;
        for (; i <= N - L; i += L) {
            FloatVector a = FloatVector.fromMemorySegment(F, x, base + 4L * i, LE);
            a.add(FloatVector.fromArray(F, bias, i)).intoMemorySegment(x, base + 4L * i, LE);
        }
        for (; i < N; i++) x.set(FLOAT, base + 4L * i, x.get(FLOAT, base + 4L * i) + bias[i]);
    }

    /** {@code out = gate · sigmoid(gate) · up} over elements [from, to). */
    static void siluMul(MemorySegment gate, MemorySegment up, MemorySegment out, long from, long to) {
        long i = from;
        for (; i <= to - L; i += L) {
            FloatVector g = FloatVector.fromMemorySegment(F, gate, 4 * i, LE);
            FloatVector u = FloatVector.fromMemorySegment(F, up, 4 * i, LE);
            FloatVector sig = dev.rast.engine.math.VectorExp.exp(g.neg()).add(1f);
            g.div(sig).mul(u).intoMemorySegment(out, 4 * i, LE);
        }
        for (; i < to; i++) {
            float g = gate.get(FLOAT, 4 * i);
            out.set(FLOAT, 4 * i, (g / (1f + dev.rast.engine.math.VectorExp.exp(-g))) * up.get(FLOAT, 4 * i));
        }
    }

    /** Rotates the half-split pairs (i, i + half) of every head of one row at position {@code pos}. */
    static void rope(MemorySegment x, int row, int width, int headDim, MemorySegment cos, MemorySegment sin, int pos) {
        int half = headDim / 2;
        long tbl = (long) pos * half * 4;
        for (int h = 0; h < width / headDim; h++) {
            long base = ((long) row * width + (long) h * headDim) * 4;
            int i = 0;
            for (; i <= half - L; i += L) {
                FloatVector a = FloatVector.fromMemorySegment(F, x, base + 4L * i, LE);
                FloatVector b = FloatVector.fromMemorySegment(F, x, base + 4L * (i + half), LE);
                FloatVector c = FloatVector.fromMemorySegment(F, cos, tbl + 4L * i, LE);
                FloatVector s = FloatVector.fromMemorySegment(F, sin, tbl + 4L * i, LE);
                a.mul(c).sub(b.mul(s)).intoMemorySegment(x, base + 4L * i, LE);
                b.mul(c).add(a.mul(s)).intoMemorySegment(x, base + 4L * (i + half), LE);
            }
            for (; i < half; i++) {
                float a = x.get(FLOAT, base + 4L * i), b = x.get(FLOAT, base + 4L * (i + half));
                float c = cos.get(FLOAT, tbl + 4L * i), s = sin.get(FLOAT, tbl + 4L * i);
                x.set(FLOAT, base + 4L * i, a * c - b * s);
                x.set(FLOAT, base + 4L * (i + half), b * c + a * s);
            }
        }
    }

    static float dot(MemorySegment a, long aOff, MemorySegment b, long bOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L)
            acc = FloatVector.fromMemorySegment(F, a, aOff + 4L * i, LE)
                    .fma(FloatVector.fromMemorySegment(F, b, bOff + 4L * i, LE), acc);
        float s = dev.rast.engine.math.Lanes.sum(acc);
        for (; i < n; i++) s += a.get(FLOAT, aOff + 4L * i) * b.get(FLOAT, bOff + 4L * i);
        return s;
    }
}
