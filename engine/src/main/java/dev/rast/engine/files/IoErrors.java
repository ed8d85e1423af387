package dev.rast.engine.files;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Locale;

/** I/O failures in words for one-line messages, without Java's exception class names. */
public final class IoErrors {
    private IoErrors() {}

    /** "permission denied", "no space left on device", "X is not a folder", ... */
    public static String reason(IOException e) {
        if (e instanceof AccessDeniedException) return "permission denied";
        if (e instanceof FileAlreadyExistsException x) return x.getFile() + " is a file, not a folder";
        if (e instanceof NotDirectoryException x) return x.getFile() + " is not a folder";
        if (e instanceof NoSuchFileException x) return x.getFile() + " does not exist";
        if (e instanceof FileSystemException x && x.getReason() != null) return x.getReason().toLowerCase(Locale.ROOT);
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
