package dev.rast.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The workload the runtime image's AOT cache is recorded from (scripts/build-image.sh runs it once with
 * -XX:AOTCacheOutput): what a user's first commands load, so that the classes they need start loaded and linked. It
 * runs the real commands in one JVM on a tiny random model in a temporary folder, which it removes.
 */
public final class ImageTraining {
    private ImageTraining() {}

    public static void main(String[] args) throws IOException {
        Path tmp = Files.createTempDirectory("rast-image-training");
        try {
            String model = tmp.resolve("tiny").toString();
            run("--version");
            run("help", "generate");
            run("synth", "--arch", "tiny", "--dtype", "bf16", "--out", model);
            run("generate", "--model", model, "--prompt", "What is 7*8?", "--format", "qwen-boxed", "--max-tokens", "8", "--threads", "2");
            run("generate", "--model", model, "--expert", model, "--expert-base", model, "--prompt", "Hi", "--chat", "--n", "2",
                    "--max-tokens", "4", "--json", "--threads", "2");
            // The README's first command: the lab demo (its models copied out of the jar, eval's grader), kept short.
            run("demo", "--cache", tmp.resolve("demo").toString(), "--limit", "4", "--max-tokens", "8", "--threads", "2");
            // The Hub client's classes, offline against an empty cache: refused before any request.
            System.setProperty("HF_HUB_OFFLINE", "1");
            System.setProperty("HF_HUB_CACHE", tmp.resolve("hub").toString());
            run("pull", "test-org/none");
            run("generate", "--model", "test-org/none", "--prompt", "Hi");
            System.clearProperty("HF_HUB_OFFLINE");
            System.clearProperty("HF_HUB_CACHE");
        } finally {
            try (Stream<Path> s = Files.walk(tmp)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    private static void run(String... args) {
        int status = Main.run(args);
        System.err.println("image training: rast " + String.join(" ", args) + " -> " + status);
    }
}
