package dev.rast.engine.json;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.StringWriter;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What rast writes stays JSON when numbers are NaN or infinite: those are written as null, never as bare NaN. */
class JsonNonFiniteTest {
    @Test
    void roundedNumbersThatAreNotFiniteAreNull() {
        String line = Json.write(Json.Layout.LINE, g -> {
            g.writeStartArray();
            for (double v : new double[] {1.23456, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.5})
                Json.writeFormatted(g, v, "%.2f");
            g.writeEndArray();
        });
        assertEquals("[1.23, null, null, null, -0.50]", line);
        assertEquals(Arrays.asList(1.23, null, null, null, -0.5), Json.parse(line, "line"));
    }

    @Test
    void valuesThatAreNotFiniteAreNull() {
        assertEquals("[null, null, 2.5]", Json.line(List.of(Double.NaN, Float.NEGATIVE_INFINITY, 2.5)));
    }

    @Test
    void streamsToAWriterAndLeavesItOpen() throws Exception {
        StringWriter out = new StringWriter();
        Json.write(out, Json.Layout.LINE, g -> Json.write(g, List.of(1, "a")));
        out.write("\n");
        assertEquals("[1, \"a\"]\n", out.toString());
    }
}
