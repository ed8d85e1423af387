package dev.rast.engine.weights;

import dev.rast.engine.tensor.DType;
import java.nio.file.Path;
import java.util.Arrays;

/** One tensor's header entry: where it lives, its dtype and shape, and its byte span inside the data section. */
public record TensorInfo(Path file, String name, DType dtype, int[] shape, long begin, long end) {
    public long numel() {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    public String shapeString() { return Arrays.toString(shape); }
}
