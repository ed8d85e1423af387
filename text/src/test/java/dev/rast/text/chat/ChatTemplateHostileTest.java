package dev.rast.text.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.rast.engine.BadInputException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Templates that Jinja2, in the environment Hugging Face renders with (ImmutableSandboxedEnvironment), refuses or
 * raises on, and templates that would run without end. Each expectation was checked against Jinja2 3.1: where it
 * raises, rendering here fails with one message naming the template line; where it prints nothing, so do we.
 */
class ChatTemplateHostileTest {
    static final String SRC = "m/tokenizer_config.json (field chat_template)";
    static final List<ChatMessage> HI = List.of(ChatMessage.user("hi"));

    static String render(String template) {
        return ChatTemplate.compile(template, SRC, Map.of()).render(HI, true);
    }

    /** The message of the error rendering (or compiling) {@code template} raises. */
    static String error(String template) {
        return assertThrows(BadInputException.class, () -> render(template)).getMessage();
    }

    @Test
    void divisionByZeroRaises() {
        assertEquals(SRC + ": chat template error at line 3: division by zero", error("a\nb\n{{ 1/0 }}"));
        assertEquals(SRC + ": chat template error at line 1: division by zero", error("{{ 1.0 / 0 }}"));
        assertEquals(SRC + ": chat template error at line 1: integer division or modulo by zero", error("{{ 1 // 0 }}"));
        assertEquals("3.5", render("{{ 7 / 2 }}"));
    }

    /** Jinja2 prints an undefined value as nothing, and raises on any lookup through one. */
    @Test
    void lookupsThroughUndefinedValuesRaise() {
        assertEquals("", render("{{ messages[5] }}"));
        assertEquals("", render("{{ messages[0].nope }}"));
        assertEquals("", render("{{ tools.x }}")); // tools is None: None.x is undefined, not an error
        assertEquals("no", render("{% if messages[5] is defined %}yes{% else %}no{% endif %}"));
        assertEquals(SRC + ": chat template error at line 2: 'list object' has no element 5", error("\n{{ messages[5].content }}"));
        assertEquals(SRC + ": chat template error at line 1: 'list object' has no element 5", error("{{ messages[5]['content'] }}"));
        assertEquals(SRC + ": chat template error at line 1: 'dict object' has no attribute 'nope'", error("{{ messages[0].nope.x }}"));
        assertEquals(SRC + ": chat template error at line 1: 'undefined_var' is undefined", error("{{ undefined_var.x }}"));
        assertEquals(SRC + ": chat template error at line 1: 'None' has no attribute 'x'", error("{{ tools.x.y }}"));
    }

    @Test
    void unknownFiltersAndTestsAreRefused() {
        assertEquals(SRC + ": chat template syntax error at line 2: no filter named 'nosuch'", error("ok\n{{ messages[0].content | nosuch }}"));
        assertEquals(SRC + ": chat template syntax error at line 1: no filter named 'nosuch'", error("{% filter nosuch %}x{% endfilter %}"));
        assertEquals(SRC + ": chat template syntax error at line 1: no test named 'nosuchtest'",
                error("{% if x is not nosuchtest %}{% endif %}"));
        // Jinjava's own filters are not Jinja2's: a Hugging Face template cannot use them.
        assertEquals(SRC + ": chat template syntax error at line 1: no filter named 'md5'", error("{{ 'a' | md5 }}"));
        assertEquals("HI", render("{{ messages[0].content | upper }}"));
    }

    /** No loader: Jinja2 raises "no loader for this environment specified"; Jinjava read the class path. */
    @Test
    void includeAndImportAreRefused() {
        for (String tag : new String[] {"{% include 'x.j2' %}", "{% import 'x.j2' as x %}", "{% from 'x.j2' import y %}",
                "{% extends 'x.j2' %}"}) {
            String word = tag.split(" ")[1];
            assertEquals(SRC + ": chat template syntax error at line 2: {% " + word + " %} needs a template loader, and chat"
                    + " templates have none (Hugging Face's environment has none either)", error("\n" + tag));
        }
    }

    /** A macro may call itself as in Jinja2 (Jinjava refused and printed nothing); without end it raises. */
    @Test
    void macroRecursionIsBounded() {
        assertEquals("bottom", render("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% else %}bottom{% endif %}{% endmacro %}{{ f(100) }}"));
        assertEquals(SRC + ": chat template error at line 1: maximum recursion depth exceeded (macro 'f' nested 150 deep)",
                error("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}"));
    }

    /** range: Jinjava stopped silently at 1000 numbers; Jinja2's sandbox allows 100,000 and raises past them. */
    @Test
    void rangeIsPythonsUpToTheSandboxLimit() {
        assertEquals("5000", render("{% set ns = namespace(n=0) %}{% for i in range(5000) %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}"));
        assertEquals("[2, 5, 8][3, 1]", render("{{ range(2, 10, 3) | list }}{{ range(3, 0, -2) | list }}"));
        assertEquals(SRC + ": chat template error at line 1: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).",
                error("{% for i in range(1000000000) %}{% endfor %}"));
    }

    @Test
    void outputAndCollectionsAreBounded() {
        String e = error("{% set x = 'ab' %}{% for i in range(40) %}{% set x = x ~ x %}{% endfor %}{{ x }}");
        assertEquals(SRC + ": chat template error at line 1: 33554432 byte output rendered, over limit of 16777216 bytes", e);
        e = error("{% set l = [1] %}{% for i in range(40) %}{% set l = l + l %}{% endfor %}{{ l | length }}");
        assertEquals(SRC + ": chat template error at line 1: Collection of size 1048576 is greater than the maximum size of 1000000", e);
    }

    @Test
    void renderTimeIsBounded() {
        ChatTemplate t = ChatTemplate.compile("{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}",
                SRC, Map.of()).renderLimit(1);
        BadInputException e = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThrows(BadInputException.class, () -> t.render(HI, true)));
        assertEquals(SRC + ": chat template took more than 1 s to render and was stopped (a loop without end, or loops nested"
                + " too deep?)", e.getMessage());
    }
}
