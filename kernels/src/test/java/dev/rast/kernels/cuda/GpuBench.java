package dev.rast.kernels.cuda;

import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import dev.rast.kernels.KernelTable;
import java.util.Locale;

/**
 * GPU facts and GEMM throughput for the GPU report (scripts/gpu-check.sh): prints Markdown, its tables in the columns
 * of the CPU's JMH suite ({@link KernelTable}: op, shape, dtype, tokens, time, GB/s, GFLOP/s, % of limit). Times rast's own matmul
 * path (CudaBackend.matmul: bf16 weights with the split-bf16 activations, one plain bf16 GEMM for comparison, f32)
 * on the linear-layer shapes of Qwen2.5-7B with 512 prompt tokens and on a square 8192³, with CUDA events, median of
 * 20 after 3 warm-ups, against the datasheet peak where the GPU is one we know.
 */
public final class GpuBench {
    private GpuBench() {}

    /** Dense tensor-core bf16 and plain f32 peak TFLOP/s from NVIDIA's datasheets, by device name; null if unknown. */
    static double[] peakTflops(String name) {
        String n = name.toUpperCase(Locale.ROOT);
        if (n.contains("H200")) return new double[] {989, 67};
        if (n.contains("H100") && n.contains("PCIE")) return new double[] {756, 51};
        if (n.contains("H100") && n.contains("NVL")) return new double[] {835, 60};
        if (n.contains("H100")) return new double[] {989, 67};
        if (n.contains("A100")) return new double[] {312, 19.5};
        if (n.contains("L40S")) return new double[] {362, 91.6};
        return null;
    }

    /** No arguments: the Markdown report. {@code --peak-bandwidth}: just the peak DRAM bandwidth in GB/s. */
    public static void main(String[] args) {
        CudaDevice dev = CudaDevice.open(0);
        CudaDevice.Info info = dev.info();
        if (args.length > 0 && args[0].equals("--peak-bandwidth")) {
            System.out.printf(Locale.ROOT, "%.0f%n", info.peakBandwidth() / 1e9);
            dev.close();
            return;
        }
        StringBuilder md = new StringBuilder();
        md.append("| GPU | compute capability | SMs | memory | driver (CUDA) | cuBLAS | peak DRAM bandwidth |\n|---|---|---|---|---|---|---|\n");
        md.append(String.format(Locale.ROOT, "| %s | %d.%d | %d | %.1f GiB | %s | %d (%s) | %.0f GB/s |%n%n", info.name(), info.ccMajor(),
                info.ccMinor(), info.multiprocessors(), info.totalMemory() / (double) (1L << 30),
                CudaDriver.versionString(info.driverVersion()), info.cublasVersion(), info.cublasLibrary(), info.peakBandwidth() / 1e9));
        double[] peak = peakTflops(info.name());
        double dram = info.peakBandwidth() / 1e9;
        KernelTable.Limits bf16Peak = limits(dram, peak == null ? 0 : peak[0], "bf16 peak");
        KernelTable.Limits f32Peak = limits(dram, peak == null ? 0 : peak[1], "f32 peak");
        md.append("GEMM `out[T,N] = x[T,K]·W[N,K]ᵀ`, F32 accumulation, median of 20 (CUDA events); GB/s counts W's bytes,"
                + " against the peak DRAM bandwidth");
        md.append(peak == null ? "; datasheet FLOP peak unknown for this GPU.\n\n"
                : String.format(Locale.ROOT, "; datasheet peak %.0f TFLOP/s bf16 dense, %.0f TFLOP/s f32.%n%n", peak[0], peak[1]));
        KernelTable gemm = new KernelTable(bf16Peak);
        int[][] shapes = {{512, 3584, 3584}, {512, 18944, 3584}, {512, 3584, 18944}, {512, 152064, 3584}, {8192, 8192, 8192}};
        try (CudaBackend b = new CudaBackend(dev)) {
            for (int[] s : shapes) {
                int T = s[0], N = s[1], K = s[2];
                Tensor x = b.allocate(DType.F32, T, K), out = b.allocate(DType.F32, T, N);
                for (DType wt : new DType[] {DType.BF16, DType.F32}) {
                    Tensor w = b.allocate(wt, N, K);
                    if (wt == DType.BF16) {
                        gemm.add(row("matmul: rast split bf16 (2 GEMMs + split kernel)", T, N, K, wt, time(dev, () -> b.matmul(x, w, out)), bf16Peak));
                        Tensor xb = b.allocate(DType.BF16, T, K);
                        GemmCall one = GemmCall.linear(T, N, K, w.data().address(), Cublas.CUDA_R_16BF, xb.data().address(),
                                Cublas.CUDA_R_16BF, out.data().address(), N, 0f);
                        gemm.add(row("one bf16 GEMM (x in bf16)", T, N, K, wt, time(dev, () -> dev.gemm(one)), bf16Peak));
                        b.free(xb);
                    } else if ((long) N * K * 4 < (4L << 30)) {
                        gemm.add(row("matmul: rast f32 GEMM", T, N, K, wt, time(dev, () -> b.matmul(x, w, out)), f32Peak));
                    }
                    b.free(w);
                }
                b.free(x);
                b.free(out);
            }
            md.append(gemm.markdown());
            // The same backend throughout: closing a CudaBackend closes its device.
            md.append("\n").append(launchOverhead(dev, b, 20_000));
            md.append("\n").append(decodeShapes(dev, b, info.peakBandwidth() / 1e9, DECODE_SHAPES, DECODE_ROWS));
        }
        System.out.print(md);
    }

    /**
     * Few-row matmuls (a decode step of T sequences) on Qwen2.5-7B's bf16 layer shapes, where reading W bounds the
     * time: GB/s of weights read against the peak DRAM bandwidth. Each figure is one CUDA-event pair around 10
     * back-to-back calls (divided by 10), median of 20, so that a call's launch latency overlaps the one before.
     */
    static final int[][] DECODE_SHAPES = {{3584, 3584}, {18944, 3584}, {3584, 18944}, {152064, 3584}};
    static final int[] DECODE_ROWS = {1, 8, 32, 128, 256};

    static String decodeShapes(Device dev, CudaBackend b, double peakGBs, int[][] shapes, int[] rows) {
        StringBuilder md = new StringBuilder();
        md.append("Decode-sized matmuls (T rows), bf16 W: time per call and GB/s of W read (W's bytes / time) against peak DRAM")
          .append(String.format(Locale.ROOT, " bandwidth %.0f GB/s; 10 calls back to back per timing, median of 20.%n%n", peakGBs));
        KernelTable table = new KernelTable(limits(peakGBs, 0, "peak"));
        for (int[] s : shapes) {
            int N = s[0], K = s[1];
            Tensor w = b.allocate(DType.BF16, N, K);
            for (int T : rows) {
                Tensor x = b.allocate(DType.F32, T, K), out = b.allocate(DType.F32, T, N);
                Tensor hi = b.allocate(DType.BF16, T, K), lo = b.allocate(DType.BF16, T, K);
                boolean matvec = b.usesMatvec(T, w);  // -Drast.cuda.matvec=all: every T ≤ 8 (the first report's route)
                String rast = matvec ? "matmul: rast matvec kernel (x f32)"
                        : T <= CudaBackend.STACKED_MAX_T ? "matmul: rast split bf16, one GEMM on [hi; lo] + sum" : "matmul: rast split bf16, two GEMMs";
                table.add(row(rast, T, N, K, DType.BF16, timeLoop(dev, () -> b.matmul(x, w, out)), null));
                GemmCall one = GemmCall.linear(T, N, K, w.data().address(), Cublas.CUDA_R_16BF, hi.data().address(),
                        Cublas.CUDA_R_16BF, out.data().address(), N, 0f);
                GemmCall second = GemmCall.linear(T, N, K, w.data().address(), Cublas.CUDA_R_16BF, lo.data().address(),
                        Cublas.CUDA_R_16BF, out.data().address(), N, 1f);
                if (!matvec)
                    table.add(row("two GEMMs on hi, lo (the split kernel not counted)", T, N, K, DType.BF16,
                            timeLoop(dev, () -> { dev.gemm(one); dev.gemm(second); }), null));
                table.add(row("one bf16 GEMM (x in bf16)", T, N, K, DType.BF16, timeLoop(dev, () -> dev.gemm(one)), null));
                for (Tensor t : new Tensor[] {x, out, hi, lo}) b.free(t);
            }
            b.free(w);
        }
        return md.append(table.markdown()).toString();
    }

    /**
     * What one kernel launch costs the host: n launches of a one-element add, back to back, wall-clock time until
     * the last has run (median of 5 after 2 warm-ups). Through CudaBackend.add (argument block, checks,
     * cuLaunchKernel): a decode step makes ~19 launches a layer, so this bounds single-sequence decode where
     * kernels are short.
     */
    static String launchOverhead(Device dev, CudaBackend b, int n) {
        double[] us = new double[5];
        Tensor x = b.allocate(DType.F32, 1, 1), y = b.allocate(DType.F32, 1, 1);
        for (int r = -2; r < us.length; r++) {
            dev.synchronize();
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) b.add(x, y);
            dev.synchronize();
            if (r >= 0) us[r] = (System.nanoTime() - t0) / 1e3 / n;
        }
        b.free(x);
        b.free(y);
        java.util.Arrays.sort(us);
        return String.format(Locale.ROOT, "Kernel launch, host side: %.2f µs per launch (CudaBackend.add on one element,"
                + " %d back to back, wall clock to the last one's end, median of 5).%n", us[2], n);
    }

    private static double timeLoop(Device dev, Runnable op) {
        int reps = 10;
        return time(dev, () -> { for (int i = 0; i < reps; i++) op.run(); }) / reps;
    }

    private static double time(Device dev, Runnable op) {
        for (int i = 0; i < 3; i++) op.run();
        double[] ms = new double[20];
        for (int i = 0; i < ms.length; i++) ms[i] = dev.timeMillis(op);
        java.util.Arrays.sort(ms);
        return ms[ms.length / 2];
    }

    /** The peak DRAM bandwidth (GB/s) and a datasheet FLOP peak (TFLOP/s, 0: unknown) as a table's limits. */
    static KernelTable.Limits limits(double dramGBs, double peakTflops, String flopName) {
        return new KernelTable.Limits(dramGBs, "DRAM peak", peakTflops * 1e3, flopName);
    }

    /** A matmul of T rows by an N×K weight of {@code wt} taking {@code ms}: W's bytes and 2·T·N·K FLOPs. */
    static KernelTable.Row row(String path, int T, int N, int K, DType wt, double ms, KernelTable.Limits limits) {
        return new KernelTable.Row(path, N + "×" + K, wt.name(), T, ms * 1e-3, (double) N * K * wt.bytes(), 2.0 * T * N * K, limits);
    }
}
