package dev.rast.text.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.BadInputException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A broken or raising template gives one BadInputException line that names where the template came from. */
class ChatTemplateErrorsTest {
    static final String SRC = "m/tokenizer_config.json (field chat_template)";

    static BadInputException compileError(String template) {
        return assertThrows(BadInputException.class, () -> ChatTemplate.compile(template, SRC, Map.of()));
    }

    static BadInputException renderError(String template, List<ChatMessage> messages) {
        ChatTemplate t = ChatTemplate.compile(template, SRC, Map.of());
        return assertThrows(BadInputException.class, () -> t.render(messages, true));
    }

    @Test
    void raiseExceptionIsOneClearMessage() {
        BadInputException e = renderError("{% if messages[0].role != 'system' %}{{ raise_exception('System message "
                + "required') }}{% endif %}ok", List.of(ChatMessage.user("hi")));
        assertEquals(SRC + ": chat template raised: System message required", e.getMessage());
    }

    @Test
    void syntaxErrorsNameTheFileAndLine() {
        BadInputException e = compileError("line one\n{{ 'unterminated }}\n");
        assertEquals(SRC + ": chat template syntax error at line 2: unterminated string literal", e.getMessage());
        e = compileError("a\nb\n{% if x %}never closed");
        assertTrue(e.getMessage().startsWith(SRC + ": chat template syntax error at line 3: "), e.getMessage());
        assertTrue(e.getMessage().contains("endif"), e.getMessage());
        e = compileError("{{ x ");
        assertEquals(SRC + ": chat template syntax error at line 1: tag opened here is never closed (expected '}}')",
                e.getMessage());
        e = compileError("ok\n\n{# comment");
        assertEquals(SRC + ": chat template syntax error at line 3: missing end of comment tag", e.getMessage());
        e = compileError("{{ messages[0] ) }}");
        assertTrue(e.getMessage().startsWith(SRC + ": chat template syntax error at line 1: "), e.getMessage());
    }

    /** Lines after whitespace control still count right: the stripped newlines are kept inside the tags. */
    @Test
    void lineNumbersSurviveWhitespaceControl() {
        BadInputException e = compileError("{%- if true -%}\n\n\n  {{- 'a' -}}\n\n{# c\n #}\n{% endif %}{% if unclosed %}");
        assertTrue(e.getMessage().startsWith(SRC + ": chat template syntax error at line 8: "), e.getMessage());
        e = compileError("{%- if true -%}\n\n\n  {{- 'a' -}}\n\n{# c\n #}\n{%- raw -%}\n x \n{%- endraw -%}\n"
                + "{% endif %}{% if unclosed %}");
        assertTrue(e.getMessage().startsWith(SRC + ": chat template syntax error at line 11: "), e.getMessage());
    }

    @Test
    void runtimeErrorsNameTheLine() {
        BadInputException e = renderError("ok\n{{ messages[0].content.frobnicate() }}", List.of(ChatMessage.user("hi")));
        assertTrue(e.getMessage().startsWith(SRC + ": chat template error at line 2: "), e.getMessage());
        assertTrue(e.getMessage().contains("frobnicate"), e.getMessage());
    }

    @Test
    void emptyConversationIsRefused() {
        ChatTemplate t = ChatTemplate.compile("{{ messages }}", SRC, Map.of());
        BadInputException e = assertThrows(BadInputException.class, () -> t.render(List.of(), true));
        assertEquals("cannot apply a chat template to an empty conversation", e.getMessage());
    }

    /** Message text is data: a "{{ ... }}" inside it is printed, never run (Jinjava would run it by default). */
    @Test
    void messageTextIsNeverInterpreted() {
        ChatTemplate t = ChatTemplate.compile("{{ messages[0].content }}", SRC, Map.of());
        assertEquals("{{ raise_exception('no') }} {% if %}", t.render(List.of(ChatMessage.user("{{ raise_exception('no') }} {% if %}")), false));
    }
}
