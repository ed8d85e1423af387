package dev.rast.engine.weights;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.rast.engine.BadInputException;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** --dtype's conversions, on bit patterns worked out by hand. */
class WeightCastTest {
    static final java.lang.foreign.Arena ARENA = java.lang.foreign.Arena.ofShared();  // for the test's life

    static Tensor f32Bits(int... bits) { return new Tensor(DType.F32, new int[] {bits.length}, MemorySegment.ofArray(bits)); }

    static Tensor halves(DType t, int... bits) {
        short[] s = new short[bits.length];
        for (int i = 0; i < s.length; i++) s[i] = (short) bits[i];
        return new Tensor(t, new int[] {bits.length}, MemorySegment.ofArray(s));
    }

    static int[] bf16Bits(Tensor t) {
        assertEquals(DType.BF16, t.dtype());
        short[] s = t.data().toArray(JAVA_SHORT);
        int[] out = new int[s.length];
        for (int i = 0; i < s.length; i++) out[i] = s[i] & 0xFFFF;
        return out;
    }

    @Test
    void f32ToBf16RoundsToNearestEven() {
        Tensor t = WeightCast.to(DType.BF16, ARENA, f32Bits(
                0x3F800000,   // 1.0: exact
                0x3F808000,   // halfway between 0x3F80 and 0x3F81: to the even 0x3F80
                0x3F818000,   // halfway between 0x3F81 and 0x3F82: to the even 0x3F82
                0x3F808001,   // just above halfway: up
                0x7F7FFFFF,   // Float.MAX_VALUE rounds past the largest BF16: +inf
                0x7FC00000,   // NaN stays NaN
                0x80000000)); // −0 keeps its sign
        assertArrayEquals(new int[] {0x3F80, 0x3F80, 0x3F82, 0x3F81, 0x7F80, 0x7FC0, 0x8000}, bf16Bits(t));
    }

    @Test
    void f16ConvertsThroughItsValue() {
        // 0x3C00 = 1.0, 0x7BFF = 65504 (largest F16), 0x0001 = 2^-24 (smallest subnormal), 0xC200 = −3.0
        Tensor f = WeightCast.to(DType.F32, ARENA, halves(DType.F16, 0x3C00, 0x7BFF, 0x0001, 0xC200));
        assertArrayEquals(new float[] {1f, 65504f, 0x1p-24f, -3f}, f.data().toArray(JAVA_FLOAT));
        // 65504 = 0x477FE000: the dropped half 0xE000 is above halfway, so 0x4780 (65536); 2^-24 = 0x33800000 exact
        Tensor b = WeightCast.to(DType.BF16, ARENA, halves(DType.F16, 0x3C00, 0x7BFF, 0x0001, 0xC200));
        assertArrayEquals(new int[] {0x3F80, 0x4780, 0x3380, 0xC040}, bf16Bits(b));
    }

    @Test
    void bf16WidensExactlyAndSameDtypeIsNoCopy() {
        Tensor w = WeightCast.to(DType.F32, ARENA, halves(DType.BF16, 0xC040, 0x3F81, 0x7F80));
        assertArrayEquals(new int[] {0xC0400000, 0x3F810000, 0x7F800000}, w.data().toArray(JAVA_INT));
        Tensor same = halves(DType.BF16, 1, 2);
        assertSame(same, WeightCast.to(DType.BF16, ARENA, same));
    }

    /** More than one parallel block (2^20 elements), shape kept; element i holds i, whose BF16 is known by hand. */
    @Test
    void manyBlocksConvertEveryElement() {
        int n = (1 << 20) + 4;  // 5 × 209,716
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = i;
        Tensor t = WeightCast.to(DType.BF16, ARENA, new Tensor(DType.F32, new int[] {5, n / 5}, MemorySegment.ofArray(v)));
        assertArrayEquals(new int[] {5, n / 5}, t.shape());
        int[] b = bf16Bits(t);
        assertEquals(n, b.length);
        assertEquals(0x4380, b[256]);      // 256 exact
        assertEquals(0x4380, b[257]);      // 257 = 0x43808000: halfway, to even 256
        assertEquals(0x4382, b[259]);      // 259 = 0x43818000: halfway, to even 260
        assertEquals(0x4980, b[1 << 20]);  // 2^20
        assertEquals(0x4980, b[(1 << 20) + 3]);  // 2^20 + 3 = 0x49800018: far below halfway
    }

    @Test
    void theOptionNamesItsChoices() {
        assertEquals(WeightDtype.BF16, WeightDtype.parse("--dtype", "BF16"));
        assertEquals(DType.F16, WeightDtype.AUTO.resolve(DType.F16));
        assertEquals(DType.BF16, WeightDtype.BF16.resolve(DType.F32));
        var e = org.junit.jupiter.api.Assertions.assertThrows(BadInputException.class, () -> WeightDtype.parse("--dtype", "half"));
        assertEquals("--dtype must be auto, f32, bf16, q8_0 or q4_0, is 'half'", e.getMessage());
    }
}
