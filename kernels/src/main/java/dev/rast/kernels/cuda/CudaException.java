package dev.rast.kernels.cuda;

/**
 * A CUDA driver or cuBLAS call that returned an error status. The message names the call, its key arguments and the
 * status by name, e.g. {@code cuMemcpyDtoH(4000 bytes): CUDA_ERROR_ILLEGAL_ADDRESS (an illegal memory access was
 * encountered)}.
 */
public class CudaException extends RuntimeException {
    private final String call;
    private final int status;
    private final String statusName;
    private final String statusText;

    public CudaException(String call, int status, String statusName, String statusText) {
        super(CudaStatus.describe(call, statusName, statusText));
        this.call = call;
        this.statusText = statusText;
        this.status = status;
        this.statusName = statusName;
    }

    /** The call and its arguments, e.g. {@code cuMemAlloc(4096 bytes)}. */
    public String call() { return call; }

    /** The same failure with more said about the call. */
    public CudaException withCall(String newCall) { return new CudaException(newCall, status, statusName, statusText); }

    /** The raw status code (a CUresult or a cublasStatus_t). */
    public int status() { return status; }

    /** The status name, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public String statusName() { return statusName; }
}
