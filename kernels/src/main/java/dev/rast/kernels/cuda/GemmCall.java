package dev.rast.kernels.cuda;

/**
 * The arguments of one cuBLAS GEMM, {@code C = alpha·op(A)·op(B) + beta·C} in cuBLAS's column-major convention:
 * op(A) is m×k, op(B) is k×n, C is m×n; a, b, c are device addresses and the types are cudaDataType codes.
 * Made by {@link #linear}, which holds the one piece of reasoning about row-major tensors.
 */
public record GemmCall(int transA, int transB, int m, int n, int k, float alpha, long a, int aType, int lda, long b,
                       int bType, int ldb, float beta, long c, int cType, int ldc) {

    /**
     * {@code out[t, r] (+)= Σ_j x[t, j] · w[r, j]} for t < T, r < rows, j < K: a linear layer with weights
     * {@code w [rows, K]} and activations {@code x [T, K]}, both row-major and packed, into {@code out}, row-major
     * with {@code ldOut} floats per row (ldOut ≥ rows, so that a slice of output columns can be written).
     *
     * <p>Why these arguments: cuBLAS reads matrices column-major. A row-major R×C matrix with leading dimension C is
     * the same bytes as a column-major C×R matrix with leading dimension C, i.e. its transpose. So
     * <ul>
     *   <li>w [rows, K] row-major is the column-major K×rows matrix Wᵀ (ld K);</li>
     *   <li>x [T, K] row-major is the column-major K×T matrix xᵀ (ld K);</li>
     *   <li>out [T, ldOut] row-major is the column-major ldOut×T matrix outᵀ; its first {@code rows} rows are ours.</li>
     * </ul>
     * We want out = x·wᵀ, i.e. outᵀ = w·xᵀ (rows×T). With A = the stored K×rows matrix (= Wᵀ), op(A) = Aᵀ = w is
     * rows×K: transa = T, m = rows, k = K, lda = K. With B = the stored K×T matrix (= xᵀ), op(B) = B: transb = N,
     * n = T, ldb = K. C = outᵀ: ldc = ldOut.
     */
    public static GemmCall linear(int T, int rows, int K, long w, int wType, long x, int xType, long out, int ldOut, float beta) {
        if (T < 1 || rows < 1 || K < 1) throw new IllegalArgumentException("empty GEMM: T=" + T + " rows=" + rows + " K=" + K);
        if (ldOut < rows) throw new IllegalArgumentException("ldOut " + ldOut + " < rows " + rows);
        return new GemmCall(Cublas.CUBLAS_OP_T, Cublas.CUBLAS_OP_N, rows, T, K, 1f, w, wType, K, x, xType, K, beta,
                out, Cublas.CUDA_R_32F, ldOut);
    }

    @Override
    public String toString() {
        return (transA == Cublas.CUBLAS_OP_T ? "T" : "N") + (transB == Cublas.CUBLAS_OP_T ? "T" : "N") + " m=" + m + " n=" + n
                + " k=" + k + " lda=" + lda + " ldb=" + ldb + " ldc=" + ldc + " types " + aType + "/" + bType + "/" + cType
                + (beta != 0 ? " beta=" + beta : "");
    }
}
