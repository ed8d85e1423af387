package dev.rast.engine.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.BadInputException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void quotesAsPythonJsonDumpsAndRoundTrips() {
        String s = "a\bb\fc\u0001\u001f\"\\\n\t\u007f\u00e9";
        // python3 -c 'import json; print(json.dumps("a\bb\fc\x01\x1f\"\\\n\t\x7f\u00e9", ensure_ascii=False))'
        assertEquals("\"a\\bb\\fc\\u0001\\u001f\\\"\\\\\\n\\t\u007f\u00e9\"", Json.quote(s));
        assertEquals(s, Json.parse(Json.quote(s), "test"));
    }

    @Test
    void valuesMapToJavaTypes() {
        Map<String, Object> m = Json.parseObject("{\"z\": 1, \"a\": [-0, 9223372036854775807, 9223372036854775808, 1.5, 1e3], "
                + "\"n\": null, \"t\": true}", "test");
        assertEquals(List.of("z", "a", "n", "t"), List.copyOf(m.keySet()), "key order kept");
        assertEquals(1L, m.get("z"));
        assertEquals(Arrays.asList(0L, Long.MAX_VALUE, new BigInteger("9223372036854775808"), 1.5, 1000.0), m.get("a"));
        assertTrue(m.containsKey("n"));
        assertNull(m.get("n"));
        assertEquals(true, m.get("t"));
        assertEquals(List.of("\u00e9"), Json.parse("[\"\u00e9\"]".getBytes(StandardCharsets.UTF_8), "test"));
    }

    @Test
    void errorsNameTheSourceAndTheLocation() {
        assertBad("{\n  \"a\": 1,\n  \"a\": 2\n}", "f.json: line 3, column 3: not valid JSON: duplicate key \"a\"");
        assertBad("{\"a\": 1} {}", "f.json: line 1, column 10: not valid JSON: more after the value");
        assertBad("", "f.json: not valid JSON: no value");
        assertBad("{\"a\": [1, 2",
                "f.json: line 1, column 12: not valid JSON: Unexpected end-of-input: expected close marker for Array (start marker at line 1, column 7)");
        BadInputException e = assertThrows(BadInputException.class, () -> Json.parse(new byte[] {'"', 'a', (byte) 0xC3, '"'}, "f.json"));
        assertEquals("f.json: not valid UTF-8 (bad byte 0xc3 at byte offset 2)", e.getMessage());
        e = assertThrows(BadInputException.class, () -> Json.parseLine("{\"a\" 1}", "rows.jsonl", 7));
        assertTrue(e.getMessage().startsWith("rows.jsonl line 7, column 6: not valid JSON: Unexpected character ('1'"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> Json.parseObject("[1]", "f.json"));
        assertEquals("f.json: not a JSON object", e.getMessage());
    }

    private static void assertBad(String json, String message) {
        BadInputException e = assertThrows(BadInputException.class, () -> Json.parse(json, "f.json"));
        assertEquals(message, e.getMessage());
    }

    @Test
    void layouts() {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("x", List.of(1, 2.5));
        inner.put("empty", Map.of());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "q\"");
        m.put("n", null);
        m.put("big", new BigInteger("123456789012345678901234"));
        m.put("f", 0.1f);
        m.put("nan", Double.NaN);
        m.put("in", inner);
        m.put("rows", List.of(Map.of("k", 1), List.of()));
        assertEquals("{\"s\":\"q\\\"\",\"n\":null,\"big\":123456789012345678901234,\"f\":0.10000000149011612,\"nan\":null,"
                + "\"in\":{\"x\":[1,2.5],\"empty\":{}},\"rows\":[{\"k\":1},[]]}", Json.write(m, Json.Layout.COMPACT));
        assertEquals("{\"s\": \"q\\\"\", \"n\": null, \"big\": 123456789012345678901234, \"f\": 0.10000000149011612, \"nan\": null, "
                + "\"in\": {\"x\": [1, 2.5], \"empty\": {}}, \"rows\": [{\"k\": 1}, []]}", Json.line(m));
        assertEquals("""
                {
                  "s": "q\\"",
                  "n": null,
                  "big": 123456789012345678901234,
                  "f": 0.10000000149011612,
                  "nan": null,
                  "in": {
                    "x": [1, 2.5],
                    "empty": {}
                  },
                  "rows": [{"k": 1}, []]
                }
                """, Json.pretty(m));
        assertEquals(m.keySet(), Json.parseObject(Json.pretty(m), "test").keySet());
    }
}
