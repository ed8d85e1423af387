package dev.rast.hub;

import java.util.regex.Pattern;

/**
 * A model repository on the Hub, {@code ORG/NAME}. Both parts follow the Hub's rule for names: letters, digits,
 * {@code _ . -}, starting and ending with a letter, digit or underscore, without {@code --} or {@code ..}, at most 96
 * characters in all; so a name is also safe as part of a cache folder name.
 */
public record RepoId(String org, String name) {
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?");
    private static final int MAX_LENGTH = 96;

    public RepoId {
        if (!valid(org, name)) throw new IllegalArgumentException("not a Hub repository name: " + org + "/" + name);
    }

    /** The repository {@code text} names, or null when it is not of the form ORG/NAME. */
    static RepoId parseOrNull(String text) {
        int slash = text.indexOf('/');
        if (slash < 0 || text.indexOf('/', slash + 1) >= 0) return null;
        String org = text.substring(0, slash), name = text.substring(slash + 1);
        return valid(org, name) ? new RepoId(org, name) : null;
    }

    private static boolean valid(String org, String name) {
        if (org == null || name == null || org.length() + 1 + name.length() > MAX_LENGTH) return false;
        for (String part : new String[] {org, name})
            if (!PART.matcher(part).matches() || part.contains("--") || part.contains("..")) return false;
        return true;
    }

    /** huggingface_hub's folder for the repository in its cache: {@code models--ORG--NAME}. */
    public String cacheFolderName() { return "models--" + org + "--" + name; }

    @Override public String toString() { return org + "/" + name; }
}
