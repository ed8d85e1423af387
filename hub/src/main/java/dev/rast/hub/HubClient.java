package dev.rast.hub;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Downloads a snapshot of a model repository into the cache, the way huggingface_hub's snapshot_download does:
 * <ol>
 *   <li>{@code GET /api/models/ORG/NAME/revision/REV}: the commit the revision is now, and the file list;</li>
 *   <li>for each selected file whose snapshot link is missing, {@code HEAD /ORG/NAME/resolve/COMMIT/FILE}: etag,
 *       size, download URL; its {@code X-Repo-Commit} must be that commit, so every file comes from one commit;</li>
 *   <li>the blobs, several at once ({@link BlobDownload}), then the snapshot links;</li>
 *   <li>last, {@code refs/REV}: a branch or tag names a snapshot only once all its files are there.</li>
 * </ol>
 */
public final class HubClient {
    static final int PARALLEL = 8;

    private final HubSettings settings;
    private final HubCache cache;
    private final HubHttp http;

    public HubClient(HubSettings settings) { this(settings, RetryPolicy.DEFAULT); }

    public HubClient(HubSettings settings, RetryPolicy retry) {
        this.settings = settings;
        this.cache = new HubCache(settings.cache());
        this.http = new HubHttp(settings, retry);
    }

    public HubCache cache() { return cache; }

    /** Downloads what {@code selection} picks of {@code spec} (what is in the cache already stays); returns the snapshot folder. */
    public Path pull(ModelSpec spec, FileSelection selection, DownloadListener listener) {
        if (settings.offline())
            throw new HubException("HF_HUB_OFFLINE is set: not downloading " + spec + "; unset it to download, or use a model in the cache ("
                    + settings.cache() + ")");
        RepoId repo = spec.repo();
        RepoInfo info = repoInfo(spec);
        List<String> files = info.files().stream().filter(selection::wants).toList();
        if (files.isEmpty())
            throw new HubException(spec + " has no files that " + selection + " pick" + (info.files().isEmpty() ? "" : " (it has " + preview(info.files()) + ")"));
        String commit = info.sha();
        List<String> missing = files.stream().filter(f -> !cache.has(repo, commit, f)).toList();
        Map<String, FileMeta> metas = heads(repo, commit, missing);
        Map<String, String> blobFile = new LinkedHashMap<>(); // one download per etag, though two files may share it
        long total = 0;
        for (String f : missing) {
            FileMeta m = metas.get(f);
            if (blobFile.putIfAbsent(m.etag(), f) == null && !Files.isRegularFile(cache.blob(repo, m.etag()))) total += m.size();
        }
        try {
            cache.tagCacheDir();
            listener.started(spec, missing.size(), total);
            runAll(blobFile.values().stream().<Work>map(f -> () -> new BlobDownload(http, cache, repo, f, metas.get(f),
                    () -> head(repo, commit, f), listener).fetch()).toList());
            for (String f : missing) cache.link(repo, commit, f, metas.get(f).etag());
            cache.writeRef(spec, commit);
        } catch (IOException e) {
            throw new HubException("cannot write the model to the cache " + settings.cache() + " (" + e.getClass().getSimpleName() + ": "
                    + e.getMessage() + "); HF_HUB_CACHE chooses another folder", e);
        } finally {
            listener.finished();
        }
        return cache.snapshot(repo, commit);
    }

    RepoInfo repoInfo(ModelSpec spec) {
        URI uri = URI.create(settings.endpoint() + "/api/models/" + spec.repo() + "/revision/" + UrlPath.segment(spec.revision()));
        HttpResponse<InputStream> r = http.send("GET", uri, Map.of(), false, new HubHttp.Subject(spec.repo(), spec.revision(), null));
        try (InputStream in = r.body()) {
            return RepoInfo.parse(spec.repo(), in.readAllBytes());
        } catch (IOException e) {
            throw http.unreachable(uri, e);
        }
    }

    FileMeta head(RepoId repo, String commit, String file) {
        URI uri = URI.create(settings.endpoint() + "/" + repo + "/resolve/" + commit + "/" + UrlPath.path(file));
        HttpResponse<InputStream> r = http.send("HEAD", uri, Map.of(), true, new HubHttp.Subject(repo, commit, file));
        HubHttp.close(r);
        FileMeta m = FileMeta.of(r, repo, file);
        if (!m.commit().equals(commit))
            throw new HubException(repo + " " + file + ": asked for commit " + commit + ", the Hub served " + m.commit() + "; refused");
        return m;
    }

    private Map<String, FileMeta> heads(RepoId repo, String commit, List<String> files) {
        Map<String, FileMeta> out = new java.util.concurrent.ConcurrentHashMap<>();
        try {
            runAll(files.stream().<Work>map(f -> () -> out.put(f, head(repo, commit, f))).toList());
        } catch (IOException e) {
            throw new IllegalStateException(e); // a HEAD writes nothing
        }
        return out;
    }

    private interface Work {
        Object run() throws IOException;
    }

    /** Runs the work {@value #PARALLEL} at a time; the first failure stops the rest and is thrown. */
    private static void runAll(List<Work> work) throws IOException {
        if (work.isEmpty()) return;
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(PARALLEL, work.size()), r -> {
            Thread t = new Thread(r, "rast-hub");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Object>> futures = new ArrayList<>();
            for (Work w : work) futures.add(pool.submit(w::run));
            for (Future<Object> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    futures.forEach(x -> x.cancel(true));
                    if (e.getCause() instanceof IOException io) throw io;
                    if (e.getCause() instanceof RuntimeException re) throw re;
                    throw new IllegalStateException(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new HubException("download interrupted");
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static String preview(List<String> files) {
        String s = String.join(", ", files.subList(0, Math.min(8, files.size())));
        return files.size() > 8 ? s + ", ..." : s;
    }
}
