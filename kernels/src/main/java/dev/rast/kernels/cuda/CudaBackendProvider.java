package dev.rast.kernels.cuda;

import dev.rast.engine.backend.Backend;
import dev.rast.engine.backend.BackendProvider;

/**
 * {@code --device cuda}: GPU 0, or the one {@code RAST_CUDA_DEVICE} names (after CUDA_VISIBLE_DEVICES). Available
 * where the driver, a GPU and cuBLAS are found; the probe prints nothing.
 */
public final class CudaBackendProvider implements BackendProvider {
    @Override public String name() { return "cuda"; }

    @Override public String unavailableReason() { return CudaDevice.unavailableReason(); }

    @Override
    public Backend create(int threads) {
        String ordinal = System.getenv("RAST_CUDA_DEVICE");
        int device;
        try {
            device = ordinal == null || ordinal.isBlank() ? 0 : Integer.parseInt(ordinal.strip());
        } catch (NumberFormatException e) {
            throw new dev.rast.engine.BadInputException("RAST_CUDA_DEVICE=" + ordinal + ": not a GPU number");
        }
        return new CudaBackend(CudaDevice.open(device));
    }
}
