package dev.rast.kernels.reference;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.backend.BackendProvider;

/** {@code --device reference}: {@link ReferenceBackend}, available everywhere; it runs on one thread whatever --threads says. */
public final class ReferenceBackendProvider implements BackendProvider {
    @Override public String name() { return "reference"; }

    @Override public String unavailableReason() { return null; }

    @Override public Backend create(int threads) { return new ReferenceBackend(); }
}
