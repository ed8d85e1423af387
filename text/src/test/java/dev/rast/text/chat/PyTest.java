package dev.rast.text.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Python semantics behind template rendering that live in this package (tojson, strftime), against what CPython 3
 * prints for the same expressions (expected values copied from the oracle venv's python: json.dumps(...,
 * ensure_ascii=False), datetime.strftime). The str/repr/split/strip rules are in dev.rast.text.PyTest.
 */
class PyTest {
    @Test
    void tojsonIsJsonDumpsWithNonAsciiKept() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", java.util.Arrays.asList(1L, 2.5, true, null));
        m.put("é", "\u0001\u007f\u2028");
        assertEquals("{\"a\": [1, 2.5, true, null], \"é\": \"\\u0001\u007f\u2028\"}", PyJson.dumps(m, null, null, null, false));
        Map<String, Object> n = new LinkedHashMap<>();
        n.put("x", Map.of("y", List.of()));
        n.put("z", Map.of());
        assertEquals("{\n  \"x\": {\n    \"y\": []\n  },\n  \"z\": {}\n}", PyJson.dumps(n, 2L, null, null, false));
    }

    @Test
    void strftimeIsPythonsInTheCLocale() {
        java.time.LocalDateTime t = java.time.LocalDateTime.of(2024, 7, 26, 9, 5, 3);
        // datetime(2024, 7, 26, 9, 5, 3).strftime(...) in Python
        assertEquals("26 Jul 2024", PyStrftime.format("%d %b %Y", t));
        assertEquals("Friday, July 26 09:05:03 AM 208 %", PyStrftime.format("%A, %B %d %H:%M:%S %p %j %%", t));
        assertEquals("07/26/24 Fri Jul 26 09:05:03 2024", PyStrftime.format("%x %c", t));
    }
}
