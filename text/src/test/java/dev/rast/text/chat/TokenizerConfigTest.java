package dev.rast.text.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.BadInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tokenizer_config.json as Hugging Face publishes it, in its several shapes, and what is wrong with bad ones. */
class TokenizerConfigTest {
    @TempDir Path tmp;

    @Test
    void readsTheSharedQwen3AndLlamaConfigs() {
        Path res = ChatTemplateReferenceTest.resources();
        TokenizerConfig qwen = TokenizerConfig.load(res.resolve("qwen3"));
        assertNull(qwen.bosToken());
        assertEquals("<|im_end|>", qwen.eosToken());
        assertEquals("<|endoftext|>", qwen.padToken());
        assertEquals(Boolean.FALSE, qwen.addBosToken());
        assertNull(qwen.addEosToken());
        assertTrue(qwen.chatTemplate().startsWith("{%- if tools %}"));
        assertEquals(Map.of("eos_token", "<|im_end|>", "pad_token", "<|endoftext|>"), qwen.specialTokens());

        TokenizerConfig llama = TokenizerConfig.load(res.resolve("llama3.1"));
        assertEquals("<|begin_of_text|>", llama.bosToken());
        assertEquals("<|eot_id|>", llama.eosToken());
        assertNull(llama.addBosToken());
        assertEquals(Map.of("bos_token", "<|begin_of_text|>", "eos_token", "<|eot_id|>"), llama.specialTokens());
    }

    @Test
    void addedTokenObjectsAndTemplateLists() {
        TokenizerConfig c = parse("{\"bos_token\": {\"__type\": \"AddedToken\", \"content\": \"<s>\", \"lstrip\": false},"
                + " \"eos_token\": \"</s>\", \"add_bos_token\": true, \"add_eos_token\": false,"
                + " \"chat_template\": [{\"name\": \"tool_use\", \"template\": \"T\"}, {\"name\": \"default\", \"template\": \"D\"}]}");
        assertEquals("<s>", c.bosToken());
        assertEquals(Boolean.TRUE, c.addBosToken());
        assertEquals(Boolean.FALSE, c.addEosToken());
        assertEquals("D", c.chatTemplate());
        assertEquals(List.of("tool_use", "default"), List.copyOf(c.chatTemplates().keySet()));
        assertTrue(c.chatTemplateSource().endsWith("tokenizer_config.json (field chat_template[1], \"default\")"));
    }

    @Test
    void chatTemplateJinjaFileReplacesTheConfigTemplate() throws IOException {
        Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"chat_template\": \"old\", \"eos_token\": \"E\"}");
        Files.writeString(tmp.resolve("chat_template.jinja"), "{{ messages[0].content }}!");
        TokenizerConfig c = TokenizerConfig.load(tmp);
        assertEquals("{{ messages[0].content }}!", c.chatTemplate());
        assertEquals(tmp.resolve("chat_template.jinja").toString(), c.chatTemplateSource());
        assertEquals("hi!", ChatTemplate.of(c).render(List.of(ChatMessage.user("hi")), false));
    }

    @Test
    void missingPiecesAreNamed() throws IOException {
        Path file = tmp.resolve("tokenizer_config.json");
        BadInputException e = assertThrows(BadInputException.class, () -> TokenizerConfig.load(tmp));
        assertEquals(file + ": file not found (the tokenizer folder needs a tokenizer_config.json for the chat template)",
                e.getMessage());

        Files.writeString(file, "{\"eos_token\": \"</s>\"}");
        TokenizerConfig c = TokenizerConfig.load(tmp);
        e = assertThrows(BadInputException.class, c::chatTemplate);
        assertTrue(e.getMessage().startsWith(file + ": field chat_template is missing"), e.getMessage());

        e = assertThrows(BadInputException.class, () -> TokenizerConfig.load(tmp.resolve("nope")));
        assertEquals(tmp.resolve("nope") + ": tokenizer directory does not exist", e.getMessage());
    }

    @Test
    void badShapesAreNamed() {
        assertBad("{\"chat_template\": 5}", "field chat_template must be a string or a list of {name, template}");
        assertBad("{\"chat_template\": [{\"name\": \"default\"}]}",
                "field chat_template[0] must be an object with string fields \"name\" and \"template\"");
        assertBad("{\"bos_token\": 3}", "field bos_token must be a string, null, or an object with a string \"content\"");
        assertBad("{\"add_bos_token\": \"yes\"}", "field add_bos_token must be true or false");
        assertBad("[1]", "not a JSON object");
        BadInputException e = assertThrows(BadInputException.class, () -> parse("{\"chat_template\": "));
        assertEquals("x/tokenizer_config.json: line 1, column 19: not valid JSON: Unexpected end-of-input within/between Object entries",
                e.getMessage());
        e = assertThrows(BadInputException.class,
                () -> parse("{\"chat_template\": [{\"name\": \"rag\", \"template\": \"R\"}]}").chatTemplate());
        assertEquals("x/tokenizer_config.json: field chat_template has no template named \"default\" (it has [rag])",
                e.getMessage());
    }

    private static TokenizerConfig parse(String json) {
        return TokenizerConfig.parse(Path.of("x/tokenizer_config.json"), json);
    }

    private static void assertBad(String json, String want) {
        BadInputException e = assertThrows(BadInputException.class, () -> parse(json));
        assertEquals("x/tokenizer_config.json: " + want, e.getMessage());
    }
}
