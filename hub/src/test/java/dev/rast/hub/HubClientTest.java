package dev.rast.hub;

import static dev.rast.hub.HubTestRepos.FAST;
import static dev.rast.hub.HubTestRepos.ID;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Pulls from the fake Hub: the layout written, the protocol followed, and each injected fault. */
class HubClientTest extends FakeHubTestBase {
    private HubClient client(String token) { return new HubClient(HubTestRepos.settings(hub, cache, token, false), FAST); }

    private Path pull(String spec) { return client(null).pull(ModelSpec.parse(spec).orElseThrow(), FileSelection.engine(), DownloadListener.NONE); }

    @Test
    void pullsWhatTheEngineNeedsIntoHuggingFaceHubsLayout() throws IOException {
        Path snap = pull(ID);
        Path repoDir = cache.resolve("models--test-org--tiny-model");
        assertEquals(repoDir.resolve("snapshots").resolve(repo.commit()), snap);
        assertEquals(repo.commit(), Files.readString(repoDir.resolve("refs/main")), "refs/main holds the commit, no newline");
        Set<String> want = Set.of("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors");
        try (Stream<Path> s = Files.list(snap)) {
            assertEquals(want, s.map(p -> p.getFileName().toString()).collect(Collectors.toSet()), "no pickled .bin, README or onnx/");
        }
        for (String f : want) {
            Path link = snap.resolve(f);
            assertTrue(Files.isSymbolicLink(link), f);
            String etag = FakeHub.etag(f, repo.files().get(f));
            assertEquals(Path.of("../../blobs/" + etag), Files.readSymbolicLink(link), "relative link to the blob named by its etag");
            assertArrayEquals(repo.files().get(f), Files.readAllBytes(link), f);
        }
        assertEquals(64, FakeHub.etag("model.safetensors", repo.files().get("model.safetensors")).length(), "an LFS blob is named by its SHA-256");
        assertTrue(hub.requests().stream().noneMatch(r -> r.path().contains("pytorch_model.bin")), "a pickled file is never even asked for");
        // Files are asked for at the commit the revision resolved to, so all come from one commit.
        assertTrue(hub.requests().stream().filter(r -> r.path().contains("/resolve/")).allMatch(r -> r.path().contains("/resolve/" + repo.commit() + "/")),
                hub.requests().toString());
        try (Stream<Path> s = Files.list(repoDir.resolve("blobs"))) {
            assertTrue(s.noneMatch(p -> p.toString().endsWith(".incomplete")));
        }

        int before = hub.requests().size();
        assertEquals(snap, pull(ID), "a second pull finds every file linked");
        assertEquals(1, hub.requests().size() - before, "only the revision is asked again: " + hub.requests().subList(before, hub.requests().size()));
    }

    @Test
    void includeGlobsPickTheFilesInstead() {
        Path snap = client(null).pull(ModelSpec.parse(ID).orElseThrow(), FileSelection.of(List.of("*.json", "onnx/*", "*.bin")), DownloadListener.NONE);
        assertTrue(Files.isRegularFile(snap.resolve("onnx/model.onnx")));
        assertTrue(Files.isRegularFile(snap.resolve("config.json")));
        assertFalse(Files.exists(snap.resolve("model.safetensors")));
        assertFalse(Files.exists(snap.resolve("pytorch_model.bin")), "pickled weights are never downloaded, --include or not");
        assertEquals(Path.of("../../../blobs/" + FakeHub.gitOid(repo.files().get("onnx/model.onnx"))), readLink(snap.resolve("onnx/model.onnx")));
    }

    @Test
    void aTagIsRecordedUnderRefs() throws IOException {
        repo.tag("v1.0");
        Path snap = pull(ID + "@v1.0");
        assertEquals(repo.commit(), Files.readString(cache.resolve("models--test-org--tiny-model/refs/v1.0")));
        assertEquals(snap, pull(ID + "@" + repo.commit()), "a commit hash names the same snapshot, and writes no ref");
    }

    @Test
    void theTokenGoesToTheHubButNeverToTheCdn() {
        repo.gated("hf_secret");
        client("hf_secret").pull(ModelSpec.parse(ID).orElseThrow(), FileSelection.engine(), DownloadListener.NONE);
        List<FakeHub.Request> cdn = hub.requests().stream().filter(r -> r.server().equals("cdn")).toList();
        assertFalse(cdn.isEmpty());
        assertTrue(cdn.stream().allMatch(r -> r.authorization() == null), "no Authorization to the CDN: " + cdn);
        assertTrue(hub.requests().stream().filter(r -> r.server().equals("hub")).allMatch(r -> "Bearer hf_secret".equals(r.authorization())),
                "the Hub (and its same-host resolve-cache redirect) gets the token");
    }

    @Test
    void aConnectionCutMidFileResumesWithARangeRequest() throws IOException {
        hub.cutAfter("model.safetensors", 1_000_000, 2);
        List<String> notes = new java.util.concurrent.CopyOnWriteArrayList<>();
        Path snap = client(null).pull(ModelSpec.parse(ID).orElseThrow(), FileSelection.engine(), listener(notes));
        assertArrayEquals(repo.files().get("model.safetensors"), Files.readAllBytes(snap.resolve("model.safetensors")));
        List<String> ranges = hub.requests().stream().filter(r -> r.server().equals("cdn")).map(FakeHub.Request::range).toList();
        assertEquals(3, ranges.size(), ranges.toString());
        assertEquals(null, ranges.get(0));
        assertTrue(ranges.get(1).startsWith("bytes=") && ranges.get(1).endsWith("-") && !ranges.get(1).equals("bytes=0-"), ranges.toString());
        assertTrue(notes.stream().anyMatch(n -> n.contains("resuming")), notes.toString());
    }

    @Test
    void anIncompleteBlobLeftByAnEarlierRunIsResumed() throws IOException {
        byte[] w = repo.files().get("model.safetensors");
        String etag = FakeHub.sha256(w);
        Path blobs = cache.resolve("models--test-org--tiny-model/blobs");
        Files.createDirectories(blobs);
        Files.write(blobs.resolve(etag + ".incomplete"), java.util.Arrays.copyOf(w, 1234));
        Path snap = pull(ID);
        assertArrayEquals(w, Files.readAllBytes(snap.resolve("model.safetensors")));
        assertTrue(hub.requests().stream().anyMatch(r -> "bytes=1234-".equals(r.range())), hub.requests().toString());
        assertFalse(Files.exists(blobs.resolve(etag + ".incomplete")));
    }

    @Test
    void corruptBytesFailTheChecksumAndAreDownloadedAgain() throws IOException {
        hub.corrupt("model.safetensors", 1);
        List<String> notes = new java.util.concurrent.CopyOnWriteArrayList<>();
        Path snap = client(null).pull(ModelSpec.parse(ID).orElseThrow(), FileSelection.engine(), listener(notes));
        assertArrayEquals(repo.files().get("model.safetensors"), Files.readAllBytes(snap.resolve("model.safetensors")));
        assertEquals(2, hub.requests().stream().filter(r -> r.server().equals("cdn")).count());
        assertTrue(notes.stream().anyMatch(n -> n.contains("SHA-256") && n.contains("downloading again")), notes.toString());
    }

    @Test
    void bytesThatStayCorruptAreRefusedAndNothingIsLinked() {
        hub.corrupt("model.safetensors", 100);
        HubException e = assertThrows(HubException.class, () -> pull(ID));
        assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("SHA-256") && e.getMessage().contains("refused"), e.getMessage());
        Path repoDir = cache.resolve("models--test-org--tiny-model");
        assertFalse(Files.exists(repoDir.resolve("snapshots").resolve(repo.commit()).resolve("model.safetensors")));
        assertFalse(Files.exists(repoDir.resolve("blobs").resolve(FakeHub.sha256(repo.files().get("model.safetensors")))));
        assertFalse(Files.exists(repoDir.resolve("refs/main")), "no ref to an incomplete snapshot");
    }

    @Test
    void aBurstOf5xxIsRetried() {
        hub.failNext("hub", 2, 503);
        hub.failNext("cdn", 2, 502);
        Path snap = pull(ID);
        assertTrue(Files.isRegularFile(snap.resolve("model.safetensors")));
    }

    @Test
    void aServerThatKeepsFailingIsReportedAfterTheRetries() {
        hub.failNext("hub", 100, 500);
        HubException e = assertThrows(HubException.class, () -> pull(ID));
        assertTrue(e.getMessage().contains("HTTP 500") && e.getMessage().contains(ID), e.getMessage());
        assertEquals(FAST.attempts(), hub.requests().size());
    }

    @Test
    void aGatedModelWithoutATokenSaysHowToGiveOne() {
        repo.gated("hf_secret");
        HubException e = assertThrows(HubException.class, () -> pull(ID));
        assertTrue(e.getMessage().contains(ID + " is a gated model") && e.getMessage().contains("HF_TOKEN")
                && e.getMessage().contains("accept its license"), e.getMessage());
        HubException wrong = assertThrows(HubException.class,
                () -> client("hf_other").pull(ModelSpec.parse(ID).orElseThrow(), FileSelection.engine(), DownloadListener.NONE));
        assertTrue(wrong.getMessage().contains("token from HF_TOKEN has no access") && wrong.getMessage().contains("403"), wrong.getMessage());
        assertFalse(wrong.getMessage().contains("hf_other"), "the token itself is never printed");
    }

    @Test
    void anUnknownRepositoryOrRevisionIsNamed() {
        HubException e = assertThrows(HubException.class, () -> pull("test-org/no-such-model"));
        assertTrue(e.getMessage().contains("no model test-org/no-such-model") && e.getMessage().contains("HTTP 401"), e.getMessage());
        HubException r = assertThrows(HubException.class, () -> pull(ID + "@nope"));
        assertTrue(r.getMessage().contains("has no revision 'nope'") && r.getMessage().contains("404"), r.getMessage());
    }

    @Test
    void aFileListNamingParentFoldersIsRefusedAndNothingIsWritten() throws IOException {
        repo.listAlso("../../../escaped.safetensors");
        HubException e = assertThrows(HubException.class, () -> pull(ID));
        assertTrue(e.getMessage().contains("../../../escaped.safetensors") && e.getMessage().contains("refused"), e.getMessage());
        try (Stream<Path> s = Files.walk(tmp)) {
            assertEquals(List.of(tmp), s.toList(), "nothing written anywhere");
        }
        FakeHub.Repo abs = hub.repo("test-org/absolute").file("config.json", HubTestRepos.utf8("{}")).listAlso("/etc/evil.json");
        assertThrows(HubException.class, () -> pull(abs.id));
    }

    @Test
    void anUnreachableHubSaysSoAndHowToWorkOffline() throws IOException {
        int port;
        try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        HubSettings dead = HubSettings.from(java.util.Map.of("HF_ENDPOINT", "http://127.0.0.1:" + port, "HF_HUB_CACHE", cache.toString(),
                "HF_HOME", tmp.resolve("home").toString())::get, tmp);
        HubException e = assertThrows(HubException.class,
                () -> new HubClient(dead, FAST).pull(ModelSpec.parse(ID).orElseThrow(), FileSelection.engine(), DownloadListener.NONE));
        assertTrue(e.getMessage().contains("cannot reach the Hub") && e.getMessage().contains("HF_HUB_OFFLINE"), e.getMessage());
    }

    private static DownloadListener listener(List<String> notes) {
        return new DownloadListener() {
            @Override public void started(ModelSpec spec, int files, long totalBytes) {}
            @Override public void progressed(long bytes) {}
            @Override public void note(String line) { notes.add(line); }
            @Override public void finished() {}
        };
    }

    private static Path readLink(Path p) {
        try {
            return Files.readSymbolicLink(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
