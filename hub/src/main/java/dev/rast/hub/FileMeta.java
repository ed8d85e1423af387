package dev.rast.hub;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.util.OptionalLong;

/**
 * A file at a commit, from {@code HEAD /ORG/NAME/resolve/COMMIT/FILE}: the commit the Hub served it from
 * ({@code X-Repo-Commit}), its etag ({@code X-Linked-Etag} for an LFS file, whose answer redirects to the CDN, else
 * {@code ETag}; quotes and a weak {@code W/} dropped), its size ({@code X-Linked-Size}, else {@code Content-Length}
 * of an answer that is not a redirect) and where to download it ({@code Location}, else the URL itself).
 */
record FileMeta(String commit, String etag, long size, URI location) {
    /** Whether the etag is a SHA-256 (an LFS file): then the downloaded bytes must hash to it. */
    boolean sha256() { return etag.length() == 64 && etag.chars().allMatch(c -> Character.digit(c, 16) >= 0); }

    static FileMeta of(HttpResponse<InputStream> r, RepoId repo, String file) {
        HttpHeaders h = r.headers();
        String commit = h.firstValue("X-Repo-Commit").orElse(null);
        if (!ModelSpec.isCommit(commit))
            throw new HubException("the Hub's answer for " + repo + " " + file + " has no X-Repo-Commit header; is HF_ENDPOINT a Hub?");
        String etag = h.firstValue("X-Linked-Etag").or(() -> h.firstValue("ETag")).map(FileMeta::normalize).orElse(null);
        RepoPath.checkEtag(repo, file, etag);
        boolean redirect = r.statusCode() / 100 == 3;
        OptionalLong size = h.firstValue("X-Linked-Size").map(FileMeta::parseSize).orElse(redirect ? OptionalLong.empty()
                : h.firstValue("Content-Length").map(FileMeta::parseSize).orElse(OptionalLong.empty()));
        if (size.isEmpty()) throw new HubException("the Hub's answer for " + repo + " " + file + " gives no size");
        URI location = h.firstValue("Location").map(l -> r.uri().resolve(l)).orElse(r.uri());
        return new FileMeta(commit, etag, size.getAsLong(), location);
    }

    private static String normalize(String etag) {
        String e = etag.strip();
        if (e.startsWith("W/")) e = e.substring(2);
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) e = e.substring(1, e.length() - 1);
        return e;
    }

    private static OptionalLong parseSize(String s) {
        try {
            long v = Long.parseLong(s.strip());
            return v >= 0 ? OptionalLong.of(v) : OptionalLong.empty();
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }
}
