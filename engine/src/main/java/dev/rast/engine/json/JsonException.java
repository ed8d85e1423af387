package dev.rast.engine.json;

/** Malformed JSON; the message gives the byte offset. Callers wrap it with the file name. */
public final class JsonException extends RuntimeException {
    public JsonException(String message) { super(message); }
}
