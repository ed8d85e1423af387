package dev.rast.kernels.cuda;

import dev.rast.engine.backend.Backend;
import dev.rast.kernels.cpu.CpuBackend;
import dev.rast.kernels.reference.ReferenceBackend;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The backends a test class compares: one CPU backend (2 threads), the reference backend, and a CudaBackend per
 * target ("cuda", "emulator"), opened when first asked for and kept for the class. Registered as a JUnit extension
 * ({@code @RegisterExtension static final TestBackends backends = new TestBackends();}), it closes them all after the
 * class's last test.
 */
public final class TestBackends implements AutoCloseable, AfterAllCallback {
    public final CpuBackend cpu = new CpuBackend(2);
    public final ReferenceBackend reference = new ReferenceBackend();
    private final Map<String, CudaBackend> gpus = new HashMap<>();

    /** The CUDA backend of {@code target}; skips the calling test, with the reason, where it cannot run. */
    public synchronized CudaBackend gpu(String target) {
        GpuTargets.assumeAvailable(target);
        return gpus.computeIfAbsent(target, GpuTargets::backend);
    }

    /** "cpu", "reference", or a CUDA target as {@link #gpu} opens it. */
    public Backend backend(String name) {
        return switch (name) {
            case "cpu" -> cpu;
            case "reference" -> reference;
            default -> gpu(name);
        };
    }

    @Override
    public void afterAll(ExtensionContext context) { close(); }

    @Override
    public synchronized void close() {
        cpu.close();
        reference.close();
        gpus.values().forEach(CudaBackend::close);
        gpus.clear();
    }
}
