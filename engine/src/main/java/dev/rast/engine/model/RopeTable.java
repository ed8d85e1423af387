package dev.rast.engine.model;

import dev.rast.engine.BadInputException;
import dev.rast.engine.config.ModelConfig;

/**
 * Rotary-embedding frequencies and the cos/sin tables for positions [0, maxPos).
 *
 * <p>Computed in f32 the way Hugging Face does (inverse frequencies in f32, angle = f32(pos · inv_freq)), so
 * logits match to ~1e-6. Scaling rules every family shares ("default", "linear") are here; a family's own rule
 * lives in its module (Llama 3.1's "llama3" in model-llama3) and starts from {@link #unscaled}.
 */
public final class RopeTable {
    private RopeTable() {}

    /** θ^(−2i/d) for i in [0, d/2): the frequencies before any scaling. */
    public static float[] unscaled(int headDim, double theta) {
        int half = headDim / 2;
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / headDim;
            inv[i] = (float) (1.0 / Math.pow(theta, exponent));
        }
        return inv;
    }

    /** The config's frequencies with the shared scaling rules; a rule a family did not handle is refused by name. */
    public static float[] inverseFrequencies(ModelConfig c) {
        float[] inv = unscaled(c.headDim(), c.ropeTheta());
        switch (c.ropeScaling().type()) {
            case "default" -> {}
            case "linear" -> { for (int i = 0; i < inv.length; i++) inv[i] = (float) (inv[i] / c.ropeScaling().factor()); }
            default -> throw new BadInputException(c.file() + ": RoPE scaling type '" + c.ropeScaling().type()
                    + "' is not supported for " + c.architecture());
        }
        return inv;
    }

    /** cos and sin, each {@code [maxPos × inv.length]} row-major, as f32. */
    public static float[][] tables(float[] inv, int maxPos) {
        int half = inv.length;
        float[] cos = new float[maxPos * half], sin = new float[maxPos * half];
        for (int p = 0; p < maxPos; p++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) p * inv[i];
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
        return new float[][] {cos, sin};
    }
}
