package dev.rast.kernels.cpu;

import dev.rast.engine.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Row-wise Vector API kernels on F32 activations. Each handles a range of rows so the caller can split work. */
final class VectorOps {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private VectorOps() {}

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
