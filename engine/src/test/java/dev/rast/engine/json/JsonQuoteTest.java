package dev.rast.engine.json;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** {@link Json#quote} writes what Python's json.dumps(s, ensure_ascii=False) writes, and parses back to s. */
class JsonQuoteTest {
    @Test
    void quotesAsPythonJsonDumpsAndRoundTrips() {
        String s = "a\bb\fc\u0001\"\\\n\t\u00e9";
        // python3 -c 'import json; print(json.dumps("a\bb\fc\x01\"\\\n\t\u00e9", ensure_ascii=False))'
        assertEquals("\"a\\bb\\fc\\u0001\\\"\\\\\\n\\t\u00e9\"", Json.quote(s));
        assertEquals(s, Json.parse(Json.quote(s)));
    }
}
