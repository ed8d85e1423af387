package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.engine.backend.Backend;
import dev.rast.engine.generate.Generator;
import dev.rast.engine.generate.StopTokens;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.Models;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generate a continuation of a prompt given as token ids (greedy decoding).",
                "Stops at --max-tokens or at an end-of-sequence id (from generation_config.json or config.json)."},
        footer = {"", "Examples:",
                "  rast generate --model /tmp/q05 --prompt-tokens 9707,11,1879 --max-tokens 32",
                "  rast generate --model /tmp/q05 --prompt-tokens 9707,11,1879 --max-tokens 12 --temperature 0 --json"})
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face model folder.")
    Path model;

    @Option(names = "--prompt-tokens", required = true, paramLabel = "IDS", description = "Prompt token ids, comma-separated.")
    String promptTokens;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "128", description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0", description = "0 = greedy (the only mode until the sampling stage lands).")
    double temperature;

    @Option(names = "--ignore-eos", description = "Do not stop at end-of-sequence ids.")
    boolean ignoreEos;

    @Option(names = "--json", description = "Print one line {\"tokens\": [...]} instead of streaming ids.")
    boolean json;

    @Mixin RuntimeOptions runtime;

    @Override
    public Integer call() {
        int[] prompt = TokenIds.parse("--prompt-tokens", promptTokens);
        if (maxTokens < 1) throw new BadInputException("--max-tokens must be at least 1, is " + maxTokens);
        if (temperature != 0) throw new BadInputException("--temperature " + temperature + ": only greedy decoding (0) is implemented so far");
        try (Backend backend = runtime.open(); CausalLM m = Models.load(model, backend)) {
            TokenIds.check("--prompt-tokens", prompt, m.config().vocabSize());
            Set<Integer> stop = ignoreEos ? Set.of() : StopTokens.read(model, m.config());
            int[] out = new Generator(m).greedy(prompt, maxTokens, stop, json ? null : id -> {
                System.out.print(id + " ");
                System.out.flush();
            });
            if (json) System.out.println("{\"tokens\": [" + Arrays.stream(out).mapToObj(Integer::toString).collect(Collectors.joining(", ")) + "]}");
            else System.out.println();
        }
        return 0;
    }
}
