package dev.rast.engine.files;

import dev.rast.engine.BadInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The files of a model folder (configs, tokenizer, index, weights) are opened only through here: each must be a
 * regular file after following links, and is read whole only up to a size cap for its kind.
 *
 * <p>Why: opening a FIFO blocks until a writer appears (forever, for a stray one), a device such as /dev/zero never
 * ends, and a file of gigabytes named config.json would be read into the heap before anything could say it is
 * wrong. The checks are a stat each, made before any open.
 */
public final class InputFiles {
    private InputFiles() {}

    /** config.json and generation_config.json: a few KB in every published model. */
    public static final long CONFIG_MAX_BYTES = 1L << 20;
    /** model.safetensors.index.json: a line per tensor, under 1 MB even for the largest checkpoints. */
    public static final long INDEX_MAX_BYTES = 64L << 20;
    /** tokenizer.json and tokenizer_config.json: the largest vocabularies published are a few tens of MB. */
    public static final long TOKENIZER_MAX_BYTES = 64L << 20;
    /** chat_template.jinja: templates are kilobytes. */
    public static final long TEMPLATE_MAX_BYTES = 16L << 20;

    /**
     * Refuses {@code file} unless it is a regular file (links followed); {@code missing} is the message when it does
     * not exist at all.
     */
    public static void requireRegular(Path file, String missing) {
        if (Files.isRegularFile(file)) return;
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) throw new BadInputException(file + ": " + missing);
        if (!Files.exists(file)) throw new BadInputException(file + ": a link to " + target(file) + ", which does not exist");
        throw new BadInputException(file + ": " + kind(file) + ", not a regular file (rast reads model files only from "
                + "regular files, never from pipes or devices, which may block or never end)");
    }

    /** The whole of {@code file}, which must be a regular file of at most {@code maxBytes} bytes. */
    public static byte[] read(Path file, long maxBytes, String missing) {
        requireRegular(file, missing);
        try (InputStream in = Files.newInputStream(file)) {
            // The size is checked on what is read, not on a stat: the file may grow between the two.
            byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
            if (bytes.length > maxBytes)
                throw new BadInputException(file + ": larger than " + describe(maxBytes) + ", the most rast reads for a file of its kind"
                        + " (is it the right file?)");
            return bytes;
        } catch (NoSuchFileException e) {
            throw new BadInputException(file + ": " + missing);
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** "1 MB", "64 MB": caps are whole mebibytes. */
    static String describe(long bytes) {
        return bytes % (1L << 20) == 0 ? (bytes >> 20) + " MB" : bytes + " bytes";
    }

    /** What a file that is not regular is, from its mode bits where the file system gives them. */
    static String kind(Path file) {
        try {
            int mode = (Integer) Files.getAttribute(file, "unix:mode");
            return switch (mode & 0170000) {
                case 0010000 -> "a named pipe (FIFO)";
                case 0020000 -> "a character device";
                case 0060000 -> "a block device";
                case 0140000 -> "a socket";
                case 0040000 -> "a directory";
                default -> "a special file";
            };
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            return Files.isDirectory(file) ? "a directory" : "a special file";
        }
    }

    private static String target(Path link) {
        try {
            return Files.readSymbolicLink(link).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return "a missing file";
        }
    }
}
