package dev.rast.engine.math;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * A deterministic f32 exponential for the Vector API (softmax in attention and sampling, SiLU). Same input, same
 * bits, whether the code runs interpreted, C1- or C2-compiled: the Vector API's own EXP is not (compiled it calls
 * SVML, interpreted it calls Math.exp per lane, and the two differ by an ulp), which made logits, and so seeded
 * samples, depend on JIT timing.
 */
public final class VectorExp {
    private VectorExp() {}

    private static final float LOG2E = 1.44269504f;
    private static final float LN2_HI = 0.693145752f;       // ln 2 with its low 12 mantissa bits zero: k·LN2_HI is exact
    private static final float LN2_LO = 1.42860677e-6f;     // ln 2 − LN2_HI
    private static final float ROUNDER = 12582912f;          // 1.5·2^23: adding it rounds to an integer, kept in the low bits

    /**
     * exp(x) from + − × and fused multiply-add only, within 2 ulp of the exact value. Not VectorOperators.EXP: that
     * runs a different implementation when compiled (SVML) than interpreted (Math.exp per lane), so the same row could
     * give weights 1 ulp apart depending on JIT state, and seeded sampling must not depend on that. IEEE +, ×, fma are
     * exactly rounded everywhere, so this gives the same bits whatever the JIT did.
     *
     * <p>x = k·ln2 + r with k = round(x·log2 e) and |r| ≤ ln2/2 (Cody–Waite: ln 2 in two parts); e^r by its Taylor
     * series to r⁷/7! (truncation error below 1e-8 relative); 2^k built in the exponent bits, as 2^(k/2)·2^(k−k/2)
     * so that results below the normal range round correctly to subnormals or to 0 (−∞ is clamped to −110: 0).
     */
    public static FloatVector exp(FloatVector x) {
        x = x.max(-110f).min(88f);
        FloatVector t = x.lanewise(VectorOperators.FMA, LOG2E, ROUNDER);
        FloatVector k = t.sub(ROUNDER);
        IntVector ki = t.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUNDER));
        FloatVector r = k.lanewise(VectorOperators.FMA, -LN2_HI, x);
        r = k.lanewise(VectorOperators.FMA, -LN2_LO, r);
        FloatVector p = FloatVector.broadcast(x.species(), 1f / 5040f);
        p = p.lanewise(VectorOperators.FMA, r, FloatVector.broadcast(x.species(), 1f / 720f));
        p = p.lanewise(VectorOperators.FMA, r, FloatVector.broadcast(x.species(), 1f / 120f));
        p = p.lanewise(VectorOperators.FMA, r, FloatVector.broadcast(x.species(), 1f / 24f));
        p = p.lanewise(VectorOperators.FMA, r, FloatVector.broadcast(x.species(), 1f / 6f));
        p = p.lanewise(VectorOperators.FMA, r, FloatVector.broadcast(x.species(), 0.5f));
        p = p.lanewise(VectorOperators.FMA, r, FloatVector.broadcast(x.species(), 1f));
        p = p.lanewise(VectorOperators.FMA, r, FloatVector.broadcast(x.species(), 1f));
        IntVector k1 = ki.lanewise(VectorOperators.ASHR, 1);
        IntVector k2 = ki.sub(k1);
        FloatVector s1 = k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = k2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(s1).mul(s2);
    }

    /** The same steps on one float, with Math.fma: bit-identical to a lane of {@link #exp(FloatVector)} (for tails). */
    public static float exp(float x) {
        x = Math.min(Math.max(x, -110f), 88f);
        float t = Math.fma(x, LOG2E, ROUNDER);
        float k = t - ROUNDER;
        int ki = Float.floatToRawIntBits(t) - Float.floatToRawIntBits(ROUNDER);
        float r = Math.fma(k, -LN2_HI, x);
        r = Math.fma(k, -LN2_LO, r);
        float p = 1f / 5040f;
        p = Math.fma(p, r, 1f / 720f);
        p = Math.fma(p, r, 1f / 120f);
        p = Math.fma(p, r, 1f / 24f);
        p = Math.fma(p, r, 1f / 6f);
        p = Math.fma(p, r, 0.5f);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        int k1 = ki >> 1, k2 = ki - k1;
        return p * Float.intBitsToFloat((k1 + 127) << 23) * Float.intBitsToFloat((k2 + 127) << 23);
    }
}
