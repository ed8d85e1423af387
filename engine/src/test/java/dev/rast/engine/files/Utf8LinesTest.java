package dev.rast.engine.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rast.engine.BadInputException;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class Utf8LinesTest {
    static List<String> lines(InputStream in) {
        List<String> out = new ArrayList<>();
        Utf8Lines.forEach(in, "src", (n, text) -> out.add(n + ":" + text));
        return out;
    }

    static List<String> lines(String text) { return lines(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8))); }

    /** The same bytes handed over one at a time: every terminator falls on a read boundary. */
    static InputStream oneByOne(byte[] b) {
        return new FilterInputStream(new ByteArrayInputStream(b)) {
            @Override public int read(byte[] buf, int off, int len) throws java.io.IOException { return super.read(buf, off, Math.min(len, 1)); }
        };
    }

    @Test
    void linesEndAsReadLineEndsThem() {
        List<String> want = List.of("1:a", "2:b", "3:", "4:caf\u00e9", "5:last");
        assertEquals(want, lines("a\nb\r\n\rcaf\u00e9\nlast"));
        assertEquals(want, lines(oneByOne("a\nb\r\n\rcaf\u00e9\nlast".getBytes(StandardCharsets.UTF_8))));
        assertEquals(List.of("1:x"), lines("x\n"));
        assertEquals(List.of(), lines(""));
    }

    @Test
    void bytesThatAreNotUtf8NameTheLineAndColumn() {
        byte[] b = "ok\nab\u00e9\n".getBytes(StandardCharsets.UTF_8);
        b[6] = 0x28; // the second byte of "é" replaced
        var e = assertThrows(BadInputException.class, () -> lines(new ByteArrayInputStream(b)));
        assertEquals("src line 2: not valid UTF-8 (bad byte 0xc3 at column 3)", e.getMessage());
    }
}
