package dev.rast.engine.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.PrettyPrinter;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import dev.rast.engine.BadInputException;
import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * JSON in and out through Jackson's streaming parser and generator, with our value model and our error messages.
 *
 * <p>Values read map to Java as: object → {@code LinkedHashMap<String,Object>} (key order kept), array →
 * {@code List<Object>}, string → {@code String}, integer → {@code Long} ({@code BigInteger} beyond a long: exact,
 * never rounded), other number → {@code Double}, true/false → {@code Boolean}, null → Java {@code null} (so
 * {@code containsKey} tells "present with null" from "absent"). A key given twice and anything after the value are
 * errors. Bad JSON is a {@link BadInputException} that names the source and Jackson's location:
 * "SOURCE: line L, column C: not valid JSON: what is wrong"; bytes that are not UTF-8 name their offset.
 *
 * <p>Writing takes the same model (plus Integer and other numbers) in one of three {@link Layout}s. Strings are
 * escaped as Python's {@code json.dumps(s, ensure_ascii=False)} does: only {@code "}, {@code \} and C0 controls,
 * with the short forms where JSON has them and lowercase hex otherwise. Integers are written exactly; other numbers
 * as {@link Double#toString(double)} of their double value, and a non-finite one as null (JSON has no NaN; every
 * JSON file and line rast writes does the same, {@link #writeFormatted} where it rounds).
 */
public final class Json {
    private Json() {}

    /*
     * Set for tokenizer.json (11 MB, ~150k keys, each seen once), which Jackson's defaults read with about 1.5x the
     * CPU time: keys skip the symbol table (without one Jackson parses chars, not bytes, so parse(byte[], ...)
     * decodes them first, strictly), and a duplicate key is caught by the map being filled instead of by a second
     * set of keys per object (StreamReadFeature.STRICT_DUPLICATE_DETECTION).
     */
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
            .disable(JsonWriteFeature.WRITE_HEX_UPPER_CASE)
            .build();

    // ---- reading ----

    /** Parses one JSON document held in {@code text}; {@code source} names it in errors (a file, "stdin"). */
    public static Object parse(String text, Object source) {
        return read(() -> FACTORY.createParser(text), source, null);
    }

    /**
     * Parses one JSON document from UTF-8 bytes (a file read whole); {@code source} names it in errors. Bytes that
     * are not UTF-8 are an error naming their offset.
     */
    public static Object parse(byte[] utf8, Object source) {
        CharBuffer text = CharBuffer.allocate(utf8.length); // UTF-8 never decodes to more chars than bytes
        ByteBuffer in = ByteBuffer.wrap(utf8);
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder(); // reports malformed input, never replaces it
        if (decoder.decode(in, text, true).isError())
            throw new BadInputException(source + ": not valid UTF-8 (bad byte 0x" + Integer.toHexString(utf8[in.position()] & 0xFF)
                    + " at byte offset " + in.position() + ")");
        decoder.flush(text);
        return read(() -> FACTORY.createParser(text.array(), 0, text.position()), source, null);
    }

    /**
     * Parses line {@code lineNumber} of a JSON-lines source: errors read "SOURCE line N, column C: not valid JSON:
     * ...".
     */
    public static Object parseLine(String line, Object source, int lineNumber) {
        return read(() -> FACTORY.createParser(line), source, lineNumber);
    }

    /** {@link #parse(String, Object)} for a document that must be a JSON object ("SOURCE: not a JSON object"). */
    public static Map<String, Object> parseObject(String text, Object source) {
        return object(parse(text, source), source);
    }

    /** {@link #parse(byte[], Object)} for a document that must be a JSON object ("SOURCE: not a JSON object"). */
    public static Map<String, Object> parseObject(byte[] utf8, Object source) {
        return object(parse(utf8, source), source);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object root, Object source) {
        if (!(root instanceof Map<?, ?>)) throw new BadInputException(source + ": not a JSON object");
        return (Map<String, Object>) root;
    }

    private interface Input {
        JsonParser open() throws IOException;
    }

    /** The one value of the document and nothing after it; {@code line}: its line in a JSON-lines source, or null. */
    private static Object read(Input in, Object source, Integer line) {
        try (JsonParser p = in.open()) {
            if (p.nextToken() == null) throw new BadInputException(where(source, line, null) + ": not valid JSON: no value");
            Object v = value(p);
            if (p.nextToken() != null)
                throw new BadInputException(where(source, line, p.currentTokenLocation()) + ": not valid JSON: more after the value");
            return v;
        } catch (JsonProcessingException e) {
            throw new BadInputException(where(source, line, e.getLocation()) + ": not valid JSON: " + detail(e));
        } catch (IOException e) {
            // Not a syntax error Jackson can place (e.g. bytes that are not text in any encoding it detects).
            throw new BadInputException(where(source, line, null) + ": not valid JSON: " + e.getMessage());
        }
    }

    private static Object value(JsonParser p) throws IOException {
        return switch (p.currentToken()) {
            case START_OBJECT -> {
                Map<String, Object> m = new LinkedHashMap<>();
                for (String k; (k = p.nextFieldName()) != null; ) {
                    if (m.containsKey(k)) throw new JsonParseException(p, "duplicate key \"" + k + "\"", p.currentTokenLocation());
                    p.nextToken();
                    m.put(k, value(p));
                }
                yield m;
            }
            case START_ARRAY -> {
                List<Object> a = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) a.add(value(p));
                yield a;
            }
            case VALUE_STRING -> p.getText();
            case VALUE_NUMBER_INT -> p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? p.getBigIntegerValue() : (Object) p.getLongValue();
            case VALUE_NUMBER_FLOAT -> p.getDoubleValue();
            case VALUE_TRUE -> Boolean.TRUE;
            case VALUE_FALSE -> Boolean.FALSE;
            case VALUE_NULL -> null;
            default -> throw new IllegalStateException("unexpected token " + p.currentToken()); // the parser allows no other
        };
    }

    /** "SOURCE: line L, column C" (a document), "SOURCE line N, column C" (a line of JSON lines), or "SOURCE". */
    private static String where(Object source, Integer line, JsonLocation at) {
        boolean placed = at != null && at.getLineNr() > 0;
        if (line != null) return source + " line " + line + (placed ? ", column " + at.getColumnNr() : "");
        return source + (placed ? ": line " + at.getLineNr() + ", column " + at.getColumnNr() : "");
    }

    /**
     * Jackson's message without the location it appends; a location inside it (where an unclosed array started) keeps
     * only its line and column, not the "[Source: ...]" wrapper.
     */
    private static String detail(JsonProcessingException e) {
        return e.getOriginalMessage().replaceAll("\\[Source: [^\\]]*?; line: (\\d+), column: (\\d+)\\]", "line $1, column $2");
    }

    // ---- writing ----

    /** How {@link #write} lays values out. */
    public enum Layout {
        /** No spaces at all: {@code {"a":1,"b":[1,2]}} (safetensors headers). */
        COMPACT,
        /** One line, Python's default separators: {@code {"a": 1, "b": [1, 2]}} (JSON lines, --json output). */
        LINE,
        /**
         * Objects one entry per line, indented by 2; arrays, and objects inside them, on one line as in LINE (report
         * and settings files, which hold short lists of numbers). No newline at the end.
         */
        PRETTY
    }

    /** Writes a document through the generator, for callers that need what {@link #write(JsonGenerator, Object)} does not. */
    @FunctionalInterface
    public interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    /** {@code value} as JSON text in {@code layout}. */
    public static String write(Object value, Layout layout) {
        return write(layout, g -> write(g, value));
    }

    /** One line of JSON lines: {@link #write(Object, Layout)} in {@link Layout#LINE}. */
    public static String line(Object value) { return write(value, Layout.LINE); }

    /** The text of a JSON file people read: {@link Layout#PRETTY} and a final newline. */
    public static String pretty(Object value) { return write(value, Layout.PRETTY) + "\n"; }

    /** A JSON string literal. */
    public static String quote(String s) { return write(Layout.COMPACT, g -> g.writeString(s)); }

    /** What {@code body} writes, in {@code layout}. */
    public static String write(Layout layout, Body body) {
        StringWriter out = new StringWriter();
        try {
            write(out, layout, body);
        } catch (IOException e) {
            // A StringWriter does not fail: the body wrote something that is not one JSON document.
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
        return out.toString();
    }

    /**
     * Streams what {@code body} writes, in {@code layout}, to {@code out} (flushed, not closed): for documents too
     * large to build as one string first (every logit of a prompt).
     */
    public static void write(Writer out, Layout layout, Body body) throws IOException {
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            if (layout != Layout.COMPACT) g.setPrettyPrinter(new PythonLayout(layout == Layout.PRETTY));
            body.write(g);
        }
        out.flush();
    }

    /**
     * A number with the digits {@code format} gives it ({@code "%.2f"}, {@code "%.6g"}; Locale.ROOT), or null when
     * it is NaN or infinite: JSON has no such numbers, and the text printf makes of them ("NaN", "Infinity") would
     * make the document invalid.
     */
    public static void writeFormatted(JsonGenerator g, double v, String format) throws IOException {
        if (Double.isFinite(v)) g.writeNumber(String.format(Locale.ROOT, format, v));
        else g.writeNull();
    }

    /** Writes a map, list, string, number, boolean or null (see the class comment for numbers). */
    public static void write(JsonGenerator g, Object v) throws IOException {
        switch (v) {
            case null -> g.writeNull();
            case String s -> g.writeString(s);
            case Boolean b -> g.writeBoolean(b);
            case Integer i -> g.writeNumber(i);
            case Long l -> g.writeNumber(l);
            case BigInteger b -> g.writeNumber(b);
            case Number n -> {
                double d = n.doubleValue();
                if (Double.isFinite(d)) g.writeNumber(d);
                else g.writeNull();
            }
            case Map<?, ?> m -> {
                g.writeStartObject();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    g.writeFieldName(String.valueOf(e.getKey()));
                    write(g, e.getValue());
                }
                g.writeEndObject();
            }
            case List<?> l -> {
                g.writeStartArray();
                for (Object o : l) write(g, o);
                g.writeEndArray();
            }
            default -> throw new IllegalArgumentException("cannot write " + v.getClass().getName() + " as JSON");
        }
    }

    /** The separators of Python's json.dumps: ", " and ": " on one line; with {@code indent}, objects outside arrays break lines. */
    private static final class PythonLayout implements PrettyPrinter {
        private final boolean indent;
        private int objects;   // enclosing objects that break lines: the indent level
        private int arrays;    // enclosing arrays: inside one, everything stays on one line

        PythonLayout(boolean indent) { this.indent = indent; }

        private boolean breaking() { return indent && arrays == 0; }

        private void newline(JsonGenerator g) throws IOException {
            g.writeRaw('\n');
            g.writeRaw("  ".repeat(objects));
        }

        @Override public void writeRootValueSeparator(JsonGenerator g) throws IOException { g.writeRaw('\n'); }

        @Override public void writeStartObject(JsonGenerator g) throws IOException {
            g.writeRaw('{');
            if (breaking()) objects++;
        }

        @Override public void beforeObjectEntries(JsonGenerator g) throws IOException {
            if (breaking()) newline(g);
        }

        @Override public void writeObjectFieldValueSeparator(JsonGenerator g) throws IOException { g.writeRaw(": "); }

        @Override public void writeObjectEntrySeparator(JsonGenerator g) throws IOException {
            if (breaking()) {
                g.writeRaw(',');
                newline(g);
            } else {
                g.writeRaw(", ");
            }
        }

        @Override public void writeEndObject(JsonGenerator g, int entries) throws IOException {
            if (breaking()) {
                objects--;
                if (entries > 0) newline(g);
            }
            g.writeRaw('}');
        }

        @Override public void writeStartArray(JsonGenerator g) throws IOException {
            g.writeRaw('[');
            arrays++;
        }

        @Override public void beforeArrayValues(JsonGenerator g) { }

        @Override public void writeArrayValueSeparator(JsonGenerator g) throws IOException { g.writeRaw(", "); }

        @Override public void writeEndArray(JsonGenerator g, int values) throws IOException {
            arrays--;
            g.writeRaw(']');
        }
    }
}
