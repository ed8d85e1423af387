package dev.rast.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * Q8_0 and Q4_0 blocks against values worked by hand from llama.cpp's rules (quantize_row_q8_0_ref,
 * quantize_row_q4_0_ref in ggml-quants.c): scales, rounding (halves away from zero for Q8_0, floor(v + 8.5) for Q4_0),
 * the clamp at 15, the sign of the Q4_0 scale, the nibble order, the F16 scale and a padded last block.
 */
class QuantBlocksTest {
    static float[] dequantize(DType dt, float[] x) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(dt.rowBytes(x.length));
            QuantBlocks.quantizeRow(x, x.length, dt, m, 0);
            float[] out = new float[x.length];
            QuantBlocks.dequantizeRow(m, dt, 0, x.length, out, 0);
            return out;
        }
    }

    @Test
    void q8RoundsHalvesAwayFromZeroAtScaleOne() {
        // amax 127: d = 1 exactly (F16 too), 1/d = 1, so q = roundf(x).
        float[] x = new float[32];
        float[] v = {127f, -63.5f, 2.5f, -2.5f, 0.49999997f, 1.4f, -0.6f};
        System.arraycopy(v, 0, x, 0, v.length);
        float[] want = new float[32];
        System.arraycopy(new float[] {127, -64, 3, -3, 0, 1, -1}, 0, want, 0, 7);
        assertArrayEquals(want, dequantize(DType.Q8_0, x));
    }

    @Test
    void q8StoresTheScaleAsF16() {
        float[] x = new float[32];
        x[0] = 1f;      // d = 1/127, stored as F16
        x[1] = -0.5f;   // 0.5 · 127 = 63.5 → -64
        float d = Float.float16ToFloat(Float.floatToFloat16(1f / 127));
        float[] got = dequantize(DType.Q8_0, x);
        assertEquals(127 * d, got[0]);
        assertEquals(-64 * d, got[1]);
        assertEquals(0f, got[2]);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(34);
            QuantBlocks.quantizeRow(x, 32, DType.Q8_0, m, 0);
            assertEquals(Float.floatToFloat16(1f / 127), m.get(ValueLayout.JAVA_SHORT_UNALIGNED, 0));
            assertEquals(127, m.get(ValueLayout.JAVA_BYTE, 2));
            assertEquals(-64, m.get(ValueLayout.JAVA_BYTE, 3));
        }
    }

    @Test
    void q4TakesTheSignedMaximumAndClampsAt15() {
        // m = -16 (the first of largest magnitude): d = 2, 1/d = 0.5; q = min(15, floor(x/2 + 8.5)); w = (q - 8)·2.
        float[] x = new float[32];
        float[] v = {-16f, 16f, 14f, 1f, -1f, 3f, -3f};
        System.arraycopy(v, 0, x, 0, v.length);
        x[20] = 5f;   // high nibble of byte 4: 2.5 + 8.5 = 11 → 6
        float[] want = new float[32];
        // -16 → 0 → -16; 16 → 16.5 → 15 → 14; 14 → 15.5 → 15 → 14; 1 → 9 → 2; -1 → 8 → 0; 3 → 10 → 4; -3 → 7 → -2
        System.arraycopy(new float[] {-16, 14, 14, 2, 0, 4, -2}, 0, want, 0, 7);
        for (int j = 7; j < 32; j++) want[j] = 0;  // 0 → 8.5 → 8 → 0
        want[20] = 6;
        assertArrayEquals(want, dequantize(DType.Q4_0, x));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(18);
            QuantBlocks.quantizeRow(x, 32, DType.Q4_0, m, 0);
            assertEquals(Float.floatToFloat16(2f), m.get(ValueLayout.JAVA_SHORT_UNALIGNED, 0));
            assertEquals((byte) (0 | 8 << 4), m.get(ValueLayout.JAVA_BYTE, 2));        // x[0], x[16]
            assertEquals((byte) (8 | 11 << 4), m.get(ValueLayout.JAVA_BYTE, 2 + 4));     // x[4] = -1 → 8, x[20] = 5 → 11
        }
    }

    @Test
    void q4PositiveMaximumGivesANegativeScale() {
        float[] x = new float[32];
        x[0] = 16f;   // d = -2, 1/d = -0.5
        x[1] = -16f;  // 8 + 8.5 → 15 (clamped) → (15 - 8)·(-2) = -14
        x[2] = 4f;    // -2 + 8.5 = 6.5 → 6 → 4
        float[] got = dequantize(DType.Q4_0, x);
        assertEquals(16f, got[0]);
        assertEquals(-14f, got[1]);
        assertEquals(4f, got[2]);
    }

    @Test
    void aShortLastBlockIsPaddedWithZeros() {
        assertEquals(2 * 34, DType.Q8_0.rowBytes(40));
        assertEquals(2 * 18, DType.Q4_0.rowBytes(33));
        assertEquals(3 * 2 * 34, DType.Q8_0.byteSize(3, 40));
        float[] x = new float[40];
        for (int k = 32; k < 40; k++) x[k] = (k - 35) * 8f;  // -24, -16, ..., 32
        float[] got = dequantize(DType.Q4_0, x);
        // block 2: m = 32 (k = 39), d = -4, 1/d = -0.25: k=32: -24 → 6 + 8.5 → 14 → -24; k=35: 0 → 8 → 0; k=39: 32 → -8 + 8.5 → 0 → 32
        assertEquals(-24f, got[32]);
        assertEquals(0f, got[35], 0f);  // (8 - 8)·(-4) is -0
        assertEquals(32f, got[39]);
        for (int k = 0; k < 32; k++) assertEquals(0f, got[k], 0f);  // d = 0 / -8 is -0: the values are ±0
    }
}
