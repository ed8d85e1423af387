package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.hub.FileSelection;
import dev.rast.hub.HubClient;
import dev.rast.hub.HubException;
import dev.rast.hub.HubSettings;
import dev.rast.hub.ModelResolver;
import dev.rast.hub.ModelSpec;
import dev.rast.hub.Need;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "pull", mixinStandardHelpOptions = true,
        description = {"Download a model from the Hugging Face Hub into its cache and print the snapshot folder.",
                "Downloads what rast reads (config.json, generation_config.json, the tokenizer files, *.safetensors and",
                "their index), never pickled weights (*.bin, *.pt). The cache is huggingface_hub's own (HF_HUB_CACHE, else",
                "HF_HOME/hub, else ~/.cache/huggingface/hub), so Python's downloads are reused and the other way round.",
                "Several files at once; an interrupted pull resumes where it stopped. Gated models (Llama 3.1) need a token:",
                "HF_TOKEN, or the token file `huggingface-cli login` writes. HF_ENDPOINT names a mirror; with",
                "HF_HUB_OFFLINE=1 it only prints a snapshot already cached."},
        footer = {"", "Examples:", "  rast pull Qwen/Qwen2.5-0.5B-Instruct",
                "  rast pull meta-llama/Llama-3.1-8B-Instruct --revision main     # gated: HF_TOKEN=hf_... first",
                "  rast pull Qwen/Qwen2.5-7B --include 'tokenizer*'               # only the tokenizer files",
                "  rast generate --model Qwen/Qwen2.5-0.5B-Instruct --chat --prompt 'Hi'   # pulls first if needed"})
final class PullCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "ORG/NAME[@REV]", description = "The model repository, e.g. Qwen/Qwen2.5-0.5B.")
    String name;

    @Option(names = "--revision", paramLabel = "REV", description = "Branch, tag or commit (default: main, or the @REV of the name).")
    String revision;

    @Option(names = "--include", paramLabel = "GLOB", description = "Only the files matching GLOB (repeatable; fnmatch: '*' crosses '/'), instead of what rast reads.")
    List<String> include = new ArrayList<>();

    @Override
    public Integer call() {
        ModelSpec spec = ModelSpec.parse(name).orElseThrow(() -> new BadInputException(
                "'" + name + "' is not a model name: give ORG/NAME or ORG/NAME@REV, e.g. Qwen/Qwen2.5-0.5B"));
        if (revision != null) {
            if (name.contains("@")) throw new BadInputException("--revision " + revision + " and the @ in " + name + " both name a revision: give one");
            spec = new ModelSpec(spec.repo(), revision);
        }
        HubSettings settings = HubSettings.current();
        Path snapshot = settings.offline() ? cachedOnly(settings, spec) : new HubClient(settings).pull(spec, FileSelection.of(include), new PullProgress());
        System.out.println(snapshot);
        return 0;
    }

    /** With HF_HUB_OFFLINE: the cached snapshot, complete for rast (or, with --include, as it is). */
    private Path cachedOnly(HubSettings settings, ModelSpec spec) {
        ModelResolver resolver = new ModelResolver(() -> settings);
        return (include.isEmpty() ? resolver.cached(spec, Need.MODEL) : resolver.cached(spec)).orElseThrow(() -> new HubException(spec + " is not complete in the Hugging Face cache " + settings.cache()
                + ", and HF_HUB_OFFLINE is set, so it is not downloaded: unset HF_HUB_OFFLINE to download it"));
    }
}
