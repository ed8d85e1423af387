package dev.rast.model.llama3;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rast.engine.config.RopeScaling;
import dev.rast.engine.model.RopeTable;
import org.junit.jupiter.api.Test;

class Llama3RopeScalingTest {
    /**
     * Meta's llama3 rule, evaluated by hand for Llama-3.1 (theta 5e5, head_dim 128, factor 8, low 1, high 4,
     * original 8192): wavelength λ_i = 2π·θ^(2i/128). λ < 2048 → unchanged; λ > 8192 → divided by 8;
     * between → (1−s)·f/8 + s·f with s = (8192/λ − 1)/3.
     */
    @Test
    void llama3ScalingFollowsMetasRule() {
        float[] inv = Llama3RopeScaling.apply(RopeTable.unscaled(128, 500000), RopeScaling.llama3(8, 1, 4, 8192));
        assertEquals(1.0f, inv[0], 0f); // λ = 2π: high frequency, kept
        double f20 = Math.pow(500000, -40.0 / 128); // λ ≈ 378: kept
        assertEquals(f20, inv[20], 1e-6 * f20);
        double f63 = Math.pow(500000, -126.0 / 128); // λ ≈ 2.6e6: slowed 8x
        assertEquals(f63 / 8, inv[63], 1e-6 * f63);
        double f45 = Math.pow(500000, -90.0 / 128), lambda = 2 * Math.PI / f45; // λ ≈ 6.5e4 > 8192: slowed
        assertEquals(f45 / 8, inv[45], 1e-6 * f45);
        double f31 = Math.pow(500000, -62.0 / 128), l31 = 2 * Math.PI / f31; // λ ≈ 3680: in the blended band
        double s = (8192 / l31 - 1) / 3;
        assertEquals((1 - s) * f31 / 8 + s * f31, inv[31], 1e-6 * f31);
        assertEquals(true, l31 > 2048 && l31 < 8192 && lambda > 8192);
    }
}
