package dev.rast.hub;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * An in-process Hugging Face Hub for tests: the routes, headers and redirects of the real one, for the repositories
 * added to it, on loopback only.
 * <ul>
 *   <li>{@code GET /api/models/ORG/NAME/revision/REV}: {@code id}, {@code sha}, {@code siblings[].rfilename};</li>
 *   <li>{@code GET /api/models/ORG/NAME/tree/REV}: {@code type}, {@code path}, {@code size}, {@code oid}, {@code lfs}
 *       (what huggingface_hub 1.x and later list a snapshot with);</li>
 *   <li>{@code HEAD|GET /ORG/NAME/resolve/REV/FILE}: an LFS file (weights) answers 302 to the CDN with
 *       {@code X-Linked-Etag} (its SHA-256), {@code X-Linked-Size}, {@code X-Repo-Commit}; any other file 307 to
 *       {@code /api/resolve-cache/models/ORG/NAME/COMMIT/FILE} on the same host, which answers with {@code ETag} (the
 *       git blob SHA-1), {@code Content-Length}, {@code X-Repo-Commit};</li>
 *   <li>the CDN, another host name (localhost, where the Hub is 127.0.0.1), serves LFS blobs with byte ranges.</li>
 * </ul>
 * Refusals carry {@code X-Error-Code} as the Hub's do: RepoNotFound (401 without a token, 404 with one),
 * RevisionNotFound, EntryNotFound, GatedRepo (401 without a token, 403 with one that has no access). Faults to inject:
 * a connection cut after some bytes, corrupted bytes, bursts of an error status, extra names in the file list.
 */
public final class FakeHub implements AutoCloseable {
    /** A request as the server saw it, for assertions (which host got the token, which asked for a range). */
    public record Request(String server, String method, String path, String range, String authorization) {}

    /** A repository: its files at one commit, which of them are LFS, the refs naming the commit. */
    public static final class Repo {
        final String id;
        final String commit;
        final Map<String, byte[]> files = new LinkedHashMap<>();
        final List<String> listedOnly = new ArrayList<>();
        final Map<String, String> refs = new ConcurrentHashMap<>();
        volatile String token; // when set, the repository is gated: files need this token

        Repo(String id, String commit) {
            this.id = id;
            this.commit = commit;
            refs.put("main", commit);
        }

        public String commit() { return commit; }

        public Map<String, byte[]> files() { return Collections.unmodifiableMap(files); }

        public Repo file(String path, byte[] content) {
            files.put(path, content);
            return this;
        }

        /** Lists {@code name} in the file list without serving it (a hostile or broken server). */
        public Repo listAlso(String name) {
            listedOnly.add(name);
            return this;
        }

        public Repo tag(String ref) {
            refs.put(ref, commit);
            return this;
        }

        /** Gated: files are served only with {@code Authorization: Bearer token}. */
        public Repo gated(String token) {
            this.token = token;
            return this;
        }
    }

    private record Fault(AtomicInteger left, long cutAt, int status) {}

    private final HttpServer hub, cdn;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fake-hub");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, Fault> cuts = new ConcurrentHashMap<>(), corruptions = new ConcurrentHashMap<>();
    private final Map<String, Fault> bursts = new ConcurrentHashMap<>();
    private final ObjectMapper json = new ObjectMapper();

    public FakeHub() throws IOException {
        hub = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
        cdn = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
        hub.createContext("/", ex -> serve("hub", ex));
        cdn.createContext("/", ex -> serve("cdn", ex));
        hub.setExecutor(pool);
        cdn.setExecutor(pool);
        hub.start();
        cdn.start();
    }

    public URI endpoint() { return URI.create("http://127.0.0.1:" + hub.getAddress().getPort()); }

    URI cdnBase() { return URI.create("http://localhost:" + cdn.getAddress().getPort()); }

    /** A repository with a fixed commit derived from its name. */
    public Repo repo(String id) {
        return repos.computeIfAbsent(id, k -> new Repo(k, HexFormat.of().formatHex(sha("SHA-1", ("commit of " + k).getBytes(StandardCharsets.UTF_8)))));
    }

    /** A repository serving every file under {@code dir} (e.g. a model that `rast synth` wrote). */
    public Repo repoFromFolder(String id, Path dir) throws IOException {
        Repo r = repo(id);
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.filter(Files::isRegularFile).sorted().toList())
                r.file(dir.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
        }
        return r;
    }

    /** The next {@code times} CDN downloads of {@code file} stop after {@code bytes} bytes and drop the connection. */
    public void cutAfter(String file, long bytes, int times) { cuts.put(file, new Fault(new AtomicInteger(times), bytes, 0)); }

    /** The next {@code times} CDN downloads of {@code file} have one byte flipped. */
    public void corrupt(String file, int times) { corruptions.put(file, new Fault(new AtomicInteger(times), 0, 0)); }

    /** The next {@code count} requests to {@code server} ("hub" or "cdn") answer {@code status}. */
    public void failNext(String server, int count, int status) { bursts.put(server, new Fault(new AtomicInteger(count), 0, status)); }

    public java.util.Set<String> repoIds() { return java.util.Set.copyOf(repos.keySet()); }

    public List<Request> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    public static boolean lfs(String file) {
        return Stream.of(".safetensors", ".bin", ".pt", ".pth", ".gguf").anyMatch(file::endsWith);
    }

    /** The git blob id of a file: SHA-1 of "blob LENGTH\0" and its bytes, the Hub's ETag of a non-LFS file. */
    public static String gitOid(byte[] content) {
        byte[] head = ("blob " + content.length + "\0").getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[head.length + content.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(content, 0, all, head.length, content.length);
        return HexFormat.of().formatHex(sha("SHA-1", all));
    }

    public static String sha256(byte[] content) {
        return SHA256.computeIfAbsent(new Identity(content), k -> HexFormat.of().formatHex(sha("SHA-256", content)));
    }

    /** A byte array by identity, as a key: the hash of a large file is computed once, not on every request. */
    private record Identity(byte[] bytes) {
        @Override public boolean equals(Object o) { return o instanceof Identity i && i.bytes == bytes; }
        @Override public int hashCode() { return System.identityHashCode(bytes); }
    }

    private static final Map<Identity, String> SHA256 = java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

    /** The etag huggingface_hub names a file's blob with: SHA-256 for LFS files, the git blob id for others. */
    public static String etag(String file, byte[] content) { return lfs(file) ? sha256(content) : gitOid(content); }

    private void serve(String server, HttpExchange ex) throws IOException {
        String method = ex.getRequestMethod();
        String path = ex.getRequestURI().getRawPath();
        requests.add(new Request(server, method, path, ex.getRequestHeaders().getFirst("Range"), ex.getRequestHeaders().getFirst("Authorization")));
        try (ex) {
            Fault burst = bursts.get(server);
            if (burst != null && burst.left().getAndDecrement() > 0) {
                send(ex, burst.status(), Map.of(), "{\"error\":\"injected\"}".getBytes(StandardCharsets.UTF_8));
                return;
            }
            if (server.equals("cdn")) cdnGet(ex, path);
            else if (path.startsWith("/api/models/")) api(ex, path.substring("/api/models/".length()));
            else if (path.startsWith("/api/resolve-cache/models/")) resolveCache(ex, path.substring("/api/resolve-cache/models/".length()));
            else resolve(ex, path.substring(1));
        } catch (IOException e) {
            // the client went away, or a fault cut the connection on purpose
        }
    }

    /** /api/models/ORG/NAME/revision/REV and /api/models/ORG/NAME/tree/REV. */
    private void api(HttpExchange ex, String rest) throws IOException {
        String[] p = rest.split("/", 4);
        Repo repo = route(ex, p, p.length == 4);
        if (repo == null) return;
        String rev = decode(p[3]);
        String commit = commitOf(repo, rev);
        if (commit == null) {
            error(ex, 404, "RevisionNotFound", "Invalid rev id: " + rev);
            return;
        }
        Object body;
        if (p[2].equals("revision")) {
            List<Map<String, Object>> siblings = new ArrayList<>();
            for (String f : repo.files.keySet()) siblings.add(Map.of("rfilename", f));
            for (String f : repo.listedOnly) siblings.add(Map.of("rfilename", f));
            body = Map.of("id", repo.id, "modelId", repo.id, "sha", commit, "private", false, "gated", repo.token == null ? false : "manual",
                    "disabled", false, "siblings", siblings, "tags", List.of());
        } else if (p[2].equals("tree")) {
            List<Map<String, Object>> entries = new ArrayList<>();
            repo.files.forEach((f, c) -> {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("type", "file");
                e.put("path", f);
                e.put("size", c.length);
                e.put("oid", lfs(f) ? gitOid(pointer(c)) : gitOid(c));
                if (lfs(f)) e.put("lfs", Map.of("oid", sha256(c), "size", c.length, "pointerSize", pointer(c).length));
                entries.add(e);
            });
            for (String f : repo.listedOnly) entries.add(Map.of("type", "file", "path", f, "size", 1, "oid", gitOid(new byte[1])));
            body = entries;
        } else {
            error(ex, 404, "", "Not found");
            return;
        }
        send(ex, 200, Map.of("Content-Type", "application/json"), json.writeValueAsBytes(body));
    }

    /** /ORG/NAME/resolve/REV/FILE: LFS files redirect to the CDN, others to the resolve cache on this host. */
    private void resolve(HttpExchange ex, String rest) throws IOException {
        String[] p = rest.split("/", 5);
        Repo repo = route(ex, p, p.length == 5 && p[2].equals("resolve"));
        if (repo == null || !authorized(ex, repo)) return;
        String commit = commitOf(repo, decode(p[3]));
        if (commit == null) {
            error(ex, 404, "RevisionNotFound", "Invalid rev id: " + decode(p[3]));
            return;
        }
        String file = decode(p[4]);
        byte[] content = repo.files.get(file);
        if (content == null) {
            ex.getResponseHeaders().set("X-Repo-Commit", commit);
            error(ex, 404, "EntryNotFound", "Entry not found");
            return;
        }
        var h = new LinkedHashMap<String, String>();
        h.put("X-Repo-Commit", commit);
        if (lfs(file)) {
            h.put("X-Linked-Etag", "\"" + sha256(content) + "\"");
            h.put("X-Linked-Size", Long.toString(content.length));
            h.put("ETag", "\"" + gitOid(pointer(content)) + "\"");
            h.put("Location", cdnBase() + "/repos/" + repo.id + "/" + sha256(content) + "?X-Amz-Signature=fake&response-content-disposition="
                    + "attachment%3B+filename%3D%22" + file.replace("/", "%2F") + "%22");
            send(ex, 302, h, null);
        } else {
            h.put("Location", "/api/resolve-cache/models/" + repo.id + "/" + commit + "/" + p[4]);
            send(ex, 307, h, null);
        }
    }

    /** /api/resolve-cache/models/ORG/NAME/COMMIT/FILE: a non-LFS file, its git blob id as ETag. */
    private void resolveCache(HttpExchange ex, String rest) throws IOException {
        String[] p = rest.split("/", 4);
        Repo repo = route(ex, p, p.length == 4);
        if (repo == null || !authorized(ex, repo)) return;
        byte[] content = p[2].equals(repo.commit) ? repo.files.get(decode(p[3])) : null;
        if (content == null) {
            error(ex, 404, "EntryNotFound", "Entry not found");
            return;
        }
        send(ex, 200, Map.of("X-Repo-Commit", repo.commit, "ETag", "\"" + gitOid(content) + "\"", "Content-Type", "text/plain"), content);
    }

    /** /repos/ORG/NAME/SHA256: an LFS blob with byte ranges, and the injected cuts and corruptions. */
    private void cdnGet(HttpExchange ex, String path) throws IOException {
        String[] p = path.split("/");
        Repo repo = p.length == 5 ? repos.get(p[2] + "/" + p[3]) : null;
        String file = null;
        byte[] content = null;
        if (repo != null)
            for (var e : repo.files.entrySet())
                if (lfs(e.getKey()) && sha256(e.getValue()).equals(p[4])) {
                    file = e.getKey();
                    content = e.getValue();
                }
        if (content == null) {
            send(ex, 404, Map.of(), "<Error><Code>NoSuchKey</Code></Error>".getBytes(StandardCharsets.UTF_8));
            return;
        }
        long from = 0;
        String range = ex.getRequestHeaders().getFirst("Range");
        if (range != null && range.startsWith("bytes=") && range.endsWith("-")) from = Long.parseLong(range.substring(6, range.length() - 1));
        if (from >= content.length && content.length > 0) {
            send(ex, 416, Map.of("Content-Range", "bytes */" + content.length), null);
            return;
        }
        byte[] body = java.util.Arrays.copyOfRange(content, (int) from, content.length);
        Fault corrupt = corruptions.get(file);
        if (corrupt != null && corrupt.left().getAndDecrement() > 0 && body.length > 0) body[body.length / 2] ^= 0x5a;
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Content-Type", "application/octet-stream");
        h.put("ETag", "\"" + p[4] + "\"");
        if (from > 0) h.put("Content-Range", "bytes " + from + "-" + (content.length - 1) + "/" + content.length);
        int status = from > 0 ? 206 : 200;
        Fault cut = cuts.get(file);
        if (cut != null && !ex.getRequestMethod().equals("HEAD") && cut.left().getAndDecrement() > 0) {
            h.forEach(ex.getResponseHeaders()::set);
            ex.sendResponseHeaders(status, body.length);
            OutputStream out = ex.getResponseBody();
            out.write(body, 0, (int) Math.min(body.length, Math.max(0, cut.cutAt() - from)));
            out.flush();
            throw new IOException("injected cut"); // the exchange closes short of its length: the server drops the connection
        }
        send(ex, status, h, body);
    }

    /** The repository that {@code p[0]/p[1]} names; null once a malformed route (404) or a missing repository is answered. */
    private Repo route(HttpExchange ex, String[] p, boolean wellFormed) throws IOException {
        if (!wellFormed) {
            error(ex, 404, "", "Not found");
            return null;
        }
        Repo repo = repos.get(p[0] + "/" + p[1]);
        if (repo == null) repoNotFound(ex);
        return repo;
    }

    private boolean authorized(HttpExchange ex, Repo repo) throws IOException {
        if (repo.token == null) return true;
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth == null) {
            error(ex, 401, "GatedRepo", "Access to model " + repo.id + " is restricted. You must have access to it and be authenticated to access it. Please log in.");
            return false;
        }
        if (!auth.equals("Bearer " + repo.token)) {
            error(ex, 403, "GatedRepo", "Access to model " + repo.id + " is restricted and you are not in the authorized list.");
            return false;
        }
        return true;
    }

    private void repoNotFound(HttpExchange ex) throws IOException {
        boolean token = ex.getRequestHeaders().getFirst("Authorization") != null;
        error(ex, token ? 404 : 401, "RepoNotFound", "Repository not found");
    }

    private static String commitOf(Repo repo, String rev) {
        if (rev.equals(repo.commit)) return repo.commit;
        return repo.refs.get(rev);
    }

    private void error(HttpExchange ex, int status, String code, String message) throws IOException {
        Map<String, String> h = new LinkedHashMap<>();
        if (!code.isEmpty()) h.put("X-Error-Code", code);
        h.put("X-Error-Message", message);
        h.put("Content-Type", "application/json");
        send(ex, status, h, json.writeValueAsBytes(Map.of("error", message)));
    }

    /** Sends headers and body; a HEAD answer gets the headers a GET would, Content-Length included, without the body. */
    private static void send(HttpExchange ex, int status, Map<String, String> headers, byte[] body) throws IOException {
        headers.forEach(ex.getResponseHeaders()::set);
        boolean head = ex.getRequestMethod().equals("HEAD");
        if (head && body != null) ex.getResponseHeaders().set("Content-Length", Integer.toString(body.length));
        if (head || body == null) ex.sendResponseHeaders(status, -1);
        else ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (!head && body != null && body.length > 0) ex.getResponseBody().write(body);
    }

    /** The git-lfs pointer file that the repository's git holds in place of an LFS file. */
    private static byte[] pointer(byte[] content) {
        return ("version https://git-lfs.github.com/spec/v1\noid sha256:" + sha256(content) + "\nsize " + content.length + "\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static String decode(String s) { return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8); }

    private static byte[] sha(String algorithm, byte[] bytes) {
        try {
            return MessageDigest.getInstance(algorithm).digest(bytes);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
        pool.shutdownNow();
    }
}
