package dev.rast.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import dev.rast.engine.weights.SafeTensorsFile;
import java.io.RandomAccessFile;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsFileTest {
    @TempDir Path tmp;

    /**
     * A 3 GiB file (sparse on disk) whose second tensor starts past 2^31: offsets must be longs end to end, and the
     * view must read the bytes at that position zero-copy in the stored dtype.
     */
    @Test
    void tensorsPastTwoGibibytesAreReadInPlace() throws Exception {
        long big = 3L << 30, bigElements = big / 2; // a BF16 tensor of 1.5 Gi elements fills the first 3 GiB
        String header = "{\"big\":{\"dtype\":\"BF16\",\"shape\":[" + bigElements + "],\"data_offsets\":[0," + big + "]},"
                + "\"tail\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" + big + "," + (big + 8) + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Path f = tmp.resolve("big.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            raf.write(h);
            long dataStart = 8 + h.length;
            raf.setLength(dataStart + big + 8);
            raf.seek(dataStart + big);
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2.25f).array());
            raf.seek(dataStart + big - 2);
            raf.write(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort(DType.floatToBf16(3.0f)).array());
        }
        try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
            Tensor tail = st.tensor("tail");
            assertEquals(DType.F32, tail.dtype());
            // The data section here is not 4-byte aligned (the header is not padded): views must still read it.
            assertArrayEquals(new float[] {1.5f, -2.25f}, new float[] {
                    tail.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 0), tail.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 1)});
            Tensor b = st.tensor("big");
            assertEquals(DType.BF16, b.dtype());
            assertEquals(big, b.data().byteSize());
            assertEquals(3.0f, DType.bf16ToFloat(b.data().get(ValueLayout.JAVA_SHORT_UNALIGNED, big - 2)));
        }
    }

    @Test
    void bf16RoundingMatchesTorch() {
        // torch.tensor([1.00390625, 1.01171875, -3.3e38]).bfloat16(): round half to even, overflow to inf.
        assertEquals(1.0f, DType.bf16ToFloat(DType.floatToBf16(1.00390625f)));       // halfway, rounds to even (down)
        assertEquals(1.015625f, DType.bf16ToFloat(DType.floatToBf16(1.01171875f)));  // halfway, rounds to even (up)
        assertEquals(Float.NEGATIVE_INFINITY, DType.bf16ToFloat(DType.floatToBf16(-3.4e38f)));
    }
}
