package dev.rast.kernels.cuda;

import dev.rast.engine.BadInputException;

/**
 * The GPU has too little free memory for an allocation. A {@link BadInputException}: the remedy is on the user's
 * side (a smaller model, a shorter context, another GPU), so the command line prints the message and exits with
 * status 2 instead of reporting an internal error.
 */
public final class DeviceOutOfMemoryException extends BadInputException {
    public DeviceOutOfMemoryException(String message) { super(message); }
}
