package dev.rast.kernels;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The one table every kernel benchmark prints (the CPU's JMH suite in {@code bench}, the CUDA harness
 * {@code GpuBench}), as Markdown: op, shape, dtype, tokens, time per call, GB/s, GFLOP/s, and the figure's share of
 * the machine limit that bounds it.
 *
 * <p>A row knows the bytes its op must move and the FLOPs it must do (an FMA counts two); speeds are those divided
 * by the time. "% of limit" is the larger of GB/s ÷ the read limit and GFLOP/s ÷ the arithmetic limit, named: an op
 * bound by memory shows its share of the bandwidth, one bound by arithmetic its share of the FMA peak (or of another
 * arithmetic limit a row names, such as the 16-bit multiply-add loop of Q4_0's kernels). On a CPU the limits are
 * measured in the same run ({@code CpuLimits}); on a GPU they are the datasheet's.
 */
public final class KernelTable {
    /**
     * The two limits a row is compared with: GB/s of a bare read and G operations/s of an arithmetic loop (the FMA
     * loop, or the one {@code gflopsName} names), each ≤ 0 when unknown.
     */
    public record Limits(double readGBs, String readName, double gflops, String gflopsName) {}

    /**
     * One measured op. {@code bytes}: what one call must move (weights, caches, activations read and written);
     * {@code flops}: what it must compute (0 when it is not arithmetic); {@code limits}: null for the table's own.
     */
    public record Row(String op, String shape, String dtype, int tokens, double seconds, double bytes, double flops, Limits limits) {
        public Row(String op, String shape, String dtype, int tokens, double seconds, double bytes, double flops) {
            this(op, shape, dtype, tokens, seconds, bytes, flops, null);
        }

        /** This row compared with {@code limits} instead of the table's. */
        public Row with(Limits limits) { return new Row(op, shape, dtype, tokens, seconds, bytes, flops, limits); }

        public double gbs() { return bytes / seconds / 1e9; }

        public double gflops() { return flops / seconds / 1e9; }
    }

    public static final String HEADER = "| op | shape | dtype | tokens | time | GB/s | GFLOP/s | % of limit |\n|---|---|---|---|---|---|---|---|\n";

    private final Limits limits;
    private final List<Row> rows = new ArrayList<>();

    public KernelTable(Limits limits) { this.limits = limits; }

    public KernelTable add(Row r) {
        rows.add(r);
        return this;
    }

    public List<Row> rows() { return List.copyOf(rows); }

    /** The header and every row, Markdown. */
    public String markdown() {
        StringBuilder sb = new StringBuilder(HEADER);
        for (Row r : rows) sb.append(line(r, r.limits() != null ? r.limits() : limits)).append('\n');
        return sb.toString();
    }

    /** One row of the table, without its newline. */
    public static String line(Row r, Limits lim) {
        return String.format(Locale.ROOT, "| %s | %s | %s | %d | %s | %s | %s | %s |", r.op(), r.shape(), r.dtype(), r.tokens(),
                time(r.seconds()), speed(r.gbs(), r.bytes()), speed(r.gflops(), r.flops()), ofLimit(r, lim));
    }

    /** "83% read" or "41% FMA": the larger share, with the limit it is of; "n/a" without limits. */
    static String ofLimit(Row r, Limits lim) {
        double read = lim != null && lim.readGBs() > 0 && r.bytes() > 0 ? r.gbs() / lim.readGBs() : -1;
        double fma = lim != null && lim.gflops() > 0 && r.flops() > 0 ? r.gflops() / lim.gflops() : -1;
        if (read < 0 && fma < 0) return "n/a";
        return read >= fma ? String.format(Locale.ROOT, "%.0f%% %s", 100 * read, lim.readName())
                : String.format(Locale.ROOT, "%.0f%% %s", 100 * fma, lim.gflopsName());
    }

    /** Seconds with the unit that keeps three or four digits: "12.3 µs", "4.56 ms", "1.20 s". */
    static String time(double s) {
        if (s < 1e-3) return String.format(Locale.ROOT, "%.1f µs", s * 1e6);
        if (s < 1) return String.format(Locale.ROOT, "%.2f ms", s * 1e3);
        return String.format(Locale.ROOT, "%.2f s", s);
    }

    private static String speed(double v, double amount) {
        if (amount <= 0) return "–";
        return v >= 100 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v);
    }
}
