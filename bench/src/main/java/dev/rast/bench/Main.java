package dev.rast.bench;

import dev.rast.kernels.KernelTable;
import dev.rast.kernels.cpu.CpuBackend;
import dev.rast.kernels.cpu.CpuLimits;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs the kernel benchmarks through JMH and prints one table (op, shape, dtype, tokens, time, GB/s, GFLOP/s, % of
 * limit), each figure against this machine's limits measured in the same run with the same threads: a bare read of
 * memory (the median of passes before and after the suite) and a register-only FMA loop (the better of a
 * measurement before and one after), both {@link CpuLimits}'.
 *
 * <pre>
 *   scripts/bench/jmh.sh [quick|full] [--threads N] [--only REGEX] [--out FILE.md]
 * </pre>
 * {@code quick} (the default, about ten minutes): Qwen2.5-0.5B shapes, a few parameters, short iterations. {@code full}:
 * every parameter of every benchmark (all four models' shapes, every matrix × dtype × token count), longer
 * iterations: two to three hours. {@code --only} keeps the benchmarks whose class or method name matches.
 */
public final class Main {
    /** A benchmark class, its parameters in quick mode, and what one call of each of its methods costs. */
    private record Suite(Class<?> type, Map<String, String[]> quick, BiFunction<String, Params, Cost> cost) {}

    private static final String SMALL_MODEL = "qwen2.5-0.5b";

    private static final List<Suite> SUITES = List.of(
            new Suite(MatmulBench.class, Map.of("model", new String[] {SMALL_MODEL}, "matrix", new String[] {"qkv", "gate_up", "down"},
                    "tokens", new String[] {"1", "8", "128"}), MatmulBench::cost),
            new Suite(AttentionBench.class, Map.of("model", new String[] {SMALL_MODEL}, "context", new String[] {"128", "4096", "16384"},
                    "sequences", new String[] {"1"}, "layout", new String[] {"interleaved"}), AttentionBench::cost),
            new Suite(SmallOpsBench.class, Map.of("model", new String[] {SMALL_MODEL}, "tokens", new String[] {"1"}), SmallOpsBench::cost),
            new Suite(SamplingBench.class, Map.of("model", new String[] {SMALL_MODEL}, "sigma", new String[] {"5"}), SamplingBench::cost));

    private Main() {}

    public static void main(String[] args) throws RunnerException, IOException {
        boolean full = false;
        int threads = Runtime.getRuntime().availableProcessors();
        String only = null;
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "quick" -> full = false;
                case "full" -> full = true;
                case "--threads" -> threads = Integer.parseInt(value(args, ++i, "--threads"));
                case "--only" -> only = value(args, ++i, "--only");
                case "--out" -> out = Path.of(value(args, ++i, "--out"));
                case "-h", "--help" -> {
                    System.out.println("usage: scripts/bench/jmh.sh [quick|full] [--threads N] [--only REGEX] [--out FILE.md]");
                    return;
                }
                default -> {
                    System.err.println("jmh: unknown argument " + args[i] + " (quick|full, --threads N, --only REGEX, --out FILE.md)");
                    System.exit(2);
                }
            }
        }
        if (threads < 1) { System.err.println("jmh: --threads must be at least 1"); System.exit(2); }

        // The read limit: passes over 512 MiB of memory before and after the suite, their median (CpuLimits says why).
        try (Arena arena = Arena.ofShared(); CpuBackend cpu = new CpuBackend(threads)) {
            MemorySegment memory = arena.allocate(512L << 20, 64);
            memory.fill((byte) 1); // touched, so the read is of memory and not of the zero page
            CpuLimits.ReadLimit read = new CpuLimits.ReadLimit(List.of(memory), cpu);
            for (int i = 0; i < LIMIT_PASSES; i++) read.sample();
            double fmaBefore = CpuLimits.fmaGflops(threads), macBefore = CpuLimits.shortMacGops(threads);
            List<KernelTable.Row> rows = new ArrayList<>();
            for (Suite s : SUITES) {
                if (only != null && !s.type.getSimpleName().matches(".*(" + only + ").*") && !anyMethodMatches(s.type, only)) continue;
                Collection<RunResult> results = new Runner(options(s, full, threads, only)).run();
                for (RunResult r : results) rows.add(row(s, r));
            }
            for (int i = 0; i < LIMIT_PASSES; i++) read.sample();
            double fmaAfter = CpuLimits.fmaGflops(threads), macAfter = CpuLimits.shortMacGops(threads);
            // Q4_0's kernels multiply and add in 16-bit integer lanes, twice F32's per vector: their arithmetic limit
            // is the 16-bit multiply-add loop, not the FMA loop.
            KernelTable.Limits int16 = new KernelTable.Limits(read.median(), "read", Math.max(macBefore, macAfter), "int16 MAC");
            rows.replaceAll(r -> r.dtype().equals("Q4_0") ? r.with(int16) : r);
            report(new KernelTable.Limits(read.median(), "read", Math.max(fmaBefore, fmaAfter), "FMA"), rows, full, threads,
                    String.format(Locale.ROOT, "bare read %s, FMA loop %.0f / %.0f GFLOP/s, 16-bit multiply-add loop (Q4_0's limit) %.0f / %.0f GOP/s before / after the suite (the better is the limit)",
                            read.describe("before and after the suite"), fmaBefore, fmaAfter, macBefore, macAfter), out);
        }
    }

    /** Passes of the bare read before the suite, and again after it. */
    private static final int LIMIT_PASSES = 5;

    private static void report(KernelTable.Limits lim, List<KernelTable.Row> rows, boolean full, int threads, String limits, Path out) throws IOException {
        KernelTable table = new KernelTable(lim);
        rows.forEach(table::add);
        String report = String.format(Locale.ROOT, "%s, %s mode, %d threads, %s; limits measured in this run: %s%n%n%s",
                DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").format(ZonedDateTime.now(ZoneOffset.UTC)), full ? "full" : "quick",
                threads, cpuName(), limits, table.markdown());
        System.out.println();
        System.out.print(report);
        if (out != null) Files.writeString(out, report);
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) { System.err.println("jmh: " + flag + " needs a value"); System.exit(2); }
        return args[i];
    }

    private static boolean anyMethodMatches(Class<?> type, String regex) {
        for (var m : type.getDeclaredMethods())
            if (m.isAnnotationPresent(org.openjdk.jmh.annotations.Benchmark.class) && m.getName().matches(".*(" + regex + ").*")) return true;
        return false;
    }

    private static org.openjdk.jmh.runner.options.Options options(Suite s, boolean full, int threads, String only) {
        String include = "^" + s.type.getName().replace(".", "\\.") + "\\."
                + (only != null && !s.type.getSimpleName().matches(".*(" + only + ").*") ? ".*(" + only + ").*" : "");
        ChainedOptionsBuilder b = new OptionsBuilder().include(include).forks(1).shouldFailOnError(true)
                .jvmArgsAppend("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                        "-D" + Data.THREADS + "=" + threads)
                .verbosity(VerboseMode.NORMAL);
        if (full) {
            b.warmupIterations(8).warmupTime(TimeValue.seconds(1)).measurementIterations(5).measurementTime(TimeValue.seconds(1));
        } else {
            // Five seconds of warm-up, not less: on a loaded machine C2 takes seconds to compile the Vector API kernels
            // (attention's longest), and until it has, they run their Java fallback, 100× slower.
            b.warmupIterations(5).warmupTime(TimeValue.seconds(1)).measurementIterations(3).measurementTime(TimeValue.seconds(1));
            s.quick.forEach(b::param);
        }
        return b.build();
    }

    private static KernelTable.Row row(Suite s, RunResult r) {
        var p = r.getParams();
        Map<String, String> values = new LinkedHashMap<>();
        for (String k : p.getParamsKeys()) values.put(k, p.getParam(k));
        String bench = p.getBenchmark();
        Cost c = s.cost.apply(bench.substring(bench.lastIndexOf('.') + 1), new Params(values));
        double seconds = r.getPrimaryResult().getScore() * 1e-6; // AverageTime in µs
        return new KernelTable.Row(c.op(), c.shape(), c.dtype(), c.tokens(), seconds, c.bytes(), c.flops());
    }

    private static String cpuName() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo")))
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
        } catch (IOException | RuntimeException e) {
            // not Linux: the architecture will do
        }
        return System.getProperty("os.arch");
    }
}
