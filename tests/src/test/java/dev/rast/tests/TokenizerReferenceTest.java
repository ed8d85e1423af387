package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.json.Json;
import dev.rast.text.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Ids equal to Hugging Face {@code tokenizers} (Rust) for the real Qwen and Llama 3.1 tokenizers on 3,636 strings:
 * every question of the six benchmark datasets plus generated strings (mixed scripts, ZWJ emoji, combining marks,
 * digit runs, code, LaTeX, white space runs, special-token strings). Fixture: scripts/oracle/make_tokenizer_reference.py.
 * Exact equality: tokenization is discrete, there is no tolerance.
 */
class TokenizerReferenceTest {

    static List<Map<String, Object>> rows() throws IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        try (var r = new BufferedReader(new InputStreamReader(new GZIPInputStream(
                TokenizerReferenceTest.class.getResourceAsStream("/tokenizer/reference.jsonl.gz")), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) out.add(Json.parseObject(line, "reference.jsonl"));
        }
        return out;
    }

    /**
     * Single words of 50,000–100,000 characters (runs of letters, CJK without spaces: the pre-tokenizer keeps each
     * whole) give HF's ids (count and SHA-256 of the ids, scripts/oracle/make_long_word_reference.py). The time limit
     * is not a speed test: it tells a merge loop that rescans the word after every merge (quadratic; minutes for
     * these words) from HF's heap order (well under a second each), which is what keeps a long input from hanging.
     */
    @ParameterizedTest
    @ValueSource(strings = {"qwen", "llama"})
    @SuppressWarnings("unchecked")
    void longWordsEqualHuggingFaceWithoutQuadraticTime(String name) throws Exception {
        Tokenizer tok = Tokenizer.load(Fixtures.tokenizerDir(name));
        Map<String, Object> ref;
        try (var in = TokenizerReferenceTest.class.getResourceAsStream("/tokenizer/long-words.json")) {
            ref = Json.parseObject(in.readAllBytes(), "long-words.json");
        }
        for (Map.Entry<String, Object> e : ref.entrySet()) {
            Map<String, Object> row = (Map<String, Object>) e.getValue();
            String text = ((String) row.get("unit")).repeat(((Number) row.get("repeats")).intValue());
            Map<String, Object> want = (Map<String, Object>) row.get(name);
            int[] ids = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30), () -> tok.encode(text));
            assertEquals(((Number) want.get("count")).intValue(), ids.length, e.getKey());
            StringBuilder joined = new StringBuilder();
            for (int i = 0; i < ids.length; i++) joined.append(i == 0 ? "" : ",").append(ids[i]);
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(joined.toString().getBytes(StandardCharsets.UTF_8));
            assertEquals(want.get("sha256"), java.util.HexFormat.of().formatHex(digest), e.getKey());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen", "llama"})
    @SuppressWarnings("unchecked")
    void idsAndTextEqualHuggingFace(String name) throws IOException {
        Tokenizer tok = Tokenizer.load(Fixtures.tokenizerDir(name));
        List<Map<String, Object>> rows = rows();
        assertTrue(rows.size() >= 3000, "fixture has " + rows.size() + " strings");
        List<String> failures = new ArrayList<>();
        for (Map<String, Object> row : rows) {
            String text = (String) row.get("text");
            Map<String, Object> ref = (Map<String, Object>) row.get(name);
            int[] ids = tok.encode(text);
            int[] expected = Fixtures.ints(ref.get("ids"));
            if (!java.util.Arrays.equals(expected, ids)) {
                failures.add(Json.quote(text) + "\n  expected " + java.util.Arrays.toString(expected)
                        + "\n  actual   " + java.util.Arrays.toString(ids));
                continue;
            }
            if (!java.util.Arrays.equals(Fixtures.ints(ref.get("ids_special")), tok.encode(text, true)))
                failures.add(Json.quote(text) + ": ids with special tokens differ");
            if (!ref.get("decoded").equals(tok.decode(ids)))
                failures.add(Json.quote(text) + ": decode differs");
            if (!tok.normalize(text).equals(tok.decode(ids)))
                failures.add(Json.quote(text) + ": round trip differs from the normalized text");
        }
        assertEquals(List.of(), failures.subList(0, Math.min(10, failures.size())),
                failures.size() + " of " + rows.size() + " strings differ");
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen", "llama"})
    void streamingDecoderEmitsWholeCharactersOnly(String name) throws IOException {
        Tokenizer tok = Tokenizer.load(Fixtures.tokenizerDir(name));
        for (Map<String, Object> row : rows()) {
            String text = (String) row.get("text");
            var dec = tok.streamingDecoder(false);
            StringBuilder sb = new StringBuilder();
            for (int id : tok.encode(text)) {
                String part = dec.push(id);
                assertTrue(part.indexOf('\uFFFD') < 0 || text.indexOf('\uFFFD') >= 0,
                        "streamed a partial character for " + Json.quote(text));
                sb.append(part);
            }
            sb.append(dec.flush());
            assertEquals(tok.normalize(text), sb.toString());
        }
    }

    /**
     * Generated ids past the tokenizer (a model's padding rows) decode to nothing, as HF does:
     * {@code Tokenizer.from_file(qwen).decode([9707, 151672, 11, 151900])} is 'Hello,' (tokenizers 0.22, checked with
     * the oracle venv), the same as {@code decode([9707, 11])}.
     */
    @Test
    void streamingDecoderSkipsIdsPastTheTokenizerAsHfDoes() {
        Tokenizer tok = Tokenizer.load(Fixtures.tokenizerDir("qwen"));
        var dec = tok.streamingDecoder(true);
        StringBuilder sb = new StringBuilder();
        for (int id : new int[] {9707, 151672, 11, 151900}) sb.append(dec.push(id));
        sb.append(dec.flush());
        assertEquals("Hello,", sb.toString());
    }
}
