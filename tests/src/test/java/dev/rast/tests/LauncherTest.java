package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.cli.Main;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher bin/rast as a user runs it, under a hostile environment: LC_ALL=C, arguments that are not UTF-8,
 * messages holding NUL bytes. It runs from a copy of the project laid out as the launcher expects (bin/rast, and
 * cli/target/lib with its build stamp), holding the jars of this test's class path, so it never builds or installs.
 * Each case is a bash script written as UTF-8 bytes, so non-ASCII text reaches the launcher exactly as typed.
 */
@EnabledOnOs(OS.LINUX)
class LauncherTest {
    @TempDir static Path root;

    @BeforeAll
    static void layOutTheProject() throws IOException {
        Files.createDirectories(root.resolve("bin"));
        Path launcher = root.resolve("bin/rast");
        Files.copy(Path.of("..", "bin", "rast"), launcher);
        launcher.toFile().setExecutable(true);
        Path lib = Files.createDirectories(root.resolve("cli/target/lib"));
        int n = 0;
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path p = Path.of(entry);
            if (Files.isDirectory(p)) jar(p, lib.resolve("dir" + n++ + ".jar"));
            else if (entry.endsWith(".jar")) Files.copy(p, lib.resolve(n++ + "-" + p.getFileName()));
        }
        Files.createFile(lib.resolve(".built")); // newer than every source of this copy, which has none: no build
    }

    /** A directory of classes as a jar: the launcher's class path is lib/*, which holds only jars. */
    static void jar(Path dir, Path jar) throws IOException {
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar)); Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                out.putNextEntry(new JarEntry(dir.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
    }

    record Run(int status, String stdout, String stderr) {}

    /** Runs {@code script} with bash, with $RAST set to the launcher and $REF to the tiny Qwen2 fixture. */
    static Run bash(String script) throws Exception {
        Path file = Files.createTempFile(root, "case", ".sh");
        Files.writeString(file, "set -u\nRAST=" + root.resolve("bin/rast") + "\nREF=" + Fixtures.reference("qwen2-f32")
                + "\n" + script + "\n", StandardCharsets.UTF_8);
        ProcessBuilder pb = new ProcessBuilder("bash", file.toString()).directory(root.toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().remove("RAST_JAVA_OPTS");
        Process p = pb.start();
        p.getOutputStream().close();
        var out = p.getInputStream().readAllBytes();
        var err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    /** Under LC_ALL=C the JVM decoded the folder's name as ASCII ("mod??le") and found no such folder. */
    @Test
    void nonAsciiPathsWorkUnderTheCLocale() throws Exception {
        Run r = bash("""
                mkdir -p "$PWD/modèle-日本" && cp "$REF/config.json" "$REF/model.safetensors" "$PWD/modèle-日本/"
                LC_ALL=C LANG=C "$RAST" forward --model "$PWD/modèle-日本" --tokens 1,2 --threads 1 --device cpu
                """);
        assertEquals(0, r.status(), r.stderr());
        assertFalse(r.stdout().isBlank(), r.stderr());
    }

    /** Bytes that are not UTF-8 in an argument were replaced by U+FFFD and used; now they are refused. */
    @Test
    void argumentsThatAreNotUtf8AreRefused() throws Exception {
        for (String locale : List.of("C.UTF-8", "C")) {
            Run r = bash("LC_ALL=" + locale + " \"$RAST\" generate --model \"$REF\" --prompt $'caf\\xe9' --max-tokens 1 --device cpu");
            assertEquals(Main.EXIT_BAD_INPUT, r.status(), r.stderr());
            assertEquals("error: the value of --prompt is not valid UTF-8 (it holds bytes that do not decode, or U+FFFD itself):"
                    + " give text as UTF-8", r.stderr().strip(), locale);
        }
    }

    /**
     * A message quoting a NUL byte (here from a JSON escape in config.json) made grep, which filters the launcher's
     * stderr, print "binary file matches" instead of it. The one-line message escapes it; the stack trace of --verbose
     * keeps it raw, and grep must pass that through as text.
     */
    @Test
    void messagesWithControlCharactersAreNeverLost() throws Exception {
        Run r = bash("""
                mkdir -p "$PWD/nul" && cp "$REF/model.safetensors" "$PWD/nul/"
                sed 's/"Qwen2ForCausalLM"/"Qwen\\\\u0000\\\\u001b[31mX"/' "$REF/config.json" > "$PWD/nul/config.json"
                "$RAST" forward --model "$PWD/nul" --tokens 1 --device cpu
                """);
        assertEquals(Main.EXIT_BAD_INPUT, r.status(), r.stderr());
        String line = r.stderr().strip();
        assertEquals(1, line.lines().count(), line);
        assertTrue(line.startsWith("error: ") && line.contains("'Qwen\\x00\\x1b[31mX'"), line);
        r = bash("\"$RAST\" forward --model \"$PWD/nul\" --tokens 1 --device cpu --verbose");
        assertEquals(Main.EXIT_BAD_INPUT, r.status(), r.stderr());
        assertTrue(r.stderr().contains("Qwen\u0000\u001b[31mX"), r.stderr());
        assertFalse(r.stderr().toLowerCase().contains("binary file"), r.stderr());
    }
}
