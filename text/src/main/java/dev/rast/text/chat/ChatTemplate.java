package dev.rast.text.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import dev.rast.engine.BadInputException;
import dev.rast.text.Py;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jinjava.javax.el.CompositeELResolver;

/**
 * A model's own chat template, rendered as Hugging Face's {@code tokenizer.apply_chat_template(messages,
 * tokenize=False, add_generation_prompt=...)} renders it.
 *
 * <p>HF renders with Jinja2 (trim_blocks and lstrip_blocks on) and passes {@code messages}, {@code tools=None},
 * {@code documents=None}, {@code add_generation_prompt}, the set special tokens ({@code bos_token},
 * {@code eos_token}, ...) and any extra keyword such as {@code enable_thinking}; globals {@code raise_exception}
 * and {@code strftime_now}; its own {@code tojson} (json.dumps, non-ASCII kept). We render with Jinjava after
 * {@link JinjaSource} has applied Jinja2's whitespace rules and rewritten the Python-only syntax; Python's string
 * methods come from {@link PyMethods}; {@code trim}, {@code length}, {@code string} and {@code tojson} are replaced
 * by Python-exact versions.
 *
 * <p>Known difference: a None value prints as nothing (Jinja2 prints "None"); Jinjava cannot tell None from
 * undefined, and printing a missing field (undefined, which prints nothing in both) is the common case.
 */
public final class ChatTemplate {
    private static final Jinjava JINJAVA = newJinjava();

    private final String source;
    private final String sourceName;
    private final String jinjavaSource;
    private final Map<String, String> specialTokens;

    private ChatTemplate(String source, String sourceName, String jinjavaSource, Map<String, String> specialTokens) {
        this.source = source;
        this.sourceName = sourceName;
        this.jinjavaSource = jinjavaSource;
        this.specialTokens = specialTokens;
    }

    /** The default chat template of a tokenizer config, with its special tokens. */
    public static ChatTemplate of(TokenizerConfig config) {
        return compile(config.chatTemplate(), config.chatTemplateSource(), config.specialTokens());
    }

    /**
     * Compiles template source; syntax errors are reported here, naming {@code sourceName} and the line.
     *
     * @param sourceName    where the text came from, e.g. "models/x/tokenizer_config.json (field chat_template)"
     * @param specialTokens variables every render gets, e.g. bos_token → "&lt;|begin_of_text|&gt;"
     */
    public static ChatTemplate compile(String source, String sourceName, Map<String, String> specialTokens) {
        String translated;
        try {
            translated = JinjaSource.translate(source);
        } catch (JinjaSource.SyntaxError e) {
            throw new BadInputException(sourceName + ": chat template syntax error at line " + e.line + ": " + e.getMessage());
        }
        ChatTemplate t = new ChatTemplate(source, sourceName, translated, Map.copyOf(specialTokens));
        t.checkParses();
        return t;
    }

    public String source() { return source; }

    public String sourceName() { return sourceName; }

    /** Renders a conversation. */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }

    /** Renders a conversation with extra template variables, e.g. {@code enable_thinking → false} for Qwen3. */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, ?> extra) {
        List<Map<String, Object>> maps = new ArrayList<>();
        for (ChatMessage m : messages) {
            Map<String, Object> mm = new LinkedHashMap<>();
            mm.put("role", m.role());
            mm.put("content", m.content());
            maps.add(mm);
        }
        return renderMaps(maps, addGenerationPrompt, extra);
    }

    /**
     * Renders messages given as maps, for fields beyond role and content ({@code tool_calls},
     * {@code reasoning_content}). Values: strings, numbers, booleans, null, lists and maps of those.
     */
    public String renderMaps(List<? extends Map<String, ?>> messages, boolean addGenerationPrompt, Map<String, ?> extra) {
        if (messages.isEmpty()) throw new BadInputException("cannot apply a chat template to an empty conversation");
        Map<String, Object> vars = new HashMap<>(specialTokens);
        vars.put("messages", copy(messages));
        vars.put("tools", null);
        vars.put("documents", null);
        vars.put("add_generation_prompt", addGenerationPrompt);
        extra.forEach((k, v) -> vars.put(k, copy(v)));

        TemplateFunctions.RAISED.remove();
        RenderResult r;
        try {
            r = JINJAVA.renderForResult(jinjavaSource, vars);
        } catch (LinkageError e) {
            // A Jinjava-only filter (ipaddr, b64encode, log, root) whose library the engine pom leaves out;
            // Jinja2 has none of them, so no Hugging Face template can use one.
            throw new BadInputException(sourceName + ": chat template uses a Jinjava-only feature that is not "
                    + "available (" + e.getMessage() + ")");
        } finally {
            String raised = TemplateFunctions.RAISED.get();
            TemplateFunctions.RAISED.remove();
            if (raised != null) throw new BadInputException(sourceName + ": chat template raised: " + raised);
        }
        for (TemplateError e : r.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) throw error("error", e);
        }
        return r.getOutput();
    }

    /** Parses the translated source once, so a template Jinjava cannot read fails at load, not at first use. */
    private void checkParses() {
        JinjavaInterpreter interp = JINJAVA.newInterpreter();
        JinjavaInterpreter.pushCurrent(interp);
        try {
            interp.parse(jinjavaSource);
        } finally {
            JinjavaInterpreter.popCurrent();
        }
        for (TemplateError e : interp.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) throw error("syntax error", e);
        }
    }

    private BadInputException error(String what, TemplateError e) {
        String where = e.getLineno() > 0 ? " at line " + e.getLineno() : "";
        return new BadInputException(sourceName + ": chat template " + what + where + ": " + e.getMessage());
    }

    /** Deep copy into mutable LinkedHashMap/ArrayList, which Jinjava reads like Python dicts and lists. */
    private static Object copy(Object v) {
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(String.valueOf(k), copy(x)));
            return out;
        }
        if (v instanceof Collection<?> c) {
            List<Object> out = new ArrayList<>();
            for (Object x : c) out.add(copy(x));
            return out;
        }
        return v;
    }

    // ---- the Jinjava environment ----

    private static Jinjava newJinjava() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PyMethods());
        resolver.add(com.hubspot.jinjava.el.JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(false) // JinjaSource has applied Jinja2's rules already
                .withLstripBlocks(false)
                .withKeepTrailingNewline(true)
                .withElResolver(resolver)
                .withFailOnUnknownTokens(false)
                // Jinjava would render "{{ ... }}" found in a message's text as a template; Jinja2 never does.
                .withNestedInterpretationEnabled(false)
                // "for k in dict" walks the keys in Python; Jinjava walks the values unless told.
                .withIterateOverMapKeys(true)
                .build();
        Jinjava j = new Jinjava(config);
        fn(j, "raise_exception", "raiseException", 1);
        fn(j, "strftime_now", "strftimeNow", 1);
        fn(j, "rast_str", "str", 1);
        fn(j, "rast_slice", "slice", 4);
        fn(j, "rast_list", "list", 1);
        fn(j, "rast_dict", "dict", 1);
        fn(j, "rast_previtem", "previtem", 2);
        fn(j, "rast_nextitem", "nextitem", 2);
        j.registerFilter(new PyFilter("tojson") {
            @Override Object apply(Object v, Object[] args, Map<String, Object> kw) {
                Object indent = kw.containsKey("indent") ? kw.get("indent") : args.length > 0 ? args[0] : null;
                Object seps = kw.get("separators");
                String itemSep = null, keySep = null;
                if (seps != null) {
                    List<Object> s = Py.toList(seps);
                    itemSep = Py.str(s.get(0));
                    keySep = Py.str(s.get(1));
                }
                return PyJson.dumps(v, indent, itemSep, keySep, Py.truthy(kw.get("sort_keys")));
            }
        });
        j.registerFilter(new PyFilter("trim") {
            @Override Object apply(Object v, Object[] args, Map<String, Object> kw) {
                Object chars = kw.containsKey("chars") ? kw.get("chars") : args.length > 0 ? args[0] : null;
                return Py.strip(TemplateFunctions.str(v), chars == null ? null : Py.str(chars), true, true);
            }
        });
        for (String name : new String[] {"length", "count"}) {
            j.registerFilter(new PyFilter(name) {
                @Override Object apply(Object v, Object[] args, Map<String, Object> kw) {
                    if (v instanceof CharSequence cs) return (long) cs.toString().codePointCount(0, cs.length());
                    if (v instanceof Map<?, ?> m) return (long) m.size();
                    if (v instanceof Collection<?> c) return (long) c.size();
                    return v == null ? 0L : (long) Py.toList(v).size();
                }
            });
        }
        j.registerFilter(new PyFilter("list") {
            @Override Object apply(Object v, Object[] args, Map<String, Object> kw) { return Py.toList(v); }
        });
        j.registerFilter(new PyFilter("string") {
            @Override Object apply(Object v, Object[] args, Map<String, Object> kw) { return Py.str(v); }
        });
        return j;
    }

    private static void fn(Jinjava j, String name, String method, int arity) {
        Class<?>[] params = new Class<?>[arity];
        java.util.Arrays.fill(params, Object.class);
        j.registerFunction(new ELFunctionDefinition("", name, TemplateFunctions.class, method, params));
    }

    /** A filter that takes Jinja2's positional and keyword arguments as objects. */
    private abstract static class PyFilter implements Filter {
        private final String name;

        PyFilter(String name) { this.name = name; }

        abstract Object apply(Object value, Object[] args, Map<String, Object> kwargs);

        @Override public String getName() { return name; }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            return apply(var, args == null ? new Object[0] : args, kwargs == null ? Map.of() : kwargs);
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return apply(var, args, Map.of());
        }
    }
}
