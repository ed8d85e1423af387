package dev.rast.hub;

import dev.rast.engine.BadInputException;

/**
 * A download or cache problem told to the user in one line: the repository, revision or file it concerns and what to
 * do about it (a token, a name to check, the network). The command line prints it without a stack trace.
 */
public final class HubException extends BadInputException {
    public HubException(String message) { super(message); }

    public HubException(String message, Throwable cause) { super(message, cause); }
}
