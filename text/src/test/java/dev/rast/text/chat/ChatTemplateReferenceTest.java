package dev.rast.text.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rast.engine.BadInputException;
import dev.rast.engine.json.Json;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of {@code chat/reference.json}: what Hugging Face transformers' {@code apply_chat_template(...,
 * tokenize=False)} returned (made by scripts/oracle/make_chat_reference.py) for the Qwen3, Llama-3.1 and Qwen2.5
 * templates over 16 conversations, with and without the generation prompt, and for small templates that exercise
 * one Jinja2 feature each. Outputs must be equal as strings; a case where HF raised must raise with the same message.
 */
class ChatTemplateReferenceTest {
    static Path resources() {
        try {
            return Path.of(ChatTemplateReferenceTest.class.getResource("/chat/reference.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @SuppressWarnings("unchecked")
    @TestFactory
    Stream<DynamicTest> rendersAsHuggingFace() throws IOException {
        Path dir = resources();
        Map<String, Object> ref = Json.parseObject(Files.readAllBytes(dir.resolve("reference.json")), "reference.json");
        Map<String, String> featureTokens = (Map<String, String>) (Map<?, ?>) ref.get("feature_special_tokens");
        Map<String, ChatTemplate> models = new HashMap<>();
        for (String m : List.of("qwen3", "llama3.1", "qwen2.5"))
            models.put(m, ChatTemplate.of(TokenizerConfig.load(dir.resolve(m))));
        List<DynamicTest> tests = new ArrayList<>();
        for (Object o : (List<Object>) ref.get("cases")) {
            Map<String, Object> c = (Map<String, Object>) o;
            String template = (String) c.get("template"), name = (String) c.get("name");
            boolean addGen = (Boolean) c.get("add_generation_prompt");
            tests.add(DynamicTest.dynamicTest(template + ": " + name + (addGen ? " +gen" : ""), () -> {
                ChatTemplate t = template.equals("feature")
                        ? ChatTemplate.compile((String) c.get("source"), "feature '" + name + "'", featureTokens)
                        : models.get(template);
                List<Map<String, Object>> messages = (List<Map<String, Object>>) c.get("messages");
                Map<String, Object> extra = (Map<String, Object>) c.get("extra");
                if (c.containsKey("error")) {
                    BadInputException e = assertThrows(BadInputException.class, () -> t.renderMaps(messages, addGen, extra));
                    assertEquals(t.sourceName() + ": chat template raised: " + c.get("error"), e.getMessage());
                } else {
                    assertEquals(c.get("expected"), t.renderMaps(messages, addGen, extra));
                }
            }));
        }
        return tests.stream();
    }
}
