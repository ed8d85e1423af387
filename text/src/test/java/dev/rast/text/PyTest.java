package dev.rast.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Python's str/repr/split/strip/slice semantics, against what CPython 3 prints for the same expressions
 * (expected values copied from python3: repr(x), s.split(...), s.strip(...), s.count(...)).
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
    void shortFormsAndCountArePythons() {
        assertEquals("x", Py.strip("\u001c x \u0085"));
        assertEquals("\u200b x", Py.strip(" \u200b x")); // U+200B is not whitespace to Python
        assertEquals("a", Py.rstrip("a\u3000 "));
        assertEquals("..a", Py.rstrip("..a..", "."));
        assertEquals("a:", Py.lstrip("::a:", ":"));
        assertEquals("a", Py.strip("😀a😀", "😀")); // chars are code points
        assertEquals(List.of("a", "b", "c"), Py.split("a\u00a0b\u2028c"));
        assertEquals(2, Py.count("aaaa", "aa"));
        assertEquals(6, Py.count("héllo", ""));
        assertEquals(3, Py.count("😀😀", "")); // len() counts code points
    }

    @Test
    void reprOfStringsIsPythons() {
        assertEquals("\"it's\"", Py.repr("it's"));
        assertEquals("'a\"b'", Py.repr("a\"b"));
        assertEquals("'both \\' \"'", Py.repr("both ' \""));
        assertEquals("'\\x00\\x85\\u200bé😀\\n'", Py.repr("\u0000\u0085\u200bé😀\n"));
        assertEquals("[1, 'a', True, None]", Py.repr(java.util.Arrays.asList(1L, "a", true, null)));
    }
}
