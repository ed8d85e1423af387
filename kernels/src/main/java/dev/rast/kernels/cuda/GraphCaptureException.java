package dev.rast.kernels.cuda;

/**
 * An operation that cannot be part of a CUDA graph (a host↔device copy, a synchronization, an allocation) was issued
 * while a {@link Device} was capturing; the capture has been abandoned.
 */
public final class GraphCaptureException extends IllegalStateException {
    public GraphCaptureException(String operation) {
        super("CUDA graph capture: " + operation + " cannot be captured into a graph (host<->device copies,"
                + " synchronization and allocation are refused while capturing); the capture was abandoned");
    }
}
