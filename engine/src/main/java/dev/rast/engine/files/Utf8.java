package dev.rast.engine.files;

import dev.rast.engine.BadInputException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;

/** Text in as strict UTF-8: bytes that are not UTF-8 are an error naming their offset, never turned into U+FFFD. */
public final class Utf8 {
    private Utf8() {}

    /** {@code bytes} as text; {@code what} names them in the error ("standard input", a file). */
    public static String decode(byte[] bytes, Object what) {
        var dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        try {
            return dec.decode(buf).toString();
        } catch (MalformedInputException e) {
            throw new BadInputException(what + " is not valid UTF-8 (bad byte 0x"
                    + Integer.toHexString(bytes[buf.position()] & 0xFF) + " at byte offset " + buf.position() + ")");
        } catch (CharacterCodingException e) {
            throw new BadInputException(what + " is not valid UTF-8: " + e.getMessage());
        }
    }
}
