package dev.rast.cli;

import dev.rast.engine.BadInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;

/** Reads standard input as strict UTF-8: invalid bytes are an error that names their offset, never U+FFFD. */
final class Stdin {
    private Stdin() {}

    static String readAll(InputStream in) {
        byte[] bytes;
        try {
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new BadInputException("cannot read standard input: " + e.getMessage());
        }
        return decode(bytes, "standard input");
    }

    static String decode(byte[] bytes, String what) {
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
