package dev.rast.engine.files;

import dev.rast.engine.BadInputException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Text lines read as strict UTF-8, one at a time ({@link Utf8} decodes a whole text): bytes that are not UTF-8 are a
 * {@link BadInputException} naming the line and the byte ("SOURCE line 3: not valid UTF-8 (bad byte 0xff at column
 * 12)"), never U+FFFD put in their place (a grader or tokenizer would then see other text than the file holds). Lines
 * end at "\n", "\r\n" or "\r", as {@link java.io.BufferedReader#readLine} has them; the terminator is not part of
 * the line.
 */
public final class Utf8Lines {
    private Utf8Lines() {}

    /** Receives each line with its 1-based number. */
    @FunctionalInterface
    public interface Consumer {
        void line(int number, String text);
    }

    /** Reads {@code in} to its end (not closing it); {@code source} names it in errors. */
    public static void forEach(InputStream in, String source, Consumer action) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        byte[] buf = new byte[1 << 16];
        int number = 0;
        boolean afterCr = false; // the last byte was '\r': a '\n' right after it ends no further line
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                int from = 0;
                for (int i = 0; i < n; i++) {
                    byte b = buf[i];
                    if (b != '\n' && b != '\r') { afterCr = false; continue; }
                    boolean crLf = afterCr && b == '\n';
                    afterCr = b == '\r';
                    if (crLf) { from = i + 1; continue; }
                    line.write(buf, from, i - from);
                    action.line(++number, decode(line.toByteArray(), decoder, source, number));
                    line.reset();
                    from = i + 1;
                }
                line.write(buf, from, n - from);
            }
            if (line.size() > 0) action.line(++number, decode(line.toByteArray(), decoder, source, number));
        } catch (IOException e) {
            throw new BadInputException("cannot read " + source + " at line " + (number + 1) + ": " + IoErrors.reason(e));
        }
    }

    private static String decode(byte[] bytes, CharsetDecoder decoder, String source, int number) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            return decoder.reset().decode(in).toString();
        } catch (CharacterCodingException e) {
            int at = in.position(); // the decoder stops at the first byte it cannot take
            throw new BadInputException(source + " line " + number + ": not valid UTF-8 (bad byte 0x"
                    + Integer.toHexString(bytes[Math.min(at, bytes.length - 1)] & 0xFF) + " at column " + (at + 1) + ")");
        }
    }
}
