package dev.rast.hub;

import java.io.InputStream;
import java.net.http.HttpResponse;

/**
 * The Hub's refusals in words: which repository, revision or file, and what to do. The Hub says why in the
 * {@code X-Error-Code} header (GatedRepo, RepoNotFound, RevisionNotFound, EntryNotFound) and answers 401 both for a
 * missing repository and for a private or gated one asked without a token, so the message covers both then.
 */
final class HubErrors {
    private HubErrors() {}

    static HubException of(HttpResponse<InputStream> r, HubSettings s, HubHttp.Subject about) {
        int status = r.statusCode();
        String code = r.headers().firstValue("X-Error-Code").orElse("");
        String said = r.headers().firstValue("X-Error-Message").orElse("");
        RepoId repo = about.repo();
        String page = s.endpoint() + "/" + repo;
        HubSettings.Token token = s.token();
        String how = s.howToGiveToken();
        if (code.equals("GatedRepo"))
            return new HubException(repo + " is a gated model: " + (token == null
                    ? "accept its license at " + page + " while logged in, then give rast a token: " + how
                    : "the " + token + " has no access to it (HTTP " + status + "); accept its license at " + page
                            + " with that account, or use another token (HF_TOKEN)"));
        if (status == 401 && said.toLowerCase(java.util.Locale.ROOT).contains("invalid credentials"))
            return new HubException("the Hub refused the " + token + " (HTTP 401, invalid credentials) while fetching " + repo
                    + ": check it, or unset it for public models");
        if (code.equals("RevisionNotFound"))
            return new HubException(repo + " has no revision '" + about.revision() + "' on " + s.endpoint()
                    + " (HTTP " + status + "); give a branch, tag or commit it has (" + page + "/tree/main lists them)");
        if (code.equals("EntryNotFound"))
            return new HubException(repo + " at " + about.revision() + " has no file " + about.file() + " (HTTP " + status + ")");
        if (code.equals("RepoNotFound") || status == 401 || (status == 404 && about.file() == null))
            return new HubException("no model " + repo + " on " + s.endpoint() + " (HTTP " + status + "): check the name"
                    + (token == null ? "; if it is private or gated, give rast a token: " + how
                            : "; if it is private, the " + token + " must have access to it"));
        if (status == 403)
            return new HubException("the Hub refused access to " + repo + " (HTTP 403" + (said.isEmpty() ? "" : ": " + said) + "); "
                    + (token == null ? "give rast a token: " + how : "check that the " + token + " has read access to it"));
        if (status == 404)
            return new HubException(repo + " at " + about.revision() + ": " + about.file() + " was not found (HTTP 404 from " + r.uri().getHost() + ")");
        return new HubException("the Hub answered HTTP " + status + (said.isEmpty() ? "" : " (" + said + ")") + " for " + repo
                + (about.file() == null ? "" : " " + about.file()) + " at " + withoutQuery(r.uri()) + "; try again later");
    }

    /** A URL without its query: a CDN's signed parameters are noise in a message. */
    static String withoutQuery(java.net.URI u) {
        return u.getScheme() + "://" + u.getRawAuthority() + (u.getRawPath() == null ? "" : u.getRawPath());
    }
}
