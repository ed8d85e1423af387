package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.cli.Main;
import dev.rast.kernels.cuda.CudaDevice;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@code --device}: the default "auto" takes the GPU when one is usable and the CPU otherwise, silently; asking for
 * cuda where there is none is one clear line with exit status 2.
 */
class DeviceOptionTest {
    @Test
    void autoFallsBackToTheCpuWithoutAWordAndCudaSaysWhyItCannotRun() {
        String why = CudaDevice.unavailableReason();
        Assumptions.assumeTrue(why != null, "a GPU is present: the GPU tests cover --device cuda");
        String model = Fixtures.reference("qwen2-f32").toString();
        Cli.Result auto = Cli.rast("forward", "--model", model, "--tokens", "1,2", "--threads", "1");
        assertEquals(0, auto.status(), auto.stderr());
        assertEquals("", auto.stderr(), "nothing printed when there is no GPU");
        Cli.Result cuda = Cli.rast("forward", "--model", model, "--tokens", "1,2", "--device", "cuda");
        assertEquals(Main.EXIT_BAD_INPUT, cuda.status());
        assertEquals("error: --device cuda: not available here: " + why, cuda.stderr().strip());
        assertTrue(why.startsWith("no NVIDIA"), why);
    }

    @Test
    void anUnknownDeviceListsTheBackends() {
        Cli.Result r = Cli.rast("forward", "--model", Fixtures.reference("qwen2-f32").toString(), "--tokens", "1", "--device", "tpu");
        assertEquals(Main.EXIT_BAD_INPUT, r.status());
        assertEquals("error: --device tpu: unknown backend (have: [cpu, cuda])", r.stderr().strip());
    }
}
