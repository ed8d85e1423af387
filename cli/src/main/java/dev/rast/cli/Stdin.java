package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.engine.files.Utf8;
import java.io.IOException;
import java.io.InputStream;

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
        return Utf8.decode(bytes, "standard input");
    }
}
