package dev.rast.engine.model;

import dev.rast.engine.config.ModelConfig;
import dev.rast.engine.config.RopeScaling;

/**
 * Rotary-embedding frequencies and the cos/sin tables for positions [0, maxPos).
 *
 * <p>Computed in f32 the way Hugging Face does (inverse frequencies in f32, angle = f32(pos · inv_freq)), so
 * logits match to ~1e-6. The llama3 scaling is Meta's rule: wavelengths longer than
 * original_max / low_freq_factor are slowed by {@code factor}, shorter than original_max / high_freq_factor are
 * kept, and the band between is a linear blend in "cycles per original context".
 */
public final class RopeTable {
    private RopeTable() {}

    public static float[] inverseFrequencies(int headDim, double theta, RopeScaling s) {
        int half = headDim / 2;
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / headDim;
            inv[i] = (float) (1.0 / Math.pow(theta, exponent));
        }
        switch (s.type()) {
            case "default" -> {}
            case "linear" -> { for (int i = 0; i < half; i++) inv[i] = (float) (inv[i] / s.factor()); }
            case "llama3" -> {
                double oldCtx = s.originalMaxPositionEmbeddings();
                double lowFreqWavelen = oldCtx / s.lowFreqFactor();
                double highFreqWavelen = oldCtx / s.highFreqFactor();
                for (int i = 0; i < half; i++) {
                    double f = inv[i];
                    double wavelen = 2 * Math.PI / f;
                    if (wavelen > lowFreqWavelen) {
                        inv[i] = (float) (f / s.factor());
                    } else if (wavelen >= highFreqWavelen) {
                        double smooth = (oldCtx / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
                        inv[i] = (float) ((1 - smooth) * f / s.factor() + smooth * f);
                    }
                }
            }
            default -> throw new IllegalArgumentException("rope scaling " + s.type());
        }
        return inv;
    }

    /** cos and sin, each {@code [maxPos × headDim/2]} row-major, as f32. */
    public static float[][] tables(ModelConfig c, int maxPos) {
        float[] inv = inverseFrequencies(c.headDim(), c.ropeTheta(), c.ropeScaling());
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
