package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.engine.Printable;
import dev.rast.engine.weights.MappedFiles;
import static java.nio.charset.StandardCharsets.UTF_8;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code rast} command line. */
@Command(name = "rast", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Pure-Java LLM inference for Qwen2.5 and Llama-3.1, built for RAST decoding.", ""},
        subcommands = {DemoCommand.class, GenerateCommand.class, ForwardCommand.class, BenchCommand.class, SynthCommand.class, PullCommand.class, EvalCommand.class, ServeCommand.class,
                TokenizeCommand.class, DetokenizeCommand.class,
                GradeCommand.class, ReportCommand.class, AnalyzeCommand.class, PlanCommand.class,
                CommandLine.HelpCommand.class},
        footer = {"", "Examples:",
                "  rast demo                      # RAST on a random trio, no download",
                "  rast pull Qwen/Qwen2.5-0.5B-Instruct                # into the Hugging Face cache",
                "  rast generate --model DIR --prompt 'What is 7*8?' --format qwen-boxed",
                "  rast generate --model M --expert E --expert-base B --prompt '...' --n 4 --json",
                "  rast eval --model M --expert E --expert-base B --dataset math500 --out runs/x",
                "  rast report runs/x --base runs/base --ceiling runs/rl --plot passk.svg",
                "Run 'rast help COMMAND' for a command's options."})
public final class Main implements Runnable {
    /** Exit status for bad input (weights, config, flags): distinct from internal errors (1). */
    public static final int EXIT_BAD_INPUT = 2;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() { throw new CommandLine.ParameterException(spec.commandLine(), "missing command"); }

    public static void main(String[] args) {
        // Messages and output are UTF-8 whatever the locale (bin/rast asks for that; a bare java may not).
        if (!UTF_8.equals(System.out.charset())) System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.out), true, UTF_8));
        if (!UTF_8.equals(System.err.charset())) System.setErr(new PrintStream(new FileOutputStream(FileDescriptor.err), true, UTF_8));
        System.exit(run(args));
    }

    public static int run(String... args) {
        boolean verbose = java.util.Arrays.asList(args).contains("--verbose");
        String undecodable = Arguments.undecodable(args);
        if (undecodable != null) {
            System.err.println("error: " + Printable.line(undecodable));
            return EXIT_BAD_INPUT;
        }
        CommandLine cl = new CommandLine(new Main());
        // Every command has -V/--version (mixinStandardHelpOptions); only the top one names a provider.
        for (CommandLine sub : cl.getSubcommands().values()) sub.getCommandSpec().versionProvider(new Version());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> report(ex, verbose));
        cl.setParameterExceptionHandler((ex, a) -> {
            String msg = ex.getMessage().startsWith("Error: ") ? ex.getMessage().substring(7) : ex.getMessage();
            if (ex instanceof CommandLine.UnmatchedArgumentException u && ex.getCommandLine() == cl && !u.getUnmatched().isEmpty()
                    && !u.getUnmatched().get(0).startsWith("-"))
                msg = "unknown command '" + u.getUnmatched().get(0) + "' (commands: "
                        + String.join(", ", cl.getSubcommands().keySet()) + ")";
            System.err.println("error: " + Printable.line(msg));
            System.err.println("Run '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help' for usage.");
            return EXIT_BAD_INPUT;
        });
        try {
            return cl.execute(args);
        } catch (Error e) { // picocli's handler sees Exceptions only; an Error (out of memory, a fault) passes it by
            return report(e, verbose);
        }
    }

    /** One line for the user; the stack trace only with --verbose. */
    static int report(Throwable ex, boolean verbose) {
        if (verbose) ex.printStackTrace();
        // A fault on a mapped checkpoint page: say which file changed under the run.
        if (MappedFiles.isMappingFault(ex)) ex = MappedFiles.explain(ex);
        if (ex instanceof BadInputException) {
            System.err.println("error: " + Printable.line(ex.getMessage()));
            return EXIT_BAD_INPUT;
        }
        if (ex instanceof OutOfMemoryError) {
            System.err.println("error: out of Java heap memory (" + ex.getMessage() + ", at most "
                    + Runtime.getRuntime().maxMemory() / (1 << 20) + " MB); raise it with RAST_JAVA_OPTS=-Xmx...");
            return 1;
        }
        System.err.println("error: internal error: " + Printable.line(ex.toString())
                + (verbose ? "" : " (run with --verbose for the stack trace)"));
        return 1;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"rast " + (v == null ? "dev" : v) + " on Java " + Runtime.version()};
        }
    }
}
