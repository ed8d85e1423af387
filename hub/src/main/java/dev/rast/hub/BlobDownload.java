package dev.rast.hub;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * Brings one blob into the cache: downloads into {@code blobs/ETAG.incomplete}, resuming from its length with an HTTP
 * Range request (after a dropped connection, or a pull stopped earlier), checks the size and, for an LFS file, that
 * the bytes hash to the SHA-256 etag, and only then renames it to {@code blobs/ETAG}. A corrupt download is thrown
 * away and fetched again, at most {@value #MAX_REFETCH} times. Other rast processes wait on the same lock file as
 * huggingface_hub uses ({@code .locks/models--ORG--NAME/ETAG.lock}).
 */
final class BlobDownload {
    static final int MAX_REFETCH = 2;
    private static final int BUFFER = 1 << 20;
    /** In-JVM locks: a file lock is held by the process, so threads of one JVM take turns here first. */
    private static final Map<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

    private final HubHttp http;
    private final HubCache cache;
    private final RepoId repo;
    private final String file;
    private final FileMeta meta;
    private final Supplier<FileMeta> refresh;
    private final DownloadListener listener;

    BlobDownload(HubHttp http, HubCache cache, RepoId repo, String file, FileMeta meta, Supplier<FileMeta> refresh, DownloadListener listener) {
        this.http = http;
        this.cache = cache;
        this.repo = repo;
        this.file = file;
        this.meta = meta;
        this.refresh = refresh;
        this.listener = listener;
    }

    /** Downloads the blob unless it is there; returns whether it downloaded. */
    boolean fetch() throws IOException {
        Path blob = cache.blob(repo, meta.etag());
        if (Files.isRegularFile(blob)) return false;
        Path lockFile = cache.lock(repo, meta.etag());
        Files.createDirectories(lockFile.getParent());
        Files.createDirectories(blob.getParent());
        ReentrantLock jvmLock = JVM_LOCKS.computeIfAbsent(lockFile, k -> new ReentrantLock());
        jvmLock.lock();
        try (FileChannel lc = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE); FileLock ignored = lc.lock()) {
            if (Files.isRegularFile(blob)) return false; // another process finished it while we waited
            Path part = cache.incomplete(repo, meta.etag());
            for (int refetch = 0; ; refetch++) {
                byte[] digest = download(part);
                if (digest == null || HexFormat.of().formatHex(digest).equals(meta.etag().toLowerCase(Locale.ROOT))) {
                    HubCache.move(part, blob);
                    return true;
                }
                Files.deleteIfExists(part);
                listener.progressed(-meta.size());
                String got = HexFormat.of().formatHex(digest);
                if (refetch >= MAX_REFETCH)
                    throw new HubException(repo + " " + file + ": the downloaded bytes hash to SHA-256 " + got + ", not to its etag "
                            + meta.etag() + ", " + (refetch + 1) + " times; refused (the corrupt copies are deleted, nothing is linked)");
                listener.note(repo + " " + file + ": SHA-256 " + got + " is not its etag " + meta.etag() + "; corrupt copy deleted, downloading again");
            }
        } finally {
            jvmLock.unlock();
        }
    }

    /** Fills {@code part} to the file's size; returns its SHA-256 when the etag is one (else null). */
    private byte[] download(Path part) throws IOException {
        MessageDigest md = meta.sha256() ? sha256() : null;
        long size = meta.size();
        long have = Files.exists(part) ? Files.size(part) : 0;
        if (have > size) {
            Files.delete(part);
            have = 0;
        }
        if (have > 0) {
            if (md != null) hashPrefix(part, have, md);
            listener.note(repo + " " + file + ": resuming at " + mb(have) + " of " + mb(size));
        }
        listener.progressed(have);
        URI url = meta.location();
        int failed = 0;
        boolean relocated = false;
        try (FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            out.truncate(have);
            while (have < size) {
                HttpResponse<InputStream> r;
                try {
                    r = http.follow("GET", url, have > 0 ? Map.of("Range", "bytes=" + have + "-") : Map.of(), false);
                } catch (IOException e) {
                    failed++;
                    if (!HubHttp.retryable(e) || failed >= http.retry().attempts()) throw http.unreachable(url, e);
                    http.retry().pause(failed);
                    continue;
                }
                int status = r.statusCode();
                boolean partial = status == 206 && rangeStart(r) == have;
                if (status == 200 || (status == 206 && !partial) || status == 416) {
                    if (status != 200) HubHttp.close(r);
                    if (have > 0) { // the server did not resume where we are: start over
                        listener.progressed(-have);
                        have = 0;
                        out.truncate(0);
                        if (md != null) md.reset();
                    }
                    if (status != 200) {
                        failed++;
                        if (failed >= http.retry().attempts()) throw new HubException(repo + " " + file + ": the server does not serve byte ranges right (HTTP " + status + ")");
                        continue;
                    }
                } else if (!partial) {
                    if (RetryPolicy.retryable(status) && ++failed < http.retry().attempts()) {
                        HubHttp.close(r);
                        http.retry().pause(failed);
                        continue;
                    }
                    if ((status == 401 || status == 403) && !http.onHub(url) && !relocated) { // a signed CDN URL that expired
                        HubHttp.close(r);
                        url = refresh.get().location();
                        relocated = true;
                        continue;
                    }
                    throw HubErrors.of(r, http.settings(), new HubHttp.Subject(repo, meta.commit(), file));
                }
                long before = have;
                IOException dropped = null;
                try (InputStream in = r.body()) {
                    byte[] buf = new byte[BUFFER];
                    out.position(have);
                    while (have < size) {
                        int n;
                        try {
                            n = in.read(buf, 0, (int) Math.min(buf.length, size - have));
                        } catch (IOException e) {
                            dropped = e;
                            break;
                        }
                        if (n < 0) break;
                        out.write(ByteBuffer.wrap(buf, 0, n));
                        if (md != null) md.update(buf, 0, n);
                        have += n;
                        listener.progressed(n);
                    }
                } catch (IOException closing) {
                    // closing a body we stopped reading early: the bytes we kept are on disk
                }
                if (have >= size) break;
                if (have > before) failed = 0;
                failed++;
                String why = dropped == null ? "the answer ended early" : "connection dropped (" + dropped.getMessage() + ")";
                if (failed >= http.retry().attempts())
                    throw new HubException(repo + " " + file + ": " + why + " at " + mb(have) + " of " + mb(size) + ", " + failed
                            + " times in a row; run the same command again to resume from there");
                listener.note(repo + " " + file + ": " + why + " at " + mb(have) + " of " + mb(size) + "; resuming");
                http.retry().pause(failed);
            }
            out.force(false);
        }
        return md == null ? null : md.digest();
    }

    /** The first byte of a 206 answer's {@code Content-Range: bytes START-END/TOTAL}, or -1. */
    private static long rangeStart(HttpResponse<InputStream> r) {
        String cr = r.headers().firstValue("Content-Range").orElse("");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("bytes\\s+(\\d+)-").matcher(cr);
        return m.lookingAt() ? Long.parseLong(m.group(1)) : -1;
    }

    private static void hashPrefix(Path part, long length, MessageDigest md) throws IOException {
        try (InputStream in = Files.newInputStream(part)) {
            byte[] buf = new byte[BUFFER];
            long left = length;
            for (int n; left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0; left -= n) md.update(buf, 0, n);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    static String mb(long bytes) { return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6); }
}
