package dev.rast.engine.math;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Finds NaN and infinite values in a row: one vector pass when there are none, the usual case. */
public final class Finite {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private Finite() {}

    /** The index of the first value of {@code a} that is NaN or ±∞, or −1 when every value is finite. */
    public static int firstNonFinite(float[] a) {
        // x − x is 0 for a finite x and NaN for NaN and ±∞; a NaN lane stays NaN through the adds.
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i <= a.length - F.length(); i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, a, i);
            acc = acc.add(v.sub(v));
        }
        float tail = 0;
        for (int j = i; j < a.length; j++) tail += a[j] - a[j];
        if (!acc.test(VectorOperators.IS_NAN).anyTrue() && !Float.isNaN(tail)) return -1;
        for (int j = 0; j < a.length; j++) if (!Float.isFinite(a[j])) return j;
        return -1;
    }
}
