package dev.rast.cli;

import dev.rast.hub.HubSettings;
import dev.rast.hub.ModelResolver;
import dev.rast.hub.Need;
import java.nio.file.Path;

/**
 * The model folder options (--model, --expert, --expert-base, --tokenizer): a folder, or a model on the Hugging Face
 * Hub as ORG/NAME[@REV], taken from the cache or downloaded first (see ModelResolver). A folder that exists wins.
 */
final class ModelFolders {
    static final String HELP = " A folder, or ORG/NAME[@REV] on the Hugging Face Hub (cached, else downloaded).";

    private ModelFolders() {}

    static Path model(Path given) { return resolve(given, Need.MODEL); }

    static Path tokenizer(Path given) { return resolve(given, Need.TOKENIZER); }

    /** A folder with a config.json: a name is fetched with its config.json alone (rast plan reads nothing else). */
    static Path config(Path given) { return resolve(given, Need.CONFIG); }

    private static Path resolve(Path given, Need need) {
        if (given == null) return null;
        return new ModelResolver(HubSettings::current).resolve(given.toString(), need, new PullProgress());
    }
}
