package dev.rast.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.json.Json;
import dev.rast.engine.tensor.Tensor;
import dev.rast.engine.weights.SafeTensorsFile;
import dev.rast.engine.weights.SafeTensorsWriter;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What rast writes as JSON stays JSON whatever goes in (issue 18): ids of --input rows are copied through as the
 * JSON values they are, and numbers JSON cannot carry (NaN, infinities) are written as null.
 */
class JsonOutputTest {
    @TempDir Path tmp;

    static String m() { return Fixtures.reference("rast-trio/M").toString(); }

    @Test
    @SuppressWarnings("unchecked")
    void inputIdsComeBackAsTheJsonValuesTheyWere() throws IOException {
        List<String> ids = List.of("{\"a\": [1, {\"b\": null}], \"c\": \"x\"}", "[1, \"two\", 3.5, true]", "12345678901234567890",
                "-98765432109876543210987654321", "\"caf\u00e9 \\u0000 \\\"q\\\"\"", "0.1", "null", "{}");
        StringBuilder in = new StringBuilder();
        for (String id : ids) in.append("{\"prompt_tokens\": [5, 6], \"id\": ").append(id).append("}\n");
        Path input = tmp.resolve("in.jsonl"), out = tmp.resolve("out.jsonl");
        Files.writeString(input, in);
        String[] cmd = {"generate", "--model", m(), "--input", input.toString(), "--output", out.toString(), "--max-tokens", "2", "--threads", "2"};
        Cli.Result r = Cli.rast(cmd);
        assertEquals(0, r.status(), r.stderr());
        List<String> lines = Files.readAllLines(out);
        assertEquals(ids.size(), lines.size());
        for (String line : lines) {
            Map<String, Object> row = Json.parseObject(line, "out.jsonl");
            int index = (int) (long) (Long) row.get("index");
            assertEquals(Json.parse(ids.get(index), "id"), row.get("id"), "id of prompt " + index + ": " + line);
            assertTrue(row.containsKey("id"), line);
        }
        assertEquals(new BigInteger("12345678901234567890"), Json.parseObject(lines.stream().filter(l -> l.contains("\"index\": 2,")).findFirst().orElseThrow(), "row").get("id"));
        // The output reads back: a rerun resumes from it.
        r = Cli.rast(cmd);
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.stderr().contains("all " + ids.size() + " prompts already done"), r.stderr());
    }

    @Test
    void anIdNoJsonNumberCanCarryExactlyIsRefused() throws IOException {
        Path input = tmp.resolve("in.jsonl");
        Files.writeString(input, "{\"prompt_tokens\": [5], \"id\": 1}\n{\"prompt_tokens\": [5], \"id\": 1e400}\n");
        Cli.refused(Cli.rast("generate", "--model", m(), "--input", input.toString(), "--output", tmp.resolve("o.jsonl").toString(),
                "--threads", "1"), "in.jsonl line 2", "\"id\"", "beyond a double's range");
        Files.writeString(input, "{\"prompt_tokens\": [5], \"id\": {\"run\": [1, -1e999]}}\n");
        Cli.refused(Cli.rast("generate", "--model", m(), "--input", input.toString(), "--output", tmp.resolve("o.jsonl").toString(),
                "--threads", "1"), "in.jsonl line 1", "\"id\"");
    }

    @Test
    void forwardWritesLogitsJsonCannotCarryAsNull() throws IOException {
        Path model = overflowingModel();
        Cli.Result r = Cli.rast("forward", "--model", model.toString(), "--tokens", "5,17,300", "--threads", "1");
        assertEquals(0, r.status(), r.stderr());
        Map<String, Object> doc = Json.parseObject(r.stdout(), "stdout"); // strict JSON: no bare NaN or Infinity
        List<?> rows = (List<?>) doc.get("logits");
        assertEquals(3, rows.size());
        long nulls = rows.stream().flatMap(row -> ((List<?>) row).stream()).filter(v -> v == null).count();
        assertTrue(nulls > 0, "this model's logits overflow; they must come out as null");
        assertTrue(r.stderr().contains("NaN or infinite") && r.stderr().contains("written as null"), r.stderr());
    }

    /**
     * The trio's M with a final norm scale of Float.MAX_VALUE: finite weights whose logits overflow to ±Infinity
     * (and NaN where infinities meet).
     */
    Path overflowingModel() throws IOException {
        Path src = Fixtures.reference("rast-trio/M"), dst = tmp.resolve("overflow");
        Files.createDirectories(dst);
        Files.copy(src.resolve("config.json"), dst.resolve("config.json"));
        try (SafeTensorsFile in = SafeTensorsFile.open(src.resolve("model.safetensors"))) {
            SafeTensorsWriter w = new SafeTensorsWriter();
            for (String name : new ArrayList<>(in.tensors().keySet())) {
                Tensor t = in.tensor(name);
                boolean huge = name.equals("model.norm.weight");
                w.add(name, t.dtype(), t.shape(), (buf, off) -> {
                    while (buf.hasRemaining()) {
                        long i = off + buf.position() / 4;
                        buf.putFloat(huge ? Float.MAX_VALUE : t.data().getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, i));
                    }
                });
            }
            w.write(dst.resolve("model.safetensors"), null);
        }
        return dst;
    }
}
