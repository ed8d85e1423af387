package dev.rast.kernels.cpu;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.backend.BackendProvider;

public final class CpuBackendProvider implements BackendProvider {
    @Override public String name() { return "cpu"; }

    @Override public String unavailableReason() { return null; }

    @Override public Backend create(int threads) { return new CpuBackend(threads); }
}
