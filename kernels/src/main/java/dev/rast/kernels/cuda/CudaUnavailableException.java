package dev.rast.kernels.cuda;

/**
 * CUDA cannot run here at all: no driver library, no GPU, a driver too old, or no cuBLAS. The message is the one
 * line a user needs, e.g. {@code no NVIDIA driver: libcuda.so.1 not found}.
 */
public final class CudaUnavailableException extends RuntimeException {
    public CudaUnavailableException(String reason) { super(reason); }
}
