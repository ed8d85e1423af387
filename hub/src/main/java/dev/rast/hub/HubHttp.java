package dev.rast.hub;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The HTTP side of the Hub: the token on requests to Hub hosts only, redirects followed by hand so that the token
 * never goes to a CDN or storage host, and retries with back-off on 5xx/429/408 answers and dropped connections.
 */
final class HubHttp {
    private static final int MAX_REDIRECTS = 10;
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);

    private final HubSettings settings;
    private final RetryPolicy retry;
    private final HttpClient client;
    private final Set<String> hubHosts;
    private final String userAgent;

    HubHttp(HubSettings settings, RetryPolicy retry) {
        this.settings = settings;
        this.retry = retry;
        this.client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(20)).build();
        this.hubHosts = new java.util.HashSet<>(List.of(host(settings.endpoint()), "huggingface.co", "hf.co"));
        String v = HubHttp.class.getPackage().getImplementationVersion();
        this.userAgent = "rast/" + (v == null ? "dev" : v) + "; java/" + Runtime.version().feature();
    }

    HubSettings settings() { return settings; }

    RetryPolicy retry() { return retry; }

    /** What a request was about, for the messages of its failures. */
    record Subject(RepoId repo, String revision, String file) {}

    /**
     * Sends a request, following redirects, and tries again on retryable answers and dropped connections. Returns the
     * answer with a 2xx status, or with {@code stopAtForeignRedirect} a redirect to a host off the Hub (whose headers
     * describe the file); throws {@link HubException} otherwise. The caller closes the body.
     */
    HttpResponse<InputStream> send(String method, URI uri, Map<String, String> headers, boolean stopAtForeignRedirect, Subject about) {
        for (int failed = 0; ; ) {
            HttpResponse<InputStream> r;
            try {
                r = follow(method, uri, headers, stopAtForeignRedirect);
            } catch (IOException e) {
                failed++;
                if (!retryable(e) || failed >= retry.attempts()) throw unreachable(uri, e);
                retry.pause(failed);
                continue;
            }
            int status = r.statusCode();
            if (status / 100 == 2 || status / 100 == 3) return r;
            close(r);
            failed++;
            if (!RetryPolicy.retryable(status) || failed >= retry.attempts()) throw HubErrors.of(r, settings, about);
            retry.pause(failed);
        }
    }

    /** One request and its redirects: the token goes along only while the target is a Hub host. */
    HttpResponse<InputStream> follow(String method, URI uri, Map<String, String> headers, boolean stopAtForeignRedirect) throws IOException {
        URI at = uri;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(at).timeout(REQUEST_TIMEOUT).method(method, HttpRequest.BodyPublishers.noBody())
                    .header("User-Agent", userAgent).header("Accept-Encoding", "identity");
            headers.forEach(b::header);
            if (settings.token() != null && onHub(at)) b.header("Authorization", "Bearer " + settings.token().value());
            HttpResponse<InputStream> r;
            try {
                r = client.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HubException("download interrupted");
            }
            String location = r.headers().firstValue("Location").orElse(null);
            if (r.statusCode() / 100 != 3 || location == null) return r;
            URI next = at.resolve(location);
            if (stopAtForeignRedirect && !onHub(next)) return r;
            close(r);
            at = next;
        }
        throw new HubException("more than " + MAX_REDIRECTS + " redirects from " + uri);
    }

    boolean onHub(URI uri) { return hubHosts.contains(host(uri)); }

    private static String host(URI uri) { return uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT); }

    /** Whether trying again can help: not when the host name does not resolve (no network, or a wrong HF_ENDPOINT). */
    static boolean retryable(IOException e) { return !unresolved(e); }

    private static boolean unresolved(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause())
            if (t instanceof UnknownHostException || t instanceof UnresolvedAddressException) return true;
        return false;
    }

    HubException unreachable(URI uri, IOException e) {
        Throwable t = e;
        while (t.getCause() != null && t.getMessage() == null) t = t.getCause();
        String at = uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort());
        String why = unresolved(e) ? "the host name " + uri.getHost() + " does not resolve"
                : (t instanceof HttpTimeoutException ? "timed out" : t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage()))
                        + " at " + at;
        return new HubException("cannot reach the Hub at " + settings.endpoint() + " (" + why + "); check the network, or HF_ENDPOINT for a mirror, "
                + "or set HF_HUB_OFFLINE=1 to use only the cache (" + settings.cache() + ")", e);
    }

    static void close(HttpResponse<InputStream> r) {
        try {
            r.body().close();
        } catch (IOException e) {
            // nothing to keep from a body we do not read
        }
    }
}
