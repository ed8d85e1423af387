package dev.rast.engine.tensor;

import java.util.Locale;
import java.util.Optional;

/** Element types the engine stores. Weights stay in their stored type; activations and math are F32. */
public enum DType {
    F32(4, "F32"),
    F16(2, "F16"),
    BF16(2, "BF16");

    private final int bytes;
    private final String safetensorsName;

    DType(int bytes, String safetensorsName) {
        this.bytes = bytes;
        this.safetensorsName = safetensorsName;
    }

    public int bytes() { return bytes; }

    public String safetensorsName() { return safetensorsName; }

    /** The safetensors dtype string ("F32", "BF16", ...) if it is one we compute with. */
    public static Optional<DType> fromSafetensors(String name) {
        for (DType d : values()) if (d.safetensorsName.equals(name)) return Optional.of(d);
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

    public String torchName() {
        return switch (this) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
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
