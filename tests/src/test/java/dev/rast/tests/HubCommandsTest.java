package dev.rast.tests;

import static dev.rast.tests.Cli.rast;
import static dev.rast.tests.Cli.refused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.hub.FakeHub;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Models by name on the command line: `rast pull`, and ORG/NAME in place of a model folder, against the fake Hub
 * (HF_ENDPOINT and friends given as system properties, which rast reads like the environment variables).
 */
class HubCommandsTest {
    private static final String REPO = "test-org/tiny-qwen";
    private static final List<String> SETTINGS = List.of("HF_ENDPOINT", "HF_HUB_CACHE", "HF_HOME", "HF_HUB_OFFLINE", "HF_TOKEN");
    @TempDir static Path model;
    @TempDir Path tmp;
    FakeHub hub;

    @BeforeAll
    static void synth() {
        assertEquals(0, rast("synth", "--arch", "tiny", "--dtype", "bf16", "--out", model.toString()).status());
    }

    @BeforeEach
    void start() throws IOException {
        hub = new FakeHub();
        hub.repoFromFolder(REPO, model).file("pytorch_model.bin", new byte[] {(byte) 0x80, 2});
        System.setProperty("HF_ENDPOINT", hub.endpoint().toString());
        System.setProperty("HF_HUB_CACHE", tmp.resolve("cache").toString());
        System.setProperty("HF_HOME", tmp.resolve("home").toString());
    }

    @AfterEach
    void stop() {
        SETTINGS.forEach(System::clearProperty);
        hub.close();
    }

    @Test
    void pullPrintsTheSnapshotAndModelNamesWorkAsFolders() {
        Cli.Result pull = rast("pull", REPO);
        assertEquals(0, pull.status(), pull.stderr());
        Path snap = Path.of(pull.stdout().strip());
        assertEquals(tmp.resolve("cache/models--test-org--tiny-qwen/snapshots").resolve(hub.repo(REPO).commit()), snap);
        assertTrue(Files.isRegularFile(snap.resolve("model.safetensors")) && !Files.exists(snap.resolve("pytorch_model.bin")));
        assertTrue(pull.stderr().contains("pull " + REPO), "a progress bar on stderr: " + pull.stderr());

        System.setProperty("HF_HUB_OFFLINE", "1"); // from now on the cache only
        Cli.Result gen = rast("generate", "--model", REPO, "--expert", REPO, "--expert-base", REPO + "@main",
                "--prompt-tokens", "9707,11,1879", "--max-tokens", "3", "--json", "--threads", "2", "--device", "cpu");
        assertEquals(0, gen.status(), gen.stderr());
        assertTrue(gen.stdout().contains("\"tokens\""), gen.stdout());
        Cli.Result tok = Cli.withStdin("Hello", "tokenize", "--tokenizer", REPO);
        assertEquals(0, tok.status(), tok.stderr());
        assertEquals(snap.toString(), rast("pull", REPO).stdout().strip(), "pull, offline, prints the cached snapshot");
    }

    @Test
    void aModelNamedOnTheCommandLineIsDownloadedFirst() {
        Cli.Result gen = rast("generate", "--model", REPO, "--prompt-tokens", "9707,11", "--max-tokens", "2", "--json", "--threads", "2", "--device", "cpu");
        assertEquals(0, gen.status(), gen.stderr());
        assertTrue(gen.stderr().contains("pull " + REPO), gen.stderr());
    }

    /** rast plan reads configs only: a model named on its command line brings config.json alone into the cache. */
    @Test
    void planFetchesConfigsOnly() {
        Cli.Result plan = rast("plan", "--model", REPO, "--expert", REPO, "--expert-base", REPO, "--memory", "24GiB", "--json");
        assertEquals(0, plan.status(), plan.stderr());
        assertTrue(plan.stdout().contains("\"models\"") || plan.stdout().startsWith("{"), plan.stdout());
        Path snap = tmp.resolve("cache/models--test-org--tiny-qwen/snapshots").resolve(hub.repo(REPO).commit());
        assertTrue(Files.isRegularFile(snap.resolve("config.json")), "config.json cached");
        assertTrue(!Files.exists(snap.resolve("model.safetensors")), "no weights fetched for a plan");
    }

    @Test
    void whatCannotBeHadIsOneLine() {
        System.setProperty("HF_HUB_OFFLINE", "1");
        refused(rast("generate", "--model", REPO, "--prompt", "hi"), REPO, "HF_HUB_OFFLINE", "rast pull");
        refused(rast("pull", REPO), REPO, "HF_HUB_OFFLINE");
        System.clearProperty("HF_HUB_OFFLINE");
        refused(rast("pull", "test-org/missing"), "no model test-org/missing");
        refused(rast("tokenize", "--tokenizer", "test-org/missing"), "no folder test-org/missing here", "no model test-org/missing");
        refused(rast("pull", REPO + "@v9"), "has no revision 'v9'");
        refused(rast("pull", "a/b/c"), "not a model name");
        refused(rast("pull", REPO + "@main", "--revision", "main"), "give one");
        hub.repo(REPO).gated("hf_right");
        refused(rast("bench", "--model", REPO), REPO + " is a gated model", "HF_TOKEN");
        System.setProperty("HF_TOKEN", "hf_wrong");
        refused(rast("pull", REPO), "token from HF_TOKEN has no access");
        System.setProperty("HF_ENDPOINT", "not a url");
        refused(rast("pull", REPO), "HF_ENDPOINT");
    }
}
