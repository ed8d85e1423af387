package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.cli.Main;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint truncated by another process while a run has it mapped: the next read of a page past the new end is
 * a bus error, which the JVM raises as an InternalError in whichever thread touched it (the main thread or a CPU
 * worker). The run must end with one line naming the file that changed, exit status 2, no stack trace and no hang.
 *
 * <p>The run is a JVM of its own (a fault the JVM could not turn into an error would end the test JVM with it). It
 * reads its prompts from a named pipe after loading the model, so the test truncates the file at exactly that point:
 * mapped, not yet read by a forward pass.
 */
@EnabledOnOs(OS.LINUX)
class TruncatedCheckpointTest {
    @TempDir Path tmp;

    @Test
    void truncatedWhileMappedNamesTheFile() throws Exception {
        for (String threads : new String[] {"1", "2"}) {
            Path dir = tmp.resolve("model-" + threads);
            Files.createDirectories(dir);
            Path src = Fixtures.reference("qwen2-f32");
            for (String f : new String[] {"config.json", "model.safetensors"}) Files.copy(src.resolve(f), dir.resolve(f));
            Path weights = dir.resolve("model.safetensors");
            long size = Files.size(weights);
            Path prompts = tmp.resolve("prompts-" + threads);
            HostileInputTest.mkfifo(prompts);

            Process p = rast("generate", "--model", dir.toString(), "--input", prompts.toString(),
                    "--output", tmp.resolve("out-" + threads + ".jsonl").toString(), "--max-tokens", "4",
                    "--device", "cpu", "--threads", threads);
            // Opening the pipe for writing waits until the run opens it for reading: the model is loaded by then.
            try (OutputStream out = Files.newOutputStream(prompts)) {
                try (FileChannel ch = FileChannel.open(weights, StandardOpenOption.WRITE)) {
                    ch.truncate(4096);
                }
                out.write("{\"prompt_tokens\": [1, 2, 3, 4, 5, 6, 7, 8]}\n".getBytes(StandardCharsets.UTF_8));
            }
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the run must end");
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            // Besides the error: the JVM's incubator warning and the progress bar (its last frame ends in a newline).
            List<String> lines = err.lines().filter(l -> !l.startsWith("WARNING: Using incubator") && !l.startsWith("prompts [")).toList();
            assertEquals(Main.EXIT_BAD_INPUT, p.exitValue(), threads + " threads: " + err);
            assertEquals(1, lines.size(), "one line: " + err);
            String line = lines.getFirst();
            assertTrue(line.startsWith("error: " + weights + " was " + size + " bytes when mapped, is now 4096 bytes"), line);
            assertTrue(line.contains("another process truncated or rewrote it"), line);
            assertFalse(err.contains("\tat ") || err.contains("Exception in thread"), err);
        }
    }

    static Process rast(String... args) throws IOException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "dev.rast.cli.Main"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }
}
