package dev.rast.model.llama3;

import dev.rast.engine.config.ModelConfig;
import dev.rast.engine.config.RopeScaling;
import dev.rast.engine.model.RopeTable;

/**
 * Meta's "llama3" rotary scaling, which Llama 3.1 needs for its 128k context: wavelengths longer than
 * original_max / low_freq_factor are slowed by {@code factor}, those shorter than original_max / high_freq_factor
 * are kept, and the band between is a linear blend in "cycles per original context". Computed in double from the
 * f32 unscaled frequencies, then rounded to f32, as Hugging Face does.
 */
public final class Llama3RopeScaling {
    private Llama3RopeScaling() {}

    /** The config's frequencies: the llama3 rule when its rope_scaling names it, else the shared rules. */
    public static float[] inverseFrequencies(ModelConfig c) {
        if (!c.ropeScaling().type().equals("llama3")) return RopeTable.inverseFrequencies(c);
        return apply(RopeTable.unscaled(c.headDim(), c.ropeTheta()), c.ropeScaling());
    }

    static float[] apply(float[] unscaled, RopeScaling s) {
        float[] inv = unscaled.clone();
        double oldCtx = s.originalMaxPositionEmbeddings();
        double lowFreqWavelen = oldCtx / s.lowFreqFactor();
        double highFreqWavelen = oldCtx / s.highFreqFactor();
        for (int i = 0; i < inv.length; i++) {
            double f = inv[i];
            double wavelen = 2 * Math.PI / f;
            if (wavelen > lowFreqWavelen) {
                inv[i] = (float) (f / s.factor());
            } else if (wavelen >= highFreqWavelen) {
                double smooth = (oldCtx / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
                inv[i] = (float) ((1 - smooth) * f / s.factor() + smooth * f);
            }
        }
        return inv;
    }
}
