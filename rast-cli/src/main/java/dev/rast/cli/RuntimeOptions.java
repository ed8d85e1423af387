package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.engine.backend.Backend;
import dev.rast.engine.backend.BackendProvider;
import picocli.CommandLine.Option;

/** Options every command that runs a model shares. */
final class RuntimeOptions {
    @Option(names = "--device", paramLabel = "cpu", description = "Backend to run on (default: ${DEFAULT-VALUE}).", defaultValue = "cpu")
    String device;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: all cores).")
    Integer threads;

    @Option(names = "--verbose", description = "Show stack traces on errors.")
    boolean verbose;

    Backend open() {
        int n = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        if (n < 1) throw new BadInputException("--threads must be at least 1, is " + n);
        return BackendProvider.open(device, n);
    }
}
