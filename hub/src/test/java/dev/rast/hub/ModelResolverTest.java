package dev.rast.hub;

import static dev.rast.hub.HubTestRepos.FAST;
import static dev.rast.hub.HubTestRepos.ID;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** A model folder option given ORG/NAME[@REV]: the local folder first, then the cache offline, then a download. */
class ModelResolverTest extends FakeHubTestBase {
    private ModelResolver resolver(boolean offline) { return new ModelResolver(HubTestRepos.settings(hub, cache, null, offline), FAST); }

    @Test
    void downloadsOnceThenFindsTheCacheWithoutTheNetwork() {
        Path first = resolver(false).resolve(ID, Need.MODEL, DownloadListener.NONE);
        assertTrue(Files.isRegularFile(first.resolve("config.json")));
        int before = hub.requests().size();
        assertEquals(first, resolver(false).resolve(ID, Need.MODEL, DownloadListener.NONE));
        assertEquals(first, resolver(true).resolve(ID, Need.MODEL, DownloadListener.NONE));
        assertEquals(first, resolver(true).resolve(ID + "@" + repo.commit(), Need.TOKENIZER, DownloadListener.NONE));
        assertEquals(before, hub.requests().size(), "a complete cached snapshot needs no request");
    }

    @Test
    void offlineWithoutTheModelCachedSaysSoInOneLine() {
        HubException e = assertThrows(HubException.class, () -> resolver(true).resolve(ID, Need.MODEL, DownloadListener.NONE));
        assertTrue(e.getMessage().contains("HF_HUB_OFFLINE") && e.getMessage().contains(ID) && e.getMessage().contains("rast pull"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
        assertTrue(hub.requests().isEmpty());
    }

    @Test
    void anExistingLocalFolderWinsOverARepositoryOfTheSameName() throws IOException {
        // "target/local-wins" is a folder under the working folder (the module's) and a repository on the fake Hub.
        hub.repoFromFolder("target/local-wins", tmp).file("config.json", HubTestRepos.utf8("{}"));
        Path local = Path.of("target/local-wins");
        Files.createDirectories(local);
        try {
            assertEquals(local, resolver(false).resolve("target/local-wins", Need.MODEL, DownloadListener.NONE));
            assertTrue(hub.requests().isEmpty());
        } finally {
            Files.delete(local);
        }
    }

    @Test
    void aPartialSnapshotIsCompletedOnlineAndNamedOffline() throws IOException {
        Path snap = resolver(false).resolve(ID, Need.MODEL, DownloadListener.NONE);
        Files.delete(snap.resolve("model.safetensors"));
        HubException e = assertThrows(HubException.class, () -> resolver(true).resolve(ID, Need.MODEL, DownloadListener.NONE));
        assertTrue(e.getMessage().contains("lacks *.safetensors"), e.getMessage());
        assertEquals(snap, resolver(false).resolve(ID, Need.MODEL, DownloadListener.NONE));
        assertTrue(Files.isRegularFile(snap.resolve("model.safetensors")));
    }

    /** A cache as huggingface_hub writes it (refs, snapshots of links, blobs), made by hand: found offline. */
    @Test
    void readsACacheHuggingfaceHubWrote() throws IOException {
        String commit = "0123456789abcdef0123456789abcdef01234567";
        Path repoDir = cache.resolve("models--other-org--cached");
        Files.createDirectories(repoDir.resolve("refs"));
        Files.writeString(repoDir.resolve("refs/main"), commit);
        Path snap = repoDir.resolve("snapshots").resolve(commit);
        Files.createDirectories(snap);
        Files.createDirectories(repoDir.resolve("blobs"));
        String[][] files = {{"config.json", "{}"}, {"model.safetensors", "weights"}, {"tokenizer.json", "{}"}};
        for (String[] f : files) {
            byte[] c = f[1].getBytes(StandardCharsets.UTF_8);
            String etag = FakeHub.etag(f[0], c);
            Files.write(repoDir.resolve("blobs").resolve(etag), c);
            Files.createSymbolicLink(snap.resolve(f[0]), Path.of("../../blobs").resolve(etag));
        }
        assertEquals(snap, resolver(true).resolve("other-org/cached", Need.MODEL, DownloadListener.NONE));
    }
}
