package dev.rast.kernels.cpu;

/**
 * Per-thread reusable float arrays, so that kernels called hundreds of times per decode step do not allocate (and
 * zero) fresh buffers each time. Each caller names its slot; contents are whatever the last user left.
 */
final class Scratch {
    static final int GEMM_X = 0, GEMM_XP = 1, GEMM_W = 2, GEMM_ACC = 3, ATT_Q = 4, ATT_S = 5, ATT_K = 6, ATT_ACC = 7, ATT_QROW = 8, ATT_SUMS = 9;
    /** The one- or two-token matvec's x: a row, and each token's even and odd columns (slot + token). */
    static final int MATVEC_ROW = 10, MATVEC_EVEN = 11, MATVEC_ODD = 13;
    private static final ThreadLocal<float[][]> SLOTS = ThreadLocal.withInitial(() -> new float[15][]);

    private Scratch() {}

    /** This thread's array in {@code slot}, at least {@code n} long. */
    static float[] get(int slot, int n) {
        float[][] s = SLOTS.get();
        if (s[slot] == null || s[slot].length < n) s[slot] = new float[n];
        return s[slot];
    }
}
