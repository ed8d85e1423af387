package dev.rast.tests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A second JVM on the test class path, for what one process cannot do to itself: hold an OS file lock against this
 * one, or run with a file size limit ({@code ulimit -f}) that makes writes fail as a full disk does.
 */
final class ChildJvm {
    private ChildJvm() {}

    /** The command that starts {@code mainClass} with {@code args} in a fresh JVM (no perf-data file to write). */
    static List<String> command(Class<?> mainClass, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:-UsePerfData", "-Xshare:off", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), mainClass.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Runs {@code dev.rast.cli.Main args} in a JVM whose files may not grow past {@code limitKb} KB (0: no write at all). */
    static Cli.Result rastWithFileSizeLimit(int limitKb, String... args) throws IOException, InterruptedException {
        List<String> jvm = command(dev.rast.cli.Main.class, args);
        List<String> cmd = new ArrayList<>(List.of("bash", "-c", "ulimit -f " + limitKb + " && exec \"$@\"", "bash"));
        cmd.addAll(jvm);
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        // Neither pipe may fill while the other is read: stderr goes through a thread.
        var err = java.util.concurrent.CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        String out = read(p.getInputStream());
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the child JVM did not finish in 120 s");
        }
        String stderr = err.join().lines().filter(l -> !l.startsWith("WARNING: Using incubator modules"))
                .reduce("", (a, b) -> a + b + "\n");
        return new Cli.Result(p.exitValue(), out, stderr);
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
