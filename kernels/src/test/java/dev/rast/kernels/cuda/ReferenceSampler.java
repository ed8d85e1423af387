package dev.rast.kernels.cuda;

import java.util.Arrays;

/**
 * The sampling rule of sampling.cuh, written the obvious way (sorting) as an independent reference: same
 * thresholds, same Philox draw, sums in double. The device finds thresholds by bisection and sums in F32, so the two
 * can differ only when a threshold or the drawn point falls within rounding of a boundary.
 */
final class ReferenceSampler {
    private ReferenceSampler() {}

    static int sample(float[] logits, int vocab, DeviceSampling s, long seed, long step) {
        if (s.temperature() <= 0) {
            int best = 0;
            float bv = Float.NEGATIVE_INFINITY;
            boolean found = false;
            for (int i = 0; i < vocab; i++) {
                float v = logits[i];
                if (Float.isNaN(v)) continue;
                if (!found || v > bv) { bv = v; best = i; found = true; }
            }
            return best;
        }
        float[] z = new float[vocab];
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            z[i] = logits[i] / s.temperature();
            if (Float.isNaN(z[i])) z[i] = Float.NEGATIVE_INFINITY;
            max = Math.max(max, z[i]);
        }
        float threshold = Float.NEGATIVE_INFINITY; // kept: z > −inf and z ≥ threshold
        float[] sorted = z.clone();
        Arrays.sort(sorted); // ascending
        if (s.topK() > 0 && s.topK() < vocab) threshold = Math.max(threshold, sorted[vocab - s.topK()]);
        if (s.topP() > 0 && s.topP() < 1) {
            double total = 0;
            for (float v : z) if (v > Float.NEGATIVE_INFINITY && v >= threshold) total += Math.exp(v - max);
            double run = 0;
            for (int i = vocab - 1; i >= 0; i--) {
                float v = sorted[i];
                if (!(v > Float.NEGATIVE_INFINITY && v >= threshold)) break;
                run += Math.exp(v - max);
                if (run >= s.topP() * total) { threshold = Math.max(threshold, v); break; }
            }
        }
        double[] w = new double[vocab];
        double total = 0;
        for (int i = 0; i < vocab; i++) {
            double p = Math.exp(z[i] - max);
            if (z[i] > Float.NEGATIVE_INFINITY && z[i] >= threshold && p >= Math.max(0, s.minP()) && p > 0) {
                w[i] = p;
                total += p;
            }
        }
        double target = Philox.uniform(seed, step) * total;
        double run = 0;
        int last = 0;
        for (int i = 0; i < vocab; i++) {
            if (w[i] == 0) continue;
            run += w[i];
            last = i;
            if (run > target) return i;
        }
        return last;
    }
}
