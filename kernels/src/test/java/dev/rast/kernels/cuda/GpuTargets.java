package dev.rast.kernels.cuda;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * Where the CUDA backend tests run: "cuda", a real GPU (skipped with the reason where there is none), and
 * "emulator", the CPU emulation of the same kernels (skipped where g++ is missing). {@code -Drast.cuda.targets=cuda}
 * restricts the list (the GPU machine's script does, to spend its time on the GPU).
 */
public final class GpuTargets {
    private GpuTargets() {}

    /** Emulated device memory: plenty for the tests, small enough that asking for more fails fast. */
    public static final long EMULATED_BYTES = 4L << 30;

    public static List<String> targets() {
        return Arrays.stream(System.getProperty("rast.cuda.targets", "cuda,emulator").split(","))
                .map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    /** Why {@code target} cannot run here, or null. */
    public static String unavailableReason(String target) {
        return switch (target) {
            case "cuda" -> CudaDevice.unavailableReason();
            case "emulator" -> EmulatedDevice.unavailableReason();
            default -> "unknown target " + target;
        };
    }

    /** Skips the calling test, with the reason, unless {@code target} can run here. */
    public static void assumeAvailable(String target) {
        String why = unavailableReason(target);
        Assumptions.assumeTrue(why == null, () -> target + " skipped: " + why);
    }

    public static Device device(String target) {
        assumeAvailable(target);
        return target.equals("cuda") ? CudaDevice.open(0) : new EmulatedDevice(EMULATED_BYTES);
    }

    public static CudaBackend backend(String target) { return new CudaBackend(device(target)); }
}
