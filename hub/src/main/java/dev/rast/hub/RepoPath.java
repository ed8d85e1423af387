package dev.rast.hub;

import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Names that come from the server and become paths in the cache: a file of the repository (relative, '/'-separated,
 * without empty, {@code .} or {@code ..} parts, backslashes, drive letters or control characters) and an etag (one
 * plain file name). A server that names {@code ../x} is refused before anything is written.
 */
final class RepoPath {
    private static final Pattern ETAG = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

    private RepoPath() {}

    static String checkFile(RepoId repo, String file) {
        String why = file == null || file.isEmpty() ? "it is empty"
                : file.startsWith("/") ? "it is absolute"
                : file.chars().anyMatch(c -> c == '\\' || c == ':' || Character.isISOControl(c)) ? "it has a backslash, colon or control character"
                : null;
        if (why == null)
            for (String part : file.split("/", -1))
                if (part.isEmpty() || part.equals(".") || part.equals("..")) why = "it has an empty, '.' or '..' part";
        if (why != null)
            throw new HubException("the Hub's file list for " + repo + " names '" + file + "', which is not a path inside the repository ("
                    + why + "); refused, nothing written");
        return file;
    }

    static String checkEtag(RepoId repo, String file, String etag) {
        if (etag == null || !ETAG.matcher(etag).matches())
            throw new HubException("the Hub gave " + repo + "'s " + file + " the etag '" + etag + "', which is not a plain hash; refused, nothing written");
        return etag;
    }

    /** {@code file} under {@code dir}, checked again on the resolved path: it must stay inside. */
    static Path under(Path dir, RepoId repo, String file) {
        Path p = dir.resolve(checkFile(repo, file)).normalize();
        if (!p.startsWith(dir.normalize())) throw new HubException(repo + ": '" + file + "' leaves " + dir + "; refused");
        return p;
    }
}
