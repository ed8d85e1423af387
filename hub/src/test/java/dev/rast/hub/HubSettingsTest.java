package dev.rast.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The environment read as huggingface_hub reads it: same variables, same precedence. */
class HubSettingsTest {
    @TempDir Path home;

    private HubSettings of(Map<String, String> env) { return HubSettings.from(env::get, home); }

    @Test
    void defaultsAreHuggingFacesOwn() {
        HubSettings s = of(Map.of());
        assertEquals("https://huggingface.co", s.endpoint().toString());
        assertEquals(home.resolve(".cache/huggingface/hub"), s.cache());
        assertEquals(home.resolve(".cache/huggingface/token"), s.tokenFile());
        assertNull(s.token());
        assertFalse(s.offline());
    }

    @Test
    void theCacheFollowsHfHubCacheThenHfHomeThenXdg() {
        assertEquals(Path.of("/x/cache"), of(Map.of("HF_HUB_CACHE", "/x/cache", "HF_HOME", "/y")).cache());
        assertEquals(Path.of("/y/hub"), of(Map.of("HF_HOME", "/y", "XDG_CACHE_HOME", "/z")).cache());
        assertEquals(Path.of("/z/huggingface/hub"), of(Map.of("XDG_CACHE_HOME", "/z")).cache());
        assertEquals(Path.of("/old"), of(Map.of("HUGGINGFACE_HUB_CACHE", "/old")).cache());
        assertEquals(home.resolve("c"), of(Map.of("HF_HUB_CACHE", "~/c")).cache());
    }

    @Test
    void theTokenComesFromHfTokenThenTheTokenFile() throws IOException {
        Path file = home.resolve(".cache/huggingface/token");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "hf_from_file\n");
        assertEquals("hf_from_file", of(Map.of()).token().value());
        assertEquals(file.toString(), of(Map.of()).token().source());
        assertEquals("hf_env", of(Map.of("HF_TOKEN", "hf_env")).token().value());
        assertEquals("HF_TOKEN", of(Map.of("HF_TOKEN", "hf_env")).token().source());
        Path other = home.resolve("elsewhere");
        Files.writeString(other, "  hf_other  ");
        assertEquals("hf_other", of(Map.of("HF_TOKEN_PATH", other.toString())).token().value());
        assertFalse(of(Map.of("HF_TOKEN", "hf_env")).toString().contains("hf_env"), "settings never print the token");
    }

    @Test
    void theDefaultEndpointIsUsable() {
        // huggingface.co is both the endpoint and a Hub host that keeps the token: one host, not two.
        HubException e = org.junit.jupiter.api.Assertions.assertThrows(HubException.class, () -> new HubClient(
                HubSettings.from(Map.of("HF_HUB_CACHE", home.resolve("c").toString(), "HF_HUB_OFFLINE", "1")::get, home))
                .pull(ModelSpec.parse("a/b").orElseThrow(), FileSelection.engine(), DownloadListener.NONE));
        assertTrue(e.getMessage().contains("HF_HUB_OFFLINE"), e.getMessage());
    }

    @Test
    void offlineAndEndpoint() {
        for (String v : new String[] {"1", "true", "YES", "on"}) assertTrue(of(Map.of("HF_HUB_OFFLINE", v)).offline(), v);
        assertFalse(of(Map.of("HF_HUB_OFFLINE", "0")).offline());
        assertTrue(of(Map.of("TRANSFORMERS_OFFLINE", "1")).offline());
        assertEquals("https://mirror.example/hf", of(Map.of("HF_ENDPOINT", "https://mirror.example/hf/")).endpoint().toString());
        HubException e = assertThrows(HubException.class, () -> of(Map.of("HF_ENDPOINT", "mirror.example")));
        assertTrue(e.getMessage().contains("HF_ENDPOINT"), e.getMessage());
    }
}
