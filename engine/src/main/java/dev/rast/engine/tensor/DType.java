package dev.rast.engine.tensor;

import java.util.Locale;
import java.util.Optional;

/**
 * Element types the engine stores. Weights stay in their stored type; activations and math are F32.
 *
 * <p>Two are block-quantized ({@link #quantized}), for weight matrices only ({@code --dtype q8_0 / q4_0}): each row is
 * cut into blocks of {@link #blockSize} elements along the input dimension, stored as llama.cpp's Q8_0 and Q4_0
 * blocks are: an F16 scale, then the block's quantized values ({@link QuantBlocks} has the rules). A row whose length
 * is not a multiple of 32 ends in a block padded with zeros. They are dtypes, not another kind of tensor, so that a
 * quantized weight is a {@link Tensor} like any other (rows, byte sizes, views) and each backend dispatches on the
 * dtype where it dispatches on BF16 today: in one place.
 */
public enum DType {
    F32(1, 4, "F32"),
    F16(1, 2, "F16"),
    BF16(1, 2, "BF16"),
    /** Blocks of 32: an F16 scale d, then 32 int8 values q; the weight is q·d. 34 bytes per block. */
    Q8_0(32, 34, null),
    /** Blocks of 32: an F16 scale d, then 16 bytes of 4-bit values q (element j low nibble, j+16 high); the weight is (q−8)·d. 18 bytes. */
    Q4_0(32, 18, null);

    private final int blockSize, blockBytes;
    private final String safetensorsName;

    DType(int blockSize, int blockBytes, String safetensorsName) {
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
        this.safetensorsName = safetensorsName;
    }

    /** Bytes per element of an unquantized dtype; a quantized one has none (see {@link #rowBytes}). */
    public int bytes() {
        if (quantized()) throw new IllegalStateException(this + " has no per-element size; use rowBytes");
        return blockBytes;
    }

    /** Q8_0 and Q4_0: elements stored in blocks with a scale each. */
    public boolean quantized() { return blockSize > 1; }

    /** Elements per block: 1, or 32 for the quantized dtypes. */
    public int blockSize() { return blockSize; }

    /** Bytes per block (per element for an unquantized dtype). */
    public int blockBytes() { return blockBytes; }

    /** Bytes of one row of {@code cols} elements (the last block padded). */
    public long rowBytes(long cols) { return (cols + blockSize - 1) / blockSize * blockBytes; }

    /** Bytes of a tensor of {@code shape}: its rows (every dimension but the last) × {@link #rowBytes} of the last. */
    public long byteSize(int... shape) {
        if (shape.length == 0) return rowBytes(1);
        long rows = 1;
        for (int i = 0; i < shape.length - 1; i++) rows *= shape[i];
        return rows * rowBytes(shape[shape.length - 1]);
    }

    /** Bytes per element on average, padding aside (1.0625 for Q8_0, 0.5625 for Q4_0): for sizing plans. */
    public double bytesPerElement() { return (double) blockBytes / blockSize; }

    public String safetensorsName() { return safetensorsName; }

    /** The safetensors dtype string ("F32", "BF16", ...) if it is one we compute with. */
    public static Optional<DType> fromSafetensors(String name) {
        for (DType d : values()) if (name.equals(d.safetensorsName)) return Optional.of(d);
        return Optional.empty();
    }

    /** Hugging Face torch_dtype / dtype names: "float32", "bfloat16", "float16". */
    public static Optional<DType> fromTorchName(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "float32", "float", "fp32", "f32" -> Optional.of(F32);
            case "bfloat16", "bf16" -> Optional.of(BF16);
            case "float16", "half", "fp16", "f16" -> Optional.of(F16);
            default -> Optional.empty();
        };
    }

    /** The torch dtype name; for the quantized dtypes, llama.cpp's name (torch has none). */
    public String torchName() {
        return switch (this) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            case Q8_0 -> "q8_0";
            case Q4_0 -> "q4_0";
        };
    }

    /** Round-to-nearest-even f32 → bf16 bits, as torch does; NaN stays NaN. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    public static float bf16ToFloat(short b) {
        return Float.intBitsToFloat((b & 0xFFFF) << 16);
    }
}
