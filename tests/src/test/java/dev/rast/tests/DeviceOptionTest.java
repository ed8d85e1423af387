package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.cli.Main;
import dev.rast.engine.json.Json;
import dev.rast.kernels.cuda.CudaDevice;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@code --device}: the default "auto" takes the GPU when one is usable and the CPU otherwise, silently; asking for
 * cuda where there is none is one clear line with exit status 2; "reference" (the scalar reference backend) generates
 * what "cpu" does.
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
        assertEquals("error: --device tpu: unknown backend (have: [cpu, cuda, reference])", r.stderr().strip());
    }

    /** {@code rast generate} greedy on every HF fixture: the reference backend's tokens are the CPU's, and HF's. */
    @Test
    @SuppressWarnings("unchecked")
    void referenceGeneratesTheCpusGreedyTokens() throws Exception {
        for (String name : Fixtures.MODELS) {
            Map<String, Object> exp = Fixtures.expected(name);
            String prompt = ((List<?>) exp.get("greedy_prompt")).stream().map(String::valueOf).collect(Collectors.joining(","));
            List<Object> tokens = new ArrayList<>();
            for (String device : new String[] {"cpu", "reference"}) {
                Cli.Result r = Cli.rast("generate", "--model", Fixtures.reference(name).toString(), "--prompt-tokens", prompt,
                        "--max-tokens", "12", "--temperature", "0", "--ignore-eos", "--json", "--threads", "2", "--device", device);
                assertEquals(0, r.status(), device + " " + name + ": " + r.stderr());
                tokens.add(((Map<String, Object>) Json.parse(r.stdout().strip(), "stdout")).get("tokens"));
            }
            assertEquals(exp.get("greedy_tokens"), tokens.get(0), "cpu " + name);
            assertEquals(tokens.get(0), tokens.get(1), "reference " + name);
        }
    }
}
