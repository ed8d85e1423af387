package dev.rast.run;

import dev.rast.engine.json.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * What a resumable run's rows were made from, as a short hash stored in each row: a prompt or problem, and the
 * settings. A re-run recomputes it from its own input and refuses rows whose source changed, rather than taking them
 * by line number. The first 64 bits of SHA-256 over the value's one-line JSON: enough to tell an edit from no edit,
 * short enough for every row.
 */
public final class SourceHash {
    private SourceHash() {}

    /** The hash of a JSON value (maps in their key order, as {@link Json#line} writes them). */
    public static String of(Object jsonValue) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(Json.line(jsonValue).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
