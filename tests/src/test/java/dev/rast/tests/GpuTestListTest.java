package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.kernels.cuda.DeviceTestMain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The GPU check (scripts/gpu-check.sh → DeviceTestMain) runs every test class that has tests on the "cuda" target: a
 * class that asks TestBackends or GpuTargets for a GPU and is missing from DeviceTestMain.GPU_TESTS would be run on
 * the emulator only and never on the lent GPU. Also, each listed class exists.
 */
class GpuTestListTest {
    /**
     * Left out on purpose: QuantizedWeightsTest's one cuda case checks a refusal made before anything reaches the
     * device, and the rest of the class is CPU work the GPU check's time is not for.
     */
    static final List<String> NOT_ON_THE_GPU = List.of("dev.rast.tests.QuantizedWeightsTest", "dev.rast.tests.GpuTestListTest");

    @Test
    void everyClassWithCudaTestsIsInTheGpuCheck() throws IOException, ClassNotFoundException {
        for (String c : DeviceTestMain.GPU_TESTS) Class.forName(c);
        Path root = Path.of("").toAbsolutePath();
        while (!Files.isDirectory(root.resolve("kernels/src/test/java"))) root = root.getParent();
        List<String> missing = new ArrayList<>();
        for (String dir : new String[] {"kernels/src/test/java", "tests/src/test/java"})
            try (Stream<Path> files = Files.walk(root.resolve(dir))) {
                for (Path f : files.filter(p -> p.toString().endsWith("Test.java")).toList()) {
                    String src = Files.readString(f);
                    boolean cuda = src.contains("GpuTargets#targets") || src.contains("GpuTargets.targets()");
                    String name = root.resolve(dir).relativize(f).toString().replace('/', '.').replaceAll("\\.java$", "");
                    if (cuda && !DeviceTestMain.GPU_TESTS.contains(name) && !NOT_ON_THE_GPU.contains(name)) missing.add(name);
                }
            }
        assertTrue(missing.isEmpty(), "test classes with tests on the cuda target that the GPU check does not run: " + missing);
    }
}
