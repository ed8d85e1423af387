package dev.rast.text.chat;

import dev.rast.engine.BadInputException;
import dev.rast.engine.files.InputFiles;
import dev.rast.engine.files.Utf8;
import dev.rast.engine.json.Json;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model folder's {@code tokenizer_config.json}: the chat template and the special tokens it may print.
 *
 * <p>{@code chat_template} is either one template or a list of {@code {"name", "template"}}, of which "default" is
 * used (as transformers does). A {@code chat_template.jinja} file next to the config replaces the config's default
 * template, again as transformers does. Special tokens are strings or AddedToken objects
 * ({@code {"content": "<|im_end|>", ...}}); null means unset.
 *
 * @param file            the tokenizer_config.json this came from (for messages)
 * @param chatTemplates   template name → source; a single template is named "default"
 * @param templateSources template name → where its text came from, for error messages
 * @param addBosToken     {@code add_bos_token} if the config says, else null
 * @param addEosToken     {@code add_eos_token} if the config says, else null
 */
public record TokenizerConfig(
        Path file,
        Map<String, String> chatTemplates,
        Map<String, String> templateSources,
        String bosToken,
        String eosToken,
        String padToken,
        String unkToken,
        Boolean addBosToken,
        Boolean addEosToken) {

    public static final String FILE = "tokenizer_config.json";
    public static final String TEMPLATE_FILE = "chat_template.jinja";

    /** Reads {@code dir/tokenizer_config.json} (and {@code dir/chat_template.jinja} if present). */
    public static TokenizerConfig load(Path dir) {
        if (!Files.isDirectory(dir)) throw new BadInputException(dir + ": tokenizer directory does not exist");
        Path file = dir.resolve(FILE);
        String text = read(file, InputFiles.TOKENIZER_MAX_BYTES,
                "file not found (the tokenizer folder needs a tokenizer_config.json for the chat template)");
        TokenizerConfig c = parse(file, text);
        Path jinja = dir.resolve(TEMPLATE_FILE);
        if (Files.exists(jinja, LinkOption.NOFOLLOW_LINKS)) { // in any form: a pipe or dangling link is refused by name
            Map<String, String> t = new LinkedHashMap<>(c.chatTemplates);
            Map<String, String> src = new LinkedHashMap<>(c.templateSources);
            t.put("default", read(jinja, InputFiles.TEMPLATE_MAX_BYTES, "file not found"));
            src.put("default", jinja.toString());
            c = new TokenizerConfig(file, frozen(t), frozen(src), c.bosToken, c.eosToken, c.padToken,
                    c.unkToken, c.addBosToken, c.addEosToken);
        }
        return c;
    }

    /** The file as strict UTF-8 text: bytes that are not UTF-8 are refused by offset, never replaced. */
    private static String read(Path file, long maxBytes, String missing) {
        return Utf8.decode(InputFiles.read(file, maxBytes, missing), file);
    }

    public static TokenizerConfig parse(Path file, String text) {
        Map<String, Object> m = Json.parseObject(text, file);

        Map<String, String> templates = new LinkedHashMap<>();
        Map<String, String> sources = new LinkedHashMap<>();
        Object ct = m.get("chat_template");
        if (ct instanceof String s) {
            templates.put("default", s);
            sources.put("default", file + " (field chat_template)");
        } else if (ct instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                String where = "chat_template[" + i + "]";
                if (!(list.get(i) instanceof Map<?, ?> e) || !(e.get("name") instanceof String name)
                        || !(e.get("template") instanceof String tpl))
                    throw bad(file, where, "must be an object with string fields \"name\" and \"template\"");
                templates.put(name, tpl);
                sources.put(name, file + " (field " + where + ", \"" + name + "\")");
            }
        } else if (ct != null) {
            throw bad(file, "chat_template", "must be a string or a list of {name, template}");
        }
        return new TokenizerConfig(file, frozen(templates), frozen(sources),
                token(file, m, "bos_token"), token(file, m, "eos_token"), token(file, m, "pad_token"),
                token(file, m, "unk_token"), bool(file, m, "add_bos_token"), bool(file, m, "add_eos_token"));
    }

    /** A special token given as a string or as an AddedToken-like object with "content"; null if absent or null. */
    private static String token(Path file, Map<String, Object> m, String field) {
        Object v = m.get(field);
        if (v == null) return null;
        if (v instanceof String s) return s;
        if (v instanceof Map<?, ?> obj && obj.get("content") instanceof String s) return s;
        throw bad(file, field, "must be a string, null, or an object with a string \"content\"");
    }

    private static Boolean bool(Path file, Map<String, Object> m, String field) {
        Object v = m.get(field);
        if (v == null) return null;
        if (v instanceof Boolean b) return b;
        throw bad(file, field, "must be true or false");
    }

    private static Map<String, String> frozen(Map<String, String> m) {
        return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(m));
    }

    private static BadInputException bad(Path file, String field, String what) {
        return new BadInputException(file + ": field " + field + " " + what);
    }

    /** The template HF uses by default ("default"); a clear error naming the file when the model has none. */
    public String chatTemplate() {
        if (chatTemplates.containsKey("default")) return chatTemplates.get("default");
        if (chatTemplates.isEmpty())
            throw bad(file, "chat_template", "is missing: this tokenizer has no chat template (base models often "
                    + "have none; use a named prompt format instead)");
        throw bad(file, "chat_template", "has no template named \"default\" (it has " + chatTemplates.keySet() + ")");
    }

    /** Where the default template's text came from, for messages: the file and field, or chat_template.jinja. */
    public String chatTemplateSource() {
        return templateSources.getOrDefault("default", file + " (field chat_template)");
    }

    /** The special tokens HF passes to every template (its special_tokens_map): only those that are set. */
    public Map<String, String> specialTokens() {
        Map<String, String> out = new LinkedHashMap<>();
        if (bosToken != null) out.put("bos_token", bosToken);
        if (eosToken != null) out.put("eos_token", eosToken);
        if (unkToken != null) out.put("unk_token", unkToken);
        if (padToken != null) out.put("pad_token", padToken);
        return out;
    }

    public Optional<String> bos() { return Optional.ofNullable(bosToken); }

    public Optional<String> eos() { return Optional.ofNullable(eosToken); }
}
