package dev.rast.hub;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** A fake Hub serving {@link HubTestRepos#tinyModel} for each test, and an empty cache folder beside it. */
abstract class FakeHubTestBase {
    @TempDir Path tmp;
    FakeHub hub;
    FakeHub.Repo repo;
    Path cache;

    @BeforeEach
    void startHub() throws IOException {
        hub = new FakeHub();
        repo = HubTestRepos.tinyModel(hub);
        cache = tmp.resolve("hub-cache");
    }

    @AfterEach
    void stopHub() { hub.close(); }
}
