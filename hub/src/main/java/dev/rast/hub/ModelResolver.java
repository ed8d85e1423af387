package dev.rast.hub;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Turns what a user gave for a model folder into a folder: a path that exists is used as it is (a local folder
 * always wins over a repository of the same name); {@code ORG/NAME[@REV]} is the cached snapshot when it is complete
 * (no network), else it is downloaded first, unless HF_HUB_OFFLINE forbids it; anything else is returned as a path,
 * for the loader to say it is missing.
 */
public final class ModelResolver {
    private final Supplier<HubSettings> environment;
    private final RetryPolicy retry;
    private HubSettings settings;

    /** Settings read from the environment only when a model name needs them: local folders never do. */
    public ModelResolver(Supplier<HubSettings> environment) { this(environment, RetryPolicy.DEFAULT); }

    public ModelResolver(HubSettings settings, RetryPolicy retry) { this(() -> settings, retry); }

    private ModelResolver(Supplier<HubSettings> environment, RetryPolicy retry) {
        this.environment = environment;
        this.retry = retry;
    }

    public Path resolve(String given, Need need, DownloadListener listener) {
        Path local = Path.of(given);
        if (Files.exists(local)) return local;
        Optional<ModelSpec> parsed = ModelSpec.parse(given);
        if (parsed.isEmpty()) return local;
        ModelSpec spec = parsed.get();
        HubSettings settings = settings();
        Optional<Path> cached = cached(spec, need);
        if (cached.isPresent()) return cached.get();
        if (settings.offline())
            throw new HubException("no folder " + given + " here, and no complete copy of model " + spec + " in the Hugging Face cache "
                    + settings.cache() + partial(spec, need) + "; HF_HUB_OFFLINE is set, so it is not downloaded: unset it, or run `rast pull "
                    + spec + "` where there is network");
        Path snapshot;
        try {
            snapshot = new HubClient(settings, retry).pull(spec, need.files(), listener);
        } catch (HubException e) { // the name may have been meant as a folder: say that it is not one either
            throw new HubException("no folder " + given + " here, and " + e.getMessage(), e);
        }
        List<String> missing = need.missing(snapshot);
        if (!missing.isEmpty())
            throw new HubException(spec + " is not a model rast can load: after the download it lacks " + String.join(", ", missing) + " (" + snapshot + ")");
        return snapshot;
    }

    /** The cached snapshot of {@code spec} if it has everything {@code need} asks for. */
    public Optional<Path> cached(ModelSpec spec, Need need) {
        return cached(spec).filter(s -> need.missing(s).isEmpty());
    }

    /** The cached snapshot of {@code spec}, complete or not. */
    public Optional<Path> cached(ModelSpec spec) {
        HubCache cache = new HubCache(settings().cache());
        return cache.commitOf(spec).map(c -> cache.snapshot(spec.repo(), c)).filter(Files::isDirectory);
    }

    private HubSettings settings() {
        if (settings == null) settings = environment.get();
        return settings;
    }

    private String partial(ModelSpec spec, Need need) {
        return cached(spec).map(s -> " (its snapshot there lacks " + String.join(", ", need.missing(s)) + ")").orElse("");
    }
}
