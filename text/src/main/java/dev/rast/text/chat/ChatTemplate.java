package dev.rast.text.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.el.JinjavaNodePreProcessor;
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
 * <p>Where Jinja2 raises, rendering fails with a message naming the template line: an unknown filter or test,
 * {@code include}/{@code import}/{@code extends} (no loader, as in HF's environment), division by zero, a lookup
 * through an undefined value ({@link Lookup}), a {@code range} over more than 100,000 numbers (HF's sandbox limit),
 * macro recursion past Jinja2's depth. A template is data from a model folder, so it also runs under limits Jinja2
 * leaves to Python's memory: {@value #MAX_RENDER_SECONDS} s of rendering, {@value #MAX_OUTPUT_CHARS} characters of
 * output or of any one string, {@value #MAX_COLLECTION_SIZE} items in any list or dict.
 *
 * <p>Known difference: a None value prints as nothing (Jinja2 prints "None"); Jinjava cannot tell None from
 * undefined, and printing a missing field (undefined, which prints nothing in both) is the common case.
 */
public final class ChatTemplate {
    /** Longest a render may run: real templates take milliseconds; loops nested without end would take forever. */
    static final int MAX_RENDER_SECONDS = 10;
    /** Most characters of output, and of any one string built while rendering (16 Mi: far past any context). */
    static final int MAX_OUTPUT_CHARS = 16 << 20;
    /** Most items of any list or dict a template builds (a list doubled in a loop would fill the heap). */
    static final int MAX_COLLECTION_SIZE = 1_000_000;
    /** Nested macro calls Jinja2 (on CPython's default recursion limit) allows before its RecursionError. */
    static final int MAX_MACRO_DEPTH = 150;

    private static final Jinjava JINJAVA = newJinjava();
    private static final JinjaSource.Names NAMES = new TemplateNames(JINJAVA);

    private final String source;
    private final String sourceName;
    private final String jinjavaSource;
    private final Map<String, String> specialTokens;
    private int renderSeconds = MAX_RENDER_SECONDS;

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
            translated = JinjaSource.translate(source, NAMES);
        } catch (JinjaSource.SyntaxError e) {
            throw new BadInputException(sourceName + ": chat template syntax error at line " + e.line + ": " + e.getMessage());
        }
        ChatTemplate t = new ChatTemplate(source, sourceName, translated, Map.copyOf(specialTokens));
        t.checkParses();
        return t;
    }

    /** A shorter render time limit than {@link #MAX_RENDER_SECONDS}, for tests of the limit. */
    ChatTemplate renderLimit(int seconds) {
        renderSeconds = seconds;
        return this;
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
        RenderDeadline.start(renderSeconds);
        Lookup.given(vars.keySet());
        try {
            r = JINJAVA.renderForResult(jinjavaSource, vars);
        } catch (LinkageError e) {
            // A Jinjava-only filter (ipaddr, b64encode, log, root) whose library the engine pom leaves out;
            // Jinja2 has none of them, so no Hugging Face template can use one.
            throw new BadInputException(sourceName + ": chat template uses a Jinjava-only feature that is not "
                    + "available (" + e.getMessage() + ")");
        } catch (StackOverflowError e) {
            throw new BadInputException(sourceName + ": chat template error: maximum recursion depth exceeded");
        } finally {
            boolean late = RenderDeadline.stop();
            Lookup.given(null);
            String raised = TemplateFunctions.RAISED.get();
            TemplateFunctions.RAISED.remove();
            if (late) throw new BadInputException(sourceName + ": chat template took more than " + renderSeconds
                    + " s to render and was stopped (a loop without end, or loops nested too deep?)");
            if (raised != null) throw new BadInputException(sourceName + ": chat template raised: " + raised);
        }
        // Jinjava records an error and renders on where Jinja2 raises; every error it records fails the render.
        for (TemplateError e : r.getErrors()) throw error("error", e);
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
        return new BadInputException(sourceName + ": chat template " + what + where + ": " + TemplateErrors.message(e));
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
                .withMaxOutputSize(MAX_OUTPUT_CHARS)
                .withMaxStringLength(MAX_OUTPUT_CHARS)
                .withMaxListSize(MAX_COLLECTION_SIZE)
                .withMaxMapSize(MAX_COLLECTION_SIZE)
                .withRangeLimit(TemplateFunctions.MAX_RANGE)
                // Jinja2 lets a macro call itself; its depth is bounded as CPython bounds it.
                .withEnableRecursiveMacroCalls(true)
                .withMaxMacroRecursionDepth(MAX_MACRO_DEPTH)
                .withNodePreProcessor(new JinjavaNodePreProcessor().andThen(RenderDeadline::check))
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
        Jinjava j = new PyJinjava(config);
        // No loader: JinjaSource refuses include/import/extends, and nothing may read the class path either.
        j.setResourceLocator((name, charset, interpreter) -> {
            throw new java.io.IOException("chat templates cannot load other templates ('" + name + "')");
        });
        fn(j, "raise_exception", "raiseException", 1);
        j.registerFunction(new ELFunctionDefinition("", "range", TemplateFunctions.class, "range", Object.class, Object[].class));
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
