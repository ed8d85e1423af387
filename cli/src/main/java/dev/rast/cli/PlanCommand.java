package dev.rast.cli;

import dev.rast.analysis.AnalysisFiles;
import dev.rast.engine.BadInputException;
import dev.rast.engine.backend.Backend;
import dev.rast.engine.backend.BackendProvider;
import dev.rast.engine.config.ModelConfig;
import dev.rast.engine.model.KvCacheDtype;
import dev.rast.engine.tensor.DType;
import dev.rast.engine.weights.WeightDtype;
import dev.rast.plan.MemoryPlan;
import dev.rast.plan.ModelFootprint;
import dev.rast.run.ModelSet;
import dev.rast.run.SampleRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "plan", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Plan a run's memory from the models' configs (the paper's Table 4 / App. D).",
                "Weights, KV-cache bytes per token of every model, how many sequences of full length (prompt + --max-tokens) fit"
                        + " beside the weights, and what to change when --n does not. Reads config.json only; no weights are"
                        + " loaded. Memory: --memory, else what the GPU (or, without one, the host) has free now."},
        footer = {"", "Example:",
                "  rast plan --model models/Qwen2.5-7B --expert models/SimpleRL-Zoo-Qwen2.5-1.5B --expert-base models/Qwen2.5-1.5B \\",
                "      --n 32 --max-tokens 16384 --memory 80GiB"})
final class PlanCommand implements Callable<Integer> {
    @Mixin ModelOptions models;

    @Option(names = "--n", paramLabel = "N", defaultValue = "32", description = "Sequences decoding at once (default: ${DEFAULT-VALUE}).")
    int n;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "16384", description = "Tokens generated per sequence at most (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--prompt-len", paramLabel = "N", defaultValue = "512", description = "Prompt tokens per sequence (default: ${DEFAULT-VALUE}).")
    int promptLen;

    @Option(names = "--memory", paramLabel = "SIZE", description = "Device memory: bytes, or e.g. 80GiB, 141GB, 24G (GiB).")
    String memory;

    @Option(names = "--dtype", paramLabel = "auto|bf16|f32|q8_0|q4_0", defaultValue = "auto", description = "What the weights are computed in, as for rast generate (default: ${DEFAULT-VALUE}: each config's).")
    String dtype;

    @Option(names = "--kv-cache-dtype", paramLabel = "auto|f32|bf16", defaultValue = "auto", description = "What KV caches store, as for rast generate (default: ${DEFAULT-VALUE}).")
    String kvCacheDtype;

    @Option(names = "--json", description = "Print the plan as one JSON object.")
    boolean json;

    @Option(names = "--verbose", description = "Show stack traces on errors.")
    boolean verbose;

    @Override
    public Integer call() {
        if (n < 1 || maxTokens < 1 || promptLen < 0) throw new BadInputException("--n and --max-tokens must be at least 1, --prompt-len at least 0");
        WeightDtype w = WeightDtype.parse("--dtype", dtype);
        KvCacheDtype kv = KvCacheDtype.parse("--kv-cache-dtype", kvCacheDtype);
        List<ModelFootprint> fs = new ArrayList<>();
        fs.add(footprint("M", models.model, w, kv));
        int i = 1;
        for (ModelSet.Pair p : models.pairs()) {
            fs.add(footprint("E" + i, p.expert(), w, kv));
            fs.add(footprint("B" + i, p.base(), w, kv));
            i++;
        }
        MemoryPlan plan = new MemoryPlan(fs, n, promptLen, maxTokens, memoryBytes(), SampleRunner.KV_RESERVE_BYTES);
        if (json) System.out.println(AnalysisFiles.json(plan.toJson()));
        else System.out.print(plan.markdown());
        return 0;
    }

    /** A model folder's config, or an ORG/NAME[@REV]'s config.json from the Hub's cache (fetched alone if absent). */
    private static ModelFootprint footprint(String role, Path given, WeightDtype w, KvCacheDtype kv) {
        Path dir = ModelFolders.config(given);
        if (!Files.isDirectory(dir)) throw new BadInputException(dir + ": model folder not found");
        ModelConfig c = ModelConfig.load(dir);
        DType weights = w.resolve(c.torchDtype());
        return new ModelFootprint(role, dir.getFileName() == null ? dir.toString() : dir.getFileName().toString(), c, weights, kv.resolve(weights));
    }

    private long memoryBytes() {
        if (memory != null) {
            Long b = MemoryPlan.parseBytes(memory);
            if (b == null || b <= 0) throw new BadInputException("--memory " + memory + ": expected a size such as 80GiB, 141GB or 24G");
            return b;
        }
        try (Backend backend = BackendProvider.open(RuntimeOptions.resolve("auto"), 1)) {
            long free = backend.freeMemoryBytes();
            if (free < 0) throw new BadInputException("the free memory of " + backend.name() + " is unknown: give --memory SIZE");
            return free;
        }
    }
}
