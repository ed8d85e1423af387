package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.cli.Main;
import dev.rast.engine.json.Json;
import dev.rast.engine.tensor.Tensor;
import dev.rast.engine.weights.SafeTensorsFile;
import dev.rast.engine.weights.SafeTensorsWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Broken weights, configs and folders through the real command line: each must give exactly one line on stderr
 * that names the file and the tensor or field, exit status 2, and no stack trace.
 */
class BadInputTest {
    @TempDir Path tmp;

    static Cli.Result rast(String... args) { return Cli.rast(args); }

    /** Runs `rast forward` on the folder and checks the one-line error contains every fragment. */
    static void refused(Path model, String... fragments) {
        Cli.Result r = rast("forward", "--model", model.toString(), "--tokens", "1,2,3", "--threads", "1");
        Cli.refused(r, fragments);
    }

    /** A model folder: the tiny f32 Qwen2 fixture's config and weights, copied so a test can break them. */
    Path copyOfReference() throws IOException {
        Path src = Fixtures.reference("qwen2-f32"), dst = tmp.resolve("model");
        Files.createDirectories(dst);
        for (String f : new String[] {"config.json", "model.safetensors"}) Files.copy(src.resolve(f), dst.resolve(f));
        return dst;
    }

    /** Rewrites model.safetensors through our writer, keeping tensors that pass and reshaping via the callback. */
    static void rewriteWeights(Path dir, Predicate<String> keep, String reshapeName, int[] newShape) throws IOException {
        Path file = dir.resolve("model.safetensors"), tmpFile = dir.resolve("rewritten.tmp");
        try (SafeTensorsFile in = SafeTensorsFile.open(file)) {
            SafeTensorsWriter w = new SafeTensorsWriter();
            for (String name : in.tensors().keySet()) {
                if (!keep.test(name)) continue;
                Tensor t = in.tensor(name);
                int[] shape = name.equals(reshapeName) ? newShape : t.shape();
                long n = 1;
                for (int d : shape) n *= d;
                long bytes = n * 4;
                w.add(name, t.dtype(), shape, (buf, off) -> {
                    while (buf.hasRemaining()) buf.putFloat(off * 4 + buf.position() < Math.min(bytes, t.data().byteSize()) ? 0.5f : 0f);
                });
            }
            w.write(tmpFile, null);
        }
        Files.move(tmpFile, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** A hand-built safetensors file: 8-byte length, header text, then {@code dataBytes} zero bytes. */
    Path rawFile(long declaredHeaderLength, String header, int dataBytes) throws IOException {
        Path dir = tmp.resolve("raw");
        Files.createDirectories(dir);
        Files.copy(Fixtures.reference("qwen2-f32").resolve("config.json"), dir.resolve("config.json"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredHeaderLength).put(h);
        Files.write(dir.resolve("model.safetensors"), b.array());
        return dir;
    }

    Path rawFile(String header, int dataBytes) throws IOException {
        return rawFile(header.getBytes(StandardCharsets.UTF_8).length, header, dataBytes);
    }

    @Test
    void truncatedFile() throws IOException {
        Path dir = copyOfReference();
        Path f = dir.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(all, all.length - 1000));
        refused(dir, "model.safetensors", "run past the end of the data");
        Files.write(f, new byte[] {1, 2, 3});
        refused(dir, "model.safetensors", "too short");
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        refused(rawFile(5000, "{}", 0), "model.safetensors", "header length 5000 runs past the end of the file");
    }

    @Test
    void oversizeHeader() throws IOException {
        refused(rawFile(200L * 1024 * 1024, "{}", 0), "model.safetensors", "exceeds the 100 MB limit");
        refused(rawFile(-1, "{}", 0), "model.safetensors", "exceeds the 100 MB limit");
    }

    @Test
    void invalidJson() throws IOException {
        refused(rawFile("{\"a\": [1, 2", 0), "model.safetensors header: line 1, column 12: not valid JSON");
        // Two entries with one name: the file is refused, not one of them silently dropped.
        refused(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
                "model.safetensors header: line 1, column 55: not valid JSON: duplicate key \"a\"");
    }

    @Test
    void overlappingOffsets() throws IOException {
        refused(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 16), "model.safetensors", "'b'", "overlap tensor 'a'");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        refused(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 16), "model.safetensors", "'a'", "run past the end");
        refused(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 16), "model.safetensors", "'a'", "invalid");
    }

    @Test
    void spanNotShapeTimesDtype() throws IOException {
        refused(rawFile("{\"a\":{\"dtype\":\"BF16\",\"shape\":[3,2],\"data_offsets\":[0,8]}}", 8),
                "model.safetensors", "'a'", "byte span 8 != shape [3, 2] × 2 bytes (BF16) = 12");
    }

    @Test
    void unknownAndUnsupportedDtypes() throws IOException {
        refused(rawFile("{\"a\":{\"dtype\":\"Q4_K\",\"shape\":[1],\"data_offsets\":[0,1]}}", 8), "model.safetensors", "'a'", "unknown dtype 'Q4_K'");
        refused(rawFile("{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8), "model.safetensors", "'a'", "I64 is not supported");
    }

    @Test
    void missingTensor() throws IOException {
        Path dir = copyOfReference();
        rewriteWeights(dir, n -> !n.equals("model.layers.1.self_attn.k_proj.bias"), null, null);
        refused(dir, "model", "'model.layers.1.self_attn.k_proj.bias' is missing");
    }

    @Test
    void missingUntiedLmHead() throws IOException {
        Path dir = copyOfReference();
        rewriteWeights(dir, n -> !n.equals("lm_head.weight"), null, null);
        refused(dir, "'lm_head.weight' is missing", "tie_word_embeddings=false");
    }

    @Test
    void wrongShape() throws IOException {
        Path dir = copyOfReference();
        rewriteWeights(dir, n -> true, "model.layers.0.mlp.up_proj.weight", new int[] {231, 120});
        refused(dir, "model.safetensors", "'model.layers.0.mlp.up_proj.weight' has shape [231, 120], expected [232, 120]", "intermediate_size=232");
    }

    @Test
    void configMissingAField() throws IOException {
        Path dir = copyOfReference();
        Map<String, Object> c = Json.parseObject(Files.readAllBytes(dir.resolve("config.json")), "config.json");
        c.remove("hidden_size");
        Files.writeString(dir.resolve("config.json"), Json.write(c, Json.Layout.COMPACT));
        refused(dir, "config.json", "field 'hidden_size' is missing");
    }

    @Test
    void configNotJson() throws IOException {
        Path dir = copyOfReference();
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": 12,");
        refused(dir, "config.json: line 1, column 20: not valid JSON: Unexpected end-of-input");
    }

    @Test
    void unsupportedArchitecture() throws IOException {
        Path dir = copyOfReference();
        Files.writeString(dir.resolve("config.json"), Files.readString(dir.resolve("config.json")).replace("Qwen2ForCausalLM", "MistralForCausalLM"));
        refused(dir, "config.json", "'MistralForCausalLM'", "not supported", "Qwen2ForCausalLM", "LlamaForCausalLM");
    }

    @Test
    void unsupportedRopeScaling() throws IOException {
        Path dir = copyOfReference();
        String c = Files.readString(dir.resolve("config.json"));
        c = c.replaceFirst("\"rope_type\":\\s*\"default\"", "\"rope_type\": \"yarn\"");
        Files.writeString(dir.resolve("config.json"), c);
        refused(dir, "config.json", "rope_parameters.rope_type", "'yarn' is not supported");
    }

    /** Meta's llama3 rule lives in model-llama3: a Qwen2 config that asks for it is refused, not run unscaled. */
    @Test
    void llama3RopeScalingOnAnotherFamily() throws IOException {
        Path dir = copyOfReference();
        String c = Files.readString(dir.resolve("config.json"));
        c = c.replaceFirst("\"rope_type\":\\s*\"default\"", "\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0,"
                + " \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192");
        Files.writeString(dir.resolve("config.json"), c);
        refused(dir, "config.json", "RoPE scaling type 'llama3' is not supported for Qwen2ForCausalLM");
    }

    @Test
    void modelDirectoryThatDoesNotExist() {
        refused(tmp.resolve("no-such-model"), "no-such-model", "model directory does not exist");
    }

    @Test
    void badFlags() {
        Cli.Result r = rast("forward", "--model", Fixtures.reference("qwen2-f32").toString(), "--tokens", "1,x");
        assertEquals(Main.EXIT_BAD_INPUT, r.status());
        assertTrue(r.stderr().contains("'x' is not a token id"), r.stderr());
        r = rast("forward", "--model", Fixtures.reference("qwen2-f32").toString(), "--tokens", "1,5000");
        assertEquals(Main.EXIT_BAD_INPUT, r.status());
        assertTrue(r.stderr().contains("token id 5000 is outside the model's vocabulary (vocab_size 999)"), r.stderr());
        r = rast("generate", "--model", "x");
        assertEquals(Main.EXIT_BAD_INPUT, r.status());
        assertTrue(r.stderr().contains("(--prompt=TEXT | --prompt-tokens=IDS | --input=FILE)"), r.stderr());
    }

    /** Mistakes caught by the command line itself: one line each, exit 2, nothing done first. */
    @Test
    void commandLineMistakes() throws IOException {
        Cli.Result r = rast("bogus");
        assertEquals(Main.EXIT_BAD_INPUT, r.status());
        assertTrue(r.stderr().startsWith("error: unknown command 'bogus' (commands: demo, generate,"), r.stderr());
        r = rast("generate", "--model", "x", "--prompt", "hi", "--expert", "e");
        assertEquals(Main.EXIT_BAD_INPUT, r.status());
        assertTrue(r.stderr().startsWith("error: Missing required argument(s): --expert-base=DIR"), r.stderr());
        r = rast("generate", "--model", "x", "--prompt", "hi", "--chat", "--format", "abel");
        assertEquals(Main.EXIT_BAD_INPUT, r.status());
        assertEquals("error: --chat and --format abel ask for two prompt formats: give one", r.stderr().strip());
        r = rast("generate", "--model", "x", "--prompt-tokens", "1,2", "--format", "qwen-boxed");
        assertEquals(Main.EXIT_BAD_INPUT, r.status());
        assertTrue(r.stderr().startsWith("error: --prompt-tokens are used as given: --format qwen-boxed applies to text prompts"), r.stderr());
        Path blank = Files.writeString(tmp.resolve("blank.jsonl"), "\n  \n");
        r = rast("generate", "--model", Fixtures.reference("qwen2-f32").toString(), "--input", blank.toString(),
                "--output", tmp.resolve("blank-out.jsonl").toString(), "--device", "cpu");
        assertEquals(Main.EXIT_BAD_INPUT, r.status());
        assertEquals("error: " + blank + ": no prompts (every line is blank)", r.stderr().strip());
        r = rast("generate", "--version");
        assertEquals(0, r.status());
        assertTrue(r.stdout().startsWith("rast "), r.stdout());
        r = rast("demo", "--cache", tmp.toString(), "--max-tokens", "0");
        assertEquals(Main.EXIT_BAD_INPUT, r.status());
        assertEquals("error: --max-tokens must be at least 1, is 0", r.stderr().strip());
        assertEquals("", r.stdout());
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        r = rast("demo", "--cache", file.toString());
        assertEquals(Main.EXIT_BAD_INPUT, r.status());
        assertTrue(r.stderr().contains("--cache " + file + ": cannot use it as a folder for the demo models (a file is in the way)"), r.stderr());
    }

    /**
     * A Java heap too small for the job (here the 7 MB Qwen tokenizer under -Xmx24m) is one line naming the limit and
     * the fix, exit 1, not an OutOfMemoryError stack trace: picocli's handler sees only Exceptions, so Main catches the
     * Error itself. Runs in a JVM of its own, the only way to give it a small heap.
     */
    @Test
    void tooSmallAHeapIsOneLine() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "-Xmx24m", "--add-modules", "jdk.incubator.vector", "-cp",
                System.getProperty("java.class.path"), "dev.rast.cli.Main", "tokenize", "--tokenizer",
                Fixtures.tokenizerDir("qwen").toString())
                .redirectInput(Files.writeString(tmp.resolve("in.txt"), "Hello").toFile()).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(1, p.waitFor(), err);
        String last = err.strip().lines().reduce((a, b) -> b).orElse("");
        assertTrue(last.startsWith("error: out of Java heap memory (Java heap space, at most "), err);
        assertTrue(last.endsWith("MB); raise it with RAST_JAVA_OPTS=-Xmx..."), err);
        assertTrue(!err.contains("\tat "), err);
    }

    @Test
    void verboseShowsTheStackTrace() {
        Cli.Result r = rast("forward", "--model", tmp.resolve("nope").toString(), "--tokens", "1", "--verbose");
        assertEquals(Main.EXIT_BAD_INPUT, r.status());
        assertTrue(r.stderr().contains("\tat "), r.stderr());
    }
}
