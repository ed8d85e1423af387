package dev.rast.hub;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A model named on the command line: {@code ORG/NAME} or {@code ORG/NAME@REV}, where REV is a branch, tag or commit
 * (default {@code main}). The revision becomes a file under the cache's {@code refs/}, so it is checked as a path:
 * no empty, {@code .} or {@code ..} parts, no backslash or control character.
 */
public record ModelSpec(RepoId repo, String revision) {
    public static final String DEFAULT_REVISION = "main";
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    public ModelSpec {
        checkRevision(revision);
    }

    /** The spec {@code text} names, or empty when it is not of the form ORG/NAME[@REV] (then it is a path). */
    public static Optional<ModelSpec> parse(String text) {
        int at = text.indexOf('@');
        RepoId repo = RepoId.parseOrNull(at < 0 ? text : text.substring(0, at));
        if (repo == null) return Optional.empty();
        return Optional.of(new ModelSpec(repo, at < 0 ? DEFAULT_REVISION : text.substring(at + 1)));
    }

    /** Whether the revision is a full commit hash: immutable, so a cached snapshot of it never needs the network. */
    public boolean pinned() { return isCommit(revision); }

    static boolean isCommit(String s) { return s != null && COMMIT.matcher(s).matches(); }

    static void checkRevision(String revision) {
        String why = revision == null || revision.isEmpty() ? "it is empty"
                : revision.startsWith("/") || revision.endsWith("/") ? "it starts or ends with '/'"
                : revision.chars().anyMatch(c -> c == '\\' || Character.isISOControl(c)) ? "it has a backslash or a control character"
                : null;
        if (why == null)
            for (String part : revision.split("/"))
                if (part.isEmpty() || part.equals(".") || part.equals("..")) why = "it has an empty, '.' or '..' part";
        if (why != null) throw new HubException("revision '" + revision + "' is not usable: " + why);
    }

    @Override public String toString() { return revision.equals(DEFAULT_REVISION) ? repo.toString() : repo + "@" + revision; }
}
