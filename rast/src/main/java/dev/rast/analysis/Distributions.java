package dev.rast.analysis;

import dev.rast.engine.math.VectorExp;
import dev.rast.engine.sample.LogitMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The per-position figures of the analyses over logits rows: KL divergence and the cosine of two logit deltas. They
 * run once per position and model pair over 152k ids, so with a fast forward pass (a GPU, 128 positions a pass) a
 * scalar double loop with Math.exp (~3 ms a row) would cost more than the models; these use the Vector API with f32
 * element arithmetic (exp within 2 ulp) and sum each block of 1,024 ids in f32 before adding the block into a double,
 * which keeps the result within ~1e-7 of a float64 computation (the reference test allows 1e-5).
 * −∞ logits (RAST's masked padding ids) carry no probability.
 */
public final class Distributions {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final int BLOCK = 1024;

    private Distributions() {}

    /**
     * KL(P ‖ Q) = Σᵥ p(v)·(log p(v) − log q(v)) in nats, each a softmax over its own whole row, summed over the ids
     * both rows have (ids only the longer row has are padding: the other model cannot produce them).
     *
     * <p>With m = max, Z = Σ exp(x − m): log p − log q = (p − q) − (m_p − m_q) − log Z_p + log Z_q, so
     * KL = Σ exp(p − m_p)·(p − q) / Z_p − (m_p − m_q) − log Z_p + log Z_q (the p's summing to 1 over the shared ids;
     * ids past q's row are ones p gives no mass when P is RAST's masked fusion).
     */
    public static double kl(float[] p, float[] q) {
        int n = Math.min(p.length, q.length);
        float mp = LogitMath.max(p, p.length), mq = LogitMath.max(q, q.length);
        double zp = sumExp(p, p.length, mp), zq = sumExp(q, q.length, mq);
        double weighted = 0, mass = 0;
        for (int b = 0; b < n; b += BLOCK) {
            int end = Math.min(n, b + BLOCK);
            FloatVector[] acc = {FloatVector.zero(F), FloatVector.zero(F)}; // Σ w·(p − q), Σ w
            int i = b;
            for (; i <= end - L; i += L) klStep(p, q, i, F.maskAll(true), mp, acc);
            if (i < end) klStep(p, q, i, F.indexInRange(i, end), mp, acc);
            weighted += acc[0].reduceLanes(VectorOperators.ADD);
            mass += acc[1].reduceLanes(VectorOperators.ADD);
        }
        // mass / zp is the share of P on the shared ids (1 unless P has mass past q's row).
        double kl = weighted / zp - (mass / zp) * ((double) mp - mq + Math.log(zp) - Math.log(zq));
        return Math.max(0, kl); // rounding can leave −1e-9 for equal rows
    }

    /** One vector of ids from {@code i} (lanes in {@code in}): adds w·(p − q) and w = exp(p − mp) into acc. */
    private static void klStep(float[] p, float[] q, int i, VectorMask<Float> in, float mp, FloatVector[] acc) {
        FloatVector pv = FloatVector.fromArray(F, p, i, in), qv = FloatVector.fromArray(F, q, i, in);
        FloatVector w = VectorExp.exp(pv.sub(mp));
        // p = −∞ has weight 0 and p − q = −∞: its term is 0, not NaN.
        VectorMask<Float> live = in.and(pv.compare(VectorOperators.NE, Float.NEGATIVE_INFINITY));
        acc[0] = acc[0].add(w.mul(pv.sub(qv)), live);
        acc[1] = acc[1].add(w, live);
    }

    /** cos(a − b, c − d) over ids [0, n): the angle between two pairs' logit deltas (0 when a delta is zero). */
    public static double deltaCosine(float[] a, float[] b, float[] c, float[] d, int n) {
        double dot = 0, x2 = 0, y2 = 0;
        for (int s = 0; s < n; s += BLOCK) {
            int end = Math.min(n, s + BLOCK);
            FloatVector vd = FloatVector.zero(F), vx = FloatVector.zero(F), vy = FloatVector.zero(F);
            int i = s;
            for (; i <= end - L; i += L) {
                FloatVector x = FloatVector.fromArray(F, a, i).sub(FloatVector.fromArray(F, b, i));
                FloatVector y = FloatVector.fromArray(F, c, i).sub(FloatVector.fromArray(F, d, i));
                vd = x.fma(y, vd);
                vx = x.fma(x, vx);
                vy = y.fma(y, vy);
            }
            dot += vd.reduceLanes(VectorOperators.ADD);
            x2 += vx.reduceLanes(VectorOperators.ADD);
            y2 += vy.reduceLanes(VectorOperators.ADD);
            for (; i < end; i++) { // the tail, scalar
                double x = (double) a[i] - b[i], y = (double) c[i] - d[i];
                dot += x * y;
                x2 += x * x;
                y2 += y * y;
            }
        }
        return x2 == 0 || y2 == 0 ? 0 : dot / Math.sqrt(x2 * y2);
    }

    /** Σ exp(a[i] − shift) over [0, n), blocks in f32 added in double. */
    private static double sumExp(float[] a, int n, float shift) {
        double sum = 0;
        for (int b = 0; b < n; b += BLOCK) {
            int end = Math.min(n, b + BLOCK);
            FloatVector acc = FloatVector.zero(F);
            int i = b;
            for (; i <= end - L; i += L) acc = acc.add(VectorExp.exp(FloatVector.fromArray(F, a, i).sub(shift)));
            if (i < end) {
                VectorMask<Float> in = F.indexInRange(i, end);
                acc = acc.add(VectorExp.exp(FloatVector.fromArray(F, a, i, in).sub(shift)), in);
            }
            sum += acc.reduceLanes(VectorOperators.ADD);
        }
        return sum;
    }
}
