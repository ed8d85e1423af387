package dev.rast.engine.math;

import jdk.incubator.vector.FloatVector;

/**
 * Lane sums in a fixed order. {@code reduceLanes(ADD)} on floats leaves the order open, and HotSpot uses one order
 * when the code is compiled and another when it is interpreted, so a dot product (and the logits after it) changed in
 * the last bits when the JIT kicked in. Seeded sampling must give the same tokens on every run, so every float
 * reduction in the kernels goes through here: halves are added pairwise (lane i + lane i + L/2, then again on the low
 * half), each step an exactly rounded lanewise add.
 */
public final class Lanes {
    private Lanes() {}

    public static float sum(FloatVector v) {
        for (int half = v.length() / 2; half >= 1; half /= 2) v = v.add(v.slice(half));
        return v.lane(0);
    }
}
