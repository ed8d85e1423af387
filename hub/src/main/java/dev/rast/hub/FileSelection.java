package dev.rast.hub;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which files of a repository a pull downloads. By default what the engine reads, from the repository's top folder:
 * the config, the generation config, the tokenizer files and chat templates, the safetensors weights and their
 * index. With {@code --include} globs, the files they match instead (anywhere in the repository). Pickled weights
 * ({@code *.bin}, {@code *.pt}, {@code *.pth}, {@code *.pkl}, {@code *.ckpt}) never: loading them can run code.
 */
public final class FileSelection {
    private static final List<Glob> ENGINE = globs(List.of("config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "vocab.json", "merges.txt",
            "chat_template.jinja", "chat_template.json", "*.safetensors", "*.safetensors.index.json"));
    private static final Set<String> PICKLED = Set.of(".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt");

    private final List<Glob> globs;
    private final boolean topOnly;

    private FileSelection(List<Glob> globs, boolean topOnly) {
        this.globs = globs;
        this.topOnly = topOnly;
    }

    /** What the engine needs to load a model and its tokenizer. */
    public static FileSelection engine() { return new FileSelection(ENGINE, true); }

    /** The files matching any of {@code patterns}; the engine's files when there are none. */
    public static FileSelection of(List<String> patterns) {
        if (patterns == null || patterns.isEmpty()) return engine();
        return new FileSelection(globs(patterns), false);
    }

    public boolean wants(String file) {
        if (pickled(file) || (topOnly && file.contains("/"))) return false;
        for (Glob g : globs) if (g.matches(file)) return true;
        return false;
    }

    static boolean pickled(String file) {
        int dot = file.lastIndexOf('.');
        return dot >= 0 && PICKLED.contains(file.substring(dot).toLowerCase(Locale.ROOT));
    }

    @Override public String toString() { return topOnly ? "the engine's files" : "--include " + globs; }

    private static List<Glob> globs(List<String> patterns) { return patterns.stream().map(Glob::new).toList(); }
}
