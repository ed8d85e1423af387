package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.text.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `rast tokenize` / `rast detokenize` through the real command line: ids as HF gives them (hand-checked against
 * the fixture's HF ids), and one clear error line with exit 2 for each kind of bad input.
 */
class TokenizerCommandTest {
    @TempDir Path tmp;

    String qwen() { return Fixtures.tokenizerDir("qwen").toString(); }

    @Test
    void tokenizeAndDetokenize() throws IOException {
        // HF: Tokenizer.from_file(qwen).encode("Hello, world").ids == [9707, 11, 1879]
        Cli.Result r = Cli.withStdin("Hello, world".getBytes(StandardCharsets.UTF_8), "tokenize", "--tokenizer", qwen());
        assertEquals(0, r.status(), r.stderr());
        assertEquals("[9707, 11, 1879]", r.stdout().strip());
        r = Cli.withStdin("\"Hello, world\"\n\"<|im_start|>\"\n".getBytes(StandardCharsets.UTF_8), "tokenize", "--tokenizer", qwen(), "--jsonl");
        assertEquals("[9707, 11, 1879]\n[151644]", r.stdout().strip());
        r = Cli.withStdin("[9707, 11, 1879]".getBytes(StandardCharsets.UTF_8), "detokenize", "--tokenizer", qwen());
        assertEquals("Hello, world", r.stdout());
        r = Cli.withStdin("[151644, 9707]\n[]\n".getBytes(StandardCharsets.UTF_8), "detokenize", "--tokenizer", qwen(), "--jsonl", "--skip-special-tokens");
        assertEquals("\"Hello\"\n\"\"", r.stdout().strip());
        // Llama 3's post-processor puts <|begin_of_text|> (128000) first.
        r = Cli.withStdin("Hello".getBytes(StandardCharsets.UTF_8), "tokenize", "--tokenizer", Fixtures.tokenizerDir("llama").toString(), "--add-special-tokens");
        assertEquals("[128000, 9906]", r.stdout().strip());
    }

    @Test
    void unknownIdInDetokenize() throws IOException {
        Cli.refused(Cli.withStdin("[9707, 999999]".getBytes(StandardCharsets.UTF_8), "detokenize", "--tokenizer", qwen()),
                "token id 999999", "ids 0..151668");
        Cli.refused(Cli.withStdin("[9707, x]".getBytes(StandardCharsets.UTF_8), "detokenize", "--tokenizer", qwen()), "'x' is not a token id");
    }

    @Test
    void invalidUtf8OnStdin() throws IOException {
        Cli.refused(Cli.withStdin(new byte[] {'a', 'b', (byte) 0xC3, '(', 'c'}, "tokenize", "--tokenizer", qwen()),
                "not valid UTF-8", "byte offset 2");
        Cli.refused(Cli.withStdin("\"ok\"\nnot json\n".getBytes(StandardCharsets.UTF_8), "tokenize", "--tokenizer", qwen(), "--jsonl"),
                "standard input line 2, column 4: not valid JSON: Unrecognized token 'not'");
    }

    /** A tokenizer.json that is the real Qwen one with one part replaced. */
    Path broken(String from, String to) throws IOException {
        String json = Files.readString(Fixtures.tokenizerDir("qwen").resolve("tokenizer.json"));
        assertTrue(json.contains(from), "fixture contains " + from);
        Path dir = Files.createDirectories(tmp.resolve("tok" + Math.abs((from + to).hashCode())));
        Files.writeString(dir.resolve("tokenizer.json"), json.replace(from, to));
        return dir;
    }

    @Test
    void malformedOrUnsupportedTokenizerJson() throws IOException {
        byte[] hi = "hi".getBytes(StandardCharsets.UTF_8);
        Path dir = Files.createDirectories(tmp.resolve("notjson"));
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": [1, 2,");
        Cli.refused(Cli.withStdin(hi, "tokenize", "--tokenizer", dir.toString()), "tokenizer.json: line 1, column 17: not valid JSON: Unexpected end-of-input");
        Cli.refused(Cli.withStdin(hi, "tokenize", "--tokenizer", broken("\"type\": \"BPE\"", "\"type\": \"Unigram\"").toString()),
                "tokenizer.json", "model type 'Unigram' is not supported");
        Cli.refused(Cli.withStdin(hi, "tokenize", "--tokenizer", broken("\"type\": \"NFC\"", "\"type\": \"Lowercase\"").toString()),
                "normalizer type 'Lowercase' is not supported");
        Cli.refused(Cli.withStdin(hi, "tokenize", "--tokenizer", broken("\\\\p{N}|", "\\\\d|").toString()),
                "pre_tokenizer.pretokenizers[0].pattern.Regex", "is not one rast implements");
        Cli.refused(Cli.withStdin(hi, "tokenize", "--tokenizer", tmp.resolve("missing").toString()), "no tokenizer.json");
        // 2^32 + 0 must not wrap around to id 0 ("!") and pass as the BOS id
        String llama = Files.readString(Fixtures.tokenizerDir("llama").resolve("tokenizer.json"));
        String from = "\"ids\": [\n              128000\n            ]";
        assertTrue(llama.contains(from), "fixture contains the BOS ids");
        Path big = Files.createDirectories(tmp.resolve("bigid"));
        Files.writeString(big.resolve("tokenizer.json"), llama.replace(from, "\"ids\": [4294967296]"));
        Cli.refused(Cli.withStdin(hi, "tokenize", "--tokenizer", big.toString(), "--add-special-tokens"),
                "special_tokens", "has an id outside the vocabulary: 4294967296");
    }

    /**
     * With add_prefix_space, HF's ByteLevel step puts a space before every piece the Split made (ids from HF
     * tokenizers 0.23 on the Qwen tokenizer.json with add_prefix_space set to true: "a!" → Ġa Ġ!).
     */
    @Test
    void addPrefixSpaceAppliesToEverySplitPiece() throws IOException {
        Path dir = broken("\"add_prefix_space\": false", "\"add_prefix_space\": true");
        Tokenizer tok = Tokenizer.load(dir);
        assertArrayEquals(new int[] {264, 753}, tok.encode("a!"));
        assertArrayEquals(new int[] {21927, 1154, 1879, 753, 220, 220, 16, 220, 17, 220, 18}, tok.encode("Hello, world! 123"));
        assertArrayEquals(new int[] {856}, tok.encode(" x"));
    }

    /** HF's ByteLevel decoder keeps an added token with a character outside its table whole, as UTF-8. */
    @Test
    void addedTokenWithCharactersOutsideTheByteTableDecodesWhole() throws IOException {
        Path dir = broken("\"content\": \"<|im_start|>\"", "\"content\": \"é☕\"");
        Tokenizer tok = Tokenizer.load(dir);
        assertEquals("é☕", tok.decode(new int[] {151644}));
    }
}
