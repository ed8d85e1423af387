package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.eval.report.Report;
import dev.rast.eval.report.Report.RunReport;
import dev.rast.eval.report.ReportFormat;
import dev.rast.eval.report.RunDir;
import dev.rast.eval.report.SvgPlot;
import dev.rast.eval.report.Sweep;
import dev.rast.eval.report.SweepReport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Report evaluation runs: pass@k, maj@k, recovery rate, plots.",
                "Writes report.md and report.json into each RUN_DIR (--base and --ceiling are",
                "only read): pass@1 averaged over the n samples, pass@k for k = 1, 2, 4, ..., n,",
                "maj@k, mean response length, the settings; prints the runs side by side. With --base and",
                "--ceiling also the recovery rate (acc - acc_base)/(acc_ceiling - acc_base)",
                "per data set. --plot draws pass@k against k, one panel per data set.",
                "A run folder holds settings.json and samples.jsonl (see rast eval). A sweep folder",
                "(rast eval --lambda 0,0.5,1 or --temperature a,b) gets sweep.md, sweep-report.json and sweep.svg:",
                "accuracy against the swept value, and the recovery rate with --base and --ceiling."},
        footer = {"", "Examples:",
                "  rast report runs/rast-7b",
                "  rast report runs/rast-7b runs/rast-14b --base runs/base-7b --ceiling runs/rl-7b --plot passk.svg",
                "  rast report runs/lambda-sweep --base runs/base-7b --ceiling runs/rl-7b"})
final class ReportCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "RUN_DIR", description = "Run folders to report and compare.")
    List<Path> runs;

    @Option(names = "--base", paramLabel = "RUN_DIR", description = "The base model's run (recovery rate 0).")
    Path base;

    @Option(names = "--ceiling", paramLabel = "RUN_DIR", description = "The ceiling run, e.g. the RL-trained large model (recovery rate 1).")
    Path ceiling;

    @Option(names = "--plot", paramLabel = "FILE.svg", description = "Write pass@k-versus-k plots of all runs as SVG.")
    Path plot;

    @Option(names = "--verbose", description = "Show stack traces on errors.")
    boolean verbose;

    @Override
    public Integer call() {
        if ((base == null) != (ceiling == null)) throw new BadInputException("--base and --ceiling go together: the recovery rate needs both");
        if (plot != null && !plot.toString().toLowerCase(java.util.Locale.ROOT).endsWith(".svg"))
            throw new BadInputException("--plot " + plot + ": plots are written as SVG; give a file name ending in .svg");
        // The baselines are only read: they may be someone else's runs, shared or read-only.
        RunReport b = base == null ? null : Report.compute(base), c = ceiling == null ? null : Report.compute(ceiling);
        List<RunReport> reports = new ArrayList<>();
        for (Path r : runs) {
            if (!Sweep.isSweep(r)) {
                reports.add(Report.write(r));
                continue;
            }
            System.out.print(SweepReport.write(r, b, c).markdown());
            System.out.println("wrote " + r.resolve("sweep.md") + ", sweep-report.json and sweep.svg\n");
        }
        if (reports.isEmpty()) return 0;
        List<RunReport> all = new ArrayList<>(reports);
        if (b != null) all.add(b);
        if (c != null) all.add(c);
        if (plot != null) SvgPlot.write(all, plot);
        System.out.print(ReportFormat.comparison(reports, b, c));
        System.out.println();
        for (RunReport r : reports) System.out.println("wrote " + r.dir().resolve(RunDir.REPORT_MD) + " and " + RunDir.REPORT_JSON);
        if (plot != null) System.out.println("wrote " + plot);
        return 0;
    }
}
