package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.json.Json;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adversarial model folders, made at test time: files that are not files (pipes, devices), sizes and shapes whose
 * arithmetic overflows, values that are quietly wrong. Each must end in one line naming the file and what is wrong,
 * exit status 2, and never a hang or a stack trace.
 */
class HostileInputTest {
    @TempDir Path tmp;

    /** The tiny f32 Qwen2 fixture's config and weights, copied so a test can break them. */
    Path model() throws IOException {
        Path src = Fixtures.reference("qwen2-f32"), dst = tmp.resolve("model");
        Files.createDirectories(dst);
        for (String f : new String[] {"config.json", "model.safetensors"}) Files.copy(src.resolve(f), dst.resolve(f));
        return dst;
    }

    /** `rast generate` of one token: it reads every file of the folder (forward leaves generation_config.json out). */
    static Cli.Result generate(Path model) {
        return Cli.rast("generate", "--model", model.toString(), "--prompt-tokens", "1,2,3", "--max-tokens", "1",
                "--threads", "1", "--device", "cpu");
    }

    /** A run that must be refused within a minute (a pipe opened for reading would block it forever). */
    static void refusedQuickly(Path model, String... fragments) {
        Cli.Result r = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> generate(model));
        Cli.refused(r, fragments);
    }

    static void mkfifo(Path p) throws IOException, InterruptedException {
        Files.deleteIfExists(p);
        Process proc = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
        assertEquals(0, proc.waitFor());
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void pipesInPlaceOfModelFilesAreRefusedWithoutOpeningThem() throws Exception {
        for (String name : new String[] {"config.json", "model.safetensors", "generation_config.json"}) {
            Path dir = model();
            Path f = dir.resolve(name);
            mkfifo(f);
            refusedQuickly(dir, name, "a named pipe (FIFO), not a regular file");
            deleteTree(dir);
        }
        // The index of a sharded checkpoint, and a shard it lists.
        Path dir = model();
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": {\"model.norm.weight\": \"shard.safetensors\"}}");
        mkfifo(dir.resolve("shard.safetensors"));
        refusedQuickly(dir, "shard.safetensors", "a named pipe (FIFO)");
        mkfifo(dir.resolve("model.safetensors.index.json"));
        refusedQuickly(dir, "model.safetensors.index.json", "a named pipe (FIFO)");
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void tokenizerFilesThatArePipesAreRefused() throws Exception {
        Path tok = tmp.resolve("tok");
        Files.createDirectories(tok);
        Files.copy(Fixtures.tokenizerDir("qwen").resolve("tokenizer.json"), tok.resolve("tokenizer.json"));
        mkfifo(tok.resolve("tokenizer_config.json"));
        Cli.Result r = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> Cli.rast("generate", "--model", model().toString(),
                "--tokenizer", tok.toString(), "--prompt", "hi", "--chat", "--max-tokens", "1", "--device", "cpu"));
        Cli.refused(r, "tokenizer_config.json", "a named pipe (FIFO)");
        Files.delete(tok.resolve("tokenizer_config.json"));
        mkfifo(tok.resolve("tokenizer.json"));
        r = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> Cli.rast("tokenize", "--tokenizer", tok.toString()));
        Cli.refused(r, "tokenizer.json", "a named pipe (FIFO)");
    }

    /** A link to /dev/zero never ends: read whole, it would fill the heap. */
    @Test
    @EnabledOnOs(OS.LINUX)
    void linksToDevicesAreRefused() throws IOException {
        Path dir = model();
        Files.delete(dir.resolve("config.json"));
        Files.createSymbolicLink(dir.resolve("config.json"), Path.of("/dev/zero"));
        refusedQuickly(dir, "config.json", "a character device, not a regular file");
        Files.delete(dir.resolve("config.json"));
        Files.createSymbolicLink(dir.resolve("config.json"), dir.resolve("nowhere.json"));
        refusedQuickly(dir, "config.json", "a link to", "nowhere.json", "does not exist");
    }

    /** Every JSON file of a model folder has a size cap: a 2 MB config.json is refused before it is parsed. */
    @Test
    void oversizeConfigIsRefused() throws IOException {
        Path dir = model();
        String c = Files.readString(dir.resolve("config.json"));
        Files.writeString(dir.resolve("config.json"), c.replaceFirst("\\{", "{\"padding\": \"" + "x".repeat(2 << 20) + "\","));
        refusedQuickly(dir, "config.json", "larger than 1 MB");
        Files.copy(Fixtures.reference("qwen2-f32").resolve("config.json"), dir.resolve("config.json"), StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": 2, \"x\": \"" + "y".repeat(2 << 20) + "\"}");
        refusedQuickly(dir, "generation_config.json", "larger than 1 MB");
    }

    // ---- arithmetic that overflowed ----

    /** A safetensors file holding one tensor "a" with the given header entry, and {@code dataBytes} of (sparse) data. */
    Path withTensor(String entry, long dataBytes) throws IOException {
        Path dir = tmp.resolve("raw");
        Files.createDirectories(dir);
        Files.copy(Fixtures.reference("qwen2-f32").resolve("config.json"), dir.resolve("config.json"), StandardCopyOption.REPLACE_EXISTING);
        byte[] h = ("{\"a\":" + entry + "}").getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path f = dir.resolve("model.safetensors");
        Files.write(f, b.array());
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(8 + h.length + dataBytes);
        }
        return dir;
    }

    /** [2^31−1]×3 has more elements than a long holds: refused by name, not an ArithmeticException. */
    @Test
    void elementCountOverflowIsRefused() throws IOException {
        int m = Integer.MAX_VALUE;
        refusedQuickly(withTensor("{\"dtype\":\"F32\",\"shape\":[" + m + "," + m + "," + m + "],\"data_offsets\":[0,4]}", 4),
                "model.safetensors", "tensor 'a'", "more bytes than a file can hold");
    }

    /** 2^30 × 2^30 × 4 F32 values are 2^64 bytes, which wraps to 0 in a long: it matched an empty byte span. */
    @Test
    void byteSizeThatWrapsIsRefused() throws IOException {
        refusedQuickly(withTensor("{\"dtype\":\"F32\",\"shape\":[1073741824,1073741824,4],\"data_offsets\":[0,0]}", 0),
                "model.safetensors", "tensor 'a'", "[1073741824, 1073741824, 4]", "more bytes than a file can hold");
    }

    @Test
    void headDimTimesHeadsThatWrapsIsRefused() throws IOException {
        Path dir = model();
        Map<String, Object> c = Json.parseObject(Files.readAllBytes(dir.resolve("config.json")), "config.json");
        c.put("head_dim", (1L << 30) + 16);
        Files.writeString(dir.resolve("config.json"), Json.write(c, Json.Layout.COMPACT));
        refusedQuickly(dir, "config.json", "field 'head_dim'", "1073741840", "num_attention_heads = 6");
    }

    // ---- quietly accepted ----

    @Test
    void negativeEosIdsAreRefused() throws IOException {
        Path dir = model();
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [-5]}");
        Cli.refused(generate(dir), "generation_config.json", "'eos_token_id'", "[-5]");
        Files.delete(dir.resolve("generation_config.json"));
        String c = Files.readString(dir.resolve("config.json"));
        Files.writeString(dir.resolve("config.json"), c.replaceFirst("\"eos_token_id\":\\s*2", "\"eos_token_id\": [-5]"));
        Cli.refused(generate(dir), "config.json", "'eos_token_id'", "[-5]");
    }

    /** generation_config.json that is an array was skipped, and config.json's ids used instead. */
    @Test
    void generationConfigThatIsNotAnObjectIsRefused() throws IOException {
        Path dir = model();
        Files.writeString(dir.resolve("generation_config.json"), "[{\"eos_token_id\": 7}]");
        Cli.refused(generate(dir), "generation_config.json", "not a JSON object");
    }

    /** NaN weights gave "logit of id 0 is NaN" (an internal error, exit 1) naming neither model nor file. */
    @Test
    void nanWeightsNameTheModel() throws IOException {
        Path dir = model();
        Path f = dir.resolve("model.safetensors");
        dev.rast.engine.weights.TensorInfo info;
        try (var st = dev.rast.engine.weights.SafeTensorsFile.open(f)) {
            info = st.tensors().get("model.norm.weight");
        }
        long dataStart = 8 + ByteBuffer.wrap(Files.readAllBytes(f), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) { // the final norm's weight, all NaN (F32)
            for (long at = dataStart + info.begin(); at < dataStart + info.end(); at += 4) {
                raf.seek(at);
                raf.writeInt(Integer.reverseBytes(Float.floatToIntBits(Float.NaN)));
            }
        }
        Cli.refused(generate(dir), dir.toString(), "the model's logits are not finite", "NaN");
    }

    @Test
    void promptsLongerThanTheContextAreRefused() throws Exception {
        Path dir = model(); // max_position_embeddings 256
        String ids = String.join(",", java.util.Collections.nCopies(300, "5"));
        Cli.Result r = Cli.rast("generate", "--model", dir.toString(), "--prompt-tokens", ids, "--max-tokens", "1", "--device", "cpu");
        Cli.refused(r, "--prompt-tokens is 300 tokens, longer than the context of " + dir, "max_position_embeddings 256",
                "RAST_ALLOW_LONG_CONTEXT=1");
        // Allowed, it runs (a JVM of its own: the setting is read from the environment).
        ProcessBuilder pb = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(), "--add-modules",
                "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), "dev.rast.cli.Main", "generate",
                "--model", dir.toString(), "--prompt-tokens", ids, "--max-tokens", "1", "--device", "cpu", "--threads", "1");
        pb.environment().put("RAST_ALLOW_LONG_CONTEXT", "1");
        Process p = pb.redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
    }

    /** A config.json with fewer layers than the checkpoint ran silently on part of the weights. */
    @Test
    void unusedLayersAreWarnedAbout() throws IOException {
        Path dir = model(); // 3 layers
        Map<String, Object> c = Json.parseObject(Files.readAllBytes(dir.resolve("config.json")), "config.json");
        c.put("num_hidden_layers", 2);
        Files.writeString(dir.resolve("config.json"), Json.write(c, Json.Layout.COMPACT));
        Cli.Result r = generate(dir);
        assertEquals(0, r.status(), r.stderr());
        assertContains(r.stderr(), "warning: " + dir + ": 12 tensors are in the checkpoint but not used by the model");
        assertContains(r.stderr(), "(num_hidden_layers 2), e.g. 'model.layers.2.");
        assertEquals(1, r.stderr().strip().lines().count(), r.stderr());
    }

    /** A newline or escape sequence quoted from a file split the one-line message or restyled the terminal. */
    @Test
    void controlCharactersInMessagesAreEscaped() throws IOException {
        Path dir = model();
        String c = Files.readString(dir.resolve("config.json"));
        Files.writeString(dir.resolve("config.json"), c.replace("\"Qwen2ForCausalLM\"", "\"Qwen\\nX\\u001b[2J\\u0000\""));
        Cli.refused(generate(dir), "config.json", "names 'Qwen\\nX\\x1b[2J\\x00'");
    }

    static void deleteTree(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    static void assertContains(String text, String fragment) {
        assertTrue(text.contains(fragment), "expected '" + fragment + "' in: " + text);
    }
}
