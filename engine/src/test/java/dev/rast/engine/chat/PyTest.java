package dev.rast.engine.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Python semantics behind template rendering, against what CPython 3 prints for the same expressions
 * (expected values copied from the oracle venv's python: repr(x), s.split(...), json.dumps(..., ensure_ascii=False)).
 */
class PyTest {
    @Test
    void floatReprIsPythons() {
        double[] xs = {1e16, 1e-05, 0.0001, 123456789012345.6, 1.5, -0.0, 1e22, 2.5e-07, 0.1 + 0.2, 1.0 / 3,
                9999999999999998.0, 5e-324, 1.7976931348623157e308, 100.0, 12345678.9};
        String[] want = {"1e+16", "1e-05", "0.0001", "123456789012345.6", "1.5", "-0.0", "1e+22", "2.5e-07",
                "0.30000000000000004", "0.3333333333333333", "9999999999999998.0", "5e-324", "1.7976931348623157e+308",
                "100.0", "12345678.9"};
        for (int i = 0; i < xs.length; i++) assertEquals(want[i], Py.reprFloat(xs[i]), "repr(" + xs[i] + ")");
    }

    @Test
    void splitIsPythons() {
        assertEquals(List.of("a", "b", "c"), Py.split(" a  b\tc ", null, -1));
        assertEquals(List.of("a", "b", "", "c", ""), Py.split("a,b,,c,", ",", -1));
        assertEquals(List.of("a", "b c"), Py.split("a b c", " ", 1));
        assertEquals(List.of("a", "b  c "), Py.split("a b  c ", null, 1));
        assertEquals(List.of(), Py.split("", null, -1));
        assertEquals(List.of(""), Py.split("", ",", -1));
    }

    @Test
    void stripAndSliceArePythons() {
        assertEquals("x", Py.strip("  x\u3000\u00a0", null, true, true)); // Python's whitespace includes these
        assertEquals("a", Py.strip("xxaxx", "x", true, true));
        assertEquals("cba", Py.slice("abc", null, null, -1L));
        assertEquals("ace", Py.slice("abcdef", -100L, 100L, 2L));
        assertEquals(List.of(5L, 3L, 1L), Py.slice(List.of(0L, 1L, 2L, 3L, 4L, 5L), 5L, 0L, -2L));
        assertEquals("c", Py.slice("abc", 10L, 1L, -1L));
        assertEquals("😀x", Py.slice("x😀", null, null, -1L)); // by code point, not UTF-16 unit
    }

    @Test
    void reprOfStringsIsPythons() {
        assertEquals("\"it's\"", Py.repr("it's"));
        assertEquals("'a\"b'", Py.repr("a\"b"));
        assertEquals("'both \\' \"'", Py.repr("both ' \""));
        assertEquals("'\\x00\\x85\\u200bé😀\\n'", Py.repr("\u0000\u0085\u200bé😀\n"));
        assertEquals("[1, 'a', True, None]", Py.repr(java.util.Arrays.asList(1L, "a", true, null)));
    }

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
