package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.cli.Main;
import dev.rast.engine.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `rast generate` through the command line: JSON samples, resumable --input/--output, and its bad input. */
class GenerateCommandTest {
    @TempDir Path tmp;

    static String m() { return Fixtures.reference("rast-trio/M").toString(); }

    static String[] pair() {
        return new String[] {"--expert", Fixtures.reference("rast-trio/E1").toString(), "--expert-base",
                Fixtures.reference("rast-trio/B1").toString(), "--lambda", "0.5"};
    }

    @Test
    @SuppressWarnings("unchecked")
    void jsonSamplesMatchTheReferenceTrio() throws IOException {
        // Greedy RAST with pair 1 at λ = 0.5: HF's tokens from the fixture (RastGenerateTest checks all cases).
        List<String> args = new java.util.ArrayList<>(List.of("generate", "--model", m()));
        args.addAll(List.of(pair()));
        args.addAll(List.of("--prompt-tokens", "959,512,210,374,16,515", "--max-tokens", "12", "--temperature", "0",
                "--ignore-eos", "--json", "--threads", "2"));
        Cli.Result r = Cli.rast(args.toArray(String[]::new));
        assertEquals(0, r.status(), r.stderr());
        Map<String, Object> row = Json.parseObject(r.stdout().strip(), "stdout");
        Map<String, Object> expected = Json.parseObject(Files.readAllBytes(
                Fixtures.reference("rast-trio/M").getParent().resolve("expected.json")), "rast-trio/expected.json");
        Map<String, Object> c = ((List<Map<String, Object>>) expected.get("cases")).stream()
                .filter(x -> x.get("name").equals("pair1-lambda0.5")).findFirst().orElseThrow();
        assertEquals(c.get("tokens"), row.get("tokens"));
        assertEquals(12, ((List<?>) row.get("logprobs")).size());
        assertEquals("length", row.get("finish_reason"));
    }

    @Test
    void inputOutputIsResumable() throws IOException {
        Path in = tmp.resolve("prompts.jsonl"), out = tmp.resolve("out.jsonl"), full = tmp.resolve("full.jsonl");
        Files.writeString(in, "{\"prompt_tokens\": [959, 512, 210], \"id\": \"a\"}\n{\"prompt_tokens\": [374, 16]}\n"
                + "{\"prompt_tokens\": [515, 5, 6, 7], \"id\": 3}\n");
        String[] common = {"generate", "--model", m(), "--input", in.toString(), "--n", "2", "--max-tokens", "6",
                "--temperature", "1", "--top-p", "0.9", "--seed", "7", "--ignore-eos", "--threads", "2", "--output"};
        assertEquals(0, Cli.rast(concat(common, full.toString())).status());
        List<String> all = Files.readAllLines(full);
        assertEquals(6, all.size(), "3 prompts × 2 samples");
        // An interrupted run: the first prompt's two rows, then half of a line.
        Files.writeString(out, all.get(0) + "\n" + all.get(1) + "\n" + all.get(2).substring(0, 20), StandardCharsets.UTF_8);
        Cli.Result r = Cli.rast(concat(common, out.toString()));
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.stderr().contains("1 of 3 prompts already done"), r.stderr());
        // Same rows as the uninterrupted run (seeds are per prompt and sample), none twice, the torn line gone.
        assertEquals(new java.util.TreeSet<>(all), new java.util.TreeSet<>(Files.readAllLines(out)));
        assertEquals(6, Files.readAllLines(out).size());
        // A third run has nothing to do, and says so.
        r = Cli.rast(concat(common, out.toString()));
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.stderr().contains("all 3 prompts already done, nothing to generate"), r.stderr());
        assertEquals(6, Files.readAllLines(out).size());
        // Every row there but the last one's newline: nothing to generate, and the newline is put back.
        Files.writeString(out, String.join("\n", all), StandardCharsets.UTF_8);
        r = Cli.rast(concat(common, out.toString()));
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.stderr().contains("nothing to generate"), r.stderr());
        assertEquals(String.join("\n", all) + "\n", Files.readString(out));
        // Interrupted after a whole row but before its newline (a long row spans several writes): the row is kept,
        // and the rows appended after it start on a line of their own.
        Files.writeString(out, all.get(0) + "\n" + all.get(1), StandardCharsets.UTF_8);
        r = Cli.rast(concat(common, out.toString()));
        assertEquals(0, r.status(), r.stderr());
        assertEquals(new java.util.TreeSet<>(all), new java.util.TreeSet<>(Files.readAllLines(out)));
        assertEquals(6, Files.readAllLines(out).size());
        // Cut inside a multi-byte character (text is written as UTF-8): still a torn line, not an unreadable file.
        byte[] head = (all.get(0) + "\n{\"index\": 0, \"text\": \"caf").getBytes(StandardCharsets.UTF_8);
        byte[] cut = java.util.Arrays.copyOf(head, head.length + 1);
        cut[head.length] = (byte) 0xC3; // the first byte of "é"
        Files.write(out, cut);
        r = Cli.rast(concat(common, out.toString()));
        assertEquals(0, r.status(), r.stderr());
        assertEquals(new java.util.TreeSet<>(all), new java.util.TreeSet<>(Files.readAllLines(out)));
    }

    /** An --output that holds something other than rows of this command is refused and left as it was. */
    @Test
    void outputThatIsNotOursIsRefusedAndKept() throws IOException {
        Path in = tmp.resolve("p.jsonl");
        Files.writeString(in, "{\"prompt_tokens\": [959, 512, 210]}\n");
        String[] cmd = {"generate", "--model", m(), "--input", in.toString(), "--max-tokens", "2", "--threads", "2", "--output"};
        for (String content : new String[] {"{\"prompt_tokens\": [1]}", "{\"prompt_tokens\": [1]}\n", "not json at all",
                "{\"index\": 0, \"sample\": 0}\nplain text, no newline"}) {
            Path out = tmp.resolve("other.jsonl");
            Files.writeString(out, content);
            Cli.Result r = Cli.rast(concat(cmd, out.toString()));
            assertEquals(Main.EXIT_BAD_INPUT, r.status(), content + ": " + r.stderr());
            assertTrue(r.stderr().contains("other.jsonl"), r.stderr());
            assertEquals(content, Files.readString(out), "the file must be left as it was");
        }
    }

    static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void badInput() throws IOException {
        String[] base = {"generate", "--model", m(), "--prompt-tokens", "1,2"};
        Cli.refused(Cli.rast(concat(base, "--top-p", "1.5")), "top-p must be in (0, 1]");
        Cli.refused(Cli.rast(concat(base, "--n", "0")), "--n must be at least 1");
        Cli.refused(Cli.rast(concat(base, "--temperature", "-1")), "temperature");
        Cli.refused(Cli.rast(concat(base, "--format", "bogus")), "unknown prompt format 'bogus'", "qwen-boxed");
        Cli.refused(Cli.rast("generate", "--model", m(), "--prompt", "hi"), "has no tokenizer.json", "--tokenizer");
        Cli.Result r = Cli.rast(concat(base, "--expert", m()));   // picocli's usage error adds a --help hint line
        assertEquals(Main.EXIT_BAD_INPUT, r.status());
        assertTrue(r.stderr().startsWith("error: ") && r.stderr().contains("--expert-base"), r.stderr());
        Path in = tmp.resolve("bad.jsonl");
        Files.writeString(in, "{\"prompt_tokens\": [1]}\n{\"prompt\": 5}\n");
        Cli.refused(Cli.rast("generate", "--model", m(), "--input", in.toString()), "--input needs --output");
        Cli.refused(Cli.rast("generate", "--model", m(), "--input", in.toString(), "--output", tmp.resolve("o").toString()),
                "bad.jsonl line 2", "needs \"prompt\"");
        Cli.refused(Cli.rast(concat(base, "--expert", m(), "--expert-base", m(), "--lambda", "NaN")), "--lambda");
    }
}
