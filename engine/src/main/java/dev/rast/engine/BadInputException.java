package dev.rast.engine;

/**
 * Bad input from the user: weights, config, tokenizer, prompt or flags. The message is one line that names the
 * file and the tensor or field and says what is wrong; the command line prints it without a stack trace.
 */
public class BadInputException extends RuntimeException {
    public BadInputException(String message) { super(message); }

    public BadInputException(String message, Throwable cause) { super(message, cause); }
}
