package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.engine.tensor.DType;
import dev.rast.synth.SynthArch;
import dev.rast.synth.Synthesizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "synth", mixinStandardHelpOptions = true,
        description = {"Write a random-weight model with the real shapes and a real-looking config.json.",
                "For benchmarks and demos without a download: it runs at the real model's speed but knows nothing.",
                "Architectures: qwen2.5-0.5b, qwen2.5-1.5b, qwen2.5-7b, llama-3.2-1b, llama-3.1-8b, tiny."},
        footer = {"", "Examples:", "  rast synth --arch qwen2.5-0.5b --dtype bf16 --out /tmp/q05   # ~1 GB",
                "  rast synth --arch tiny --dtype f32 --out /tmp/tiny"})
final class SynthCommand implements Callable<Integer> {
    @Option(names = "--arch", required = true, paramLabel = "NAME", description = "Which model's shapes to copy.")
    String arch;

    @Option(names = "--dtype", paramLabel = "bf16|f32|f16", defaultValue = "bf16", description = "Weight dtype (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder to write (created; existing model files are replaced).")
    Path out;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--verbose", description = "Show stack traces on errors.")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        SynthArch a = SynthArch.byName(arch);
        DType dt = switch (dtype.toLowerCase(java.util.Locale.ROOT)) {
            case "bf16", "bfloat16" -> DType.BF16;
            case "f32", "float32" -> DType.F32;
            case "f16", "float16" -> DType.F16;
            default -> throw new BadInputException("--dtype '" + dtype + "' is not one of bf16, f32, f16");
        };
        if (Files.exists(out) && !Files.isDirectory(out)) throw new BadInputException("--out " + out + ": exists and is not a folder");
        long total = Synthesizer.plan(a, dt, seed).totalBytes();
        try (ProgressBar bar = new ProgressBar("synth " + a.name(), total, "MB", 1e6)) {
            Synthesizer.write(a, dt, seed, out, bar::update);
        } catch (java.nio.file.FileSystemException e) {
            throw new BadInputException("--out " + out + ": cannot write: " + e.getMessage());
        }
        System.out.println("wrote " + out.resolve("model.safetensors") + " (" + a.name() + ", " + dt + ", "
                + String.format("%.2f GB", total / 1e9) + ", random weights)");
        return 0;
    }
}
