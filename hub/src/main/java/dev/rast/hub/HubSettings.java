package dev.rast.hub;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * Where the Hub is, where its cache is, the token and whether downloads are allowed: read from the same environment
 * variables as huggingface_hub, with the same precedence, so both clients share one cache and one login.
 * <ul>
 *   <li>endpoint: {@code HF_ENDPOINT} (a mirror), else https://huggingface.co;</li>
 *   <li>cache: {@code HF_HUB_CACHE}, else {@code HUGGINGFACE_HUB_CACHE}, else {@code HF_HOME/hub}, where
 *       {@code HF_HOME} defaults to {@code $XDG_CACHE_HOME/huggingface}, else {@code ~/.cache/huggingface};</li>
 *   <li>token: {@code HF_TOKEN}, else {@code HUGGING_FACE_HUB_TOKEN}, else the token file ({@code HF_TOKEN_PATH},
 *       else {@code HF_HOME/token}, which {@code huggingface-cli login} writes);</li>
 *   <li>offline: {@code HF_HUB_OFFLINE} (or {@code TRANSFORMERS_OFFLINE}) set to 1, ON, YES or TRUE.</li>
 * </ul>
 * {@link #current()} also takes Java system properties of the same names (-DHF_HUB_OFFLINE=1), which win over the
 * environment: a way to set them for one JVM, and how the in-process tests point rast at a fake Hub.
 */
public record HubSettings(URI endpoint, Path cache, Token token, Path tokenFile, boolean offline) {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";
    private static final Set<String> TRUE = Set.of("1", "ON", "YES", "TRUE");

    /** A token and where it came from, for messages ("the token from HF_TOKEN"); never printed itself. */
    public record Token(String value, String source) {
        @Override public String toString() { return "token from " + source; }
    }

    public static HubSettings current() {
        return from(name -> {
            String p = System.getProperty(name);
            return p != null ? p : System.getenv(name);
        }, Path.of(System.getProperty("user.home")));
    }

    public static HubSettings from(Function<String, String> env, Path home) {
        String endpoint = nonBlank(env.apply("HF_ENDPOINT"));
        URI uri = endpoint(endpoint == null ? DEFAULT_ENDPOINT : endpoint);
        String xdg = nonBlank(env.apply("XDG_CACHE_HOME"));
        Path hfHome = path(env.apply("HF_HOME"), home, xdg != null ? expand(xdg, home).resolve("huggingface")
                : home.resolve(".cache").resolve("huggingface"));
        Path cache = path(env.apply("HF_HUB_CACHE"), home, path(env.apply("HUGGINGFACE_HUB_CACHE"), home, hfHome.resolve("hub")));
        Path tokenFile = path(env.apply("HF_TOKEN_PATH"), home, hfHome.resolve("token"));
        Token token = envToken(env, "HF_TOKEN");
        if (token == null) token = envToken(env, "HUGGING_FACE_HUB_TOKEN");
        if (token == null) token = fileToken(tokenFile);
        boolean offline = isTrue(env.apply("HF_HUB_OFFLINE")) || isTrue(env.apply("TRANSFORMERS_OFFLINE"));
        return new HubSettings(uri, cache, token, tokenFile, offline);
    }

    public HubSettings withOffline(boolean offline) { return new HubSettings(endpoint, cache, token, tokenFile, offline); }

    /** How to give a token, for the messages about gated and private models. */
    String howToGiveToken() {
        return "set HF_TOKEN=hf_... (a read token from " + DEFAULT_ENDPOINT + "/settings/tokens), or put it in the token file "
                + tokenFile + " (`huggingface-cli login` writes it; HF_TOKEN_PATH names another)";
    }

    private static URI endpoint(String text) {
        String t = text.strip();
        while (t.endsWith("/")) t = t.substring(0, t.length() - 1);
        try {
            URI u = new URI(t);
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            if ((scheme.equals("http") || scheme.equals("https")) && u.getHost() != null && u.getQuery() == null) return u;
        } catch (java.net.URISyntaxException e) {
            // told below
        }
        throw new HubException("HF_ENDPOINT '" + text + "' is not an http(s) URL such as " + DEFAULT_ENDPOINT);
    }

    private static Token envToken(Function<String, String> env, String name) {
        String v = nonBlank(env.apply(name));
        return v == null ? null : new Token(v.strip(), name);
    }

    private static Token fileToken(Path file) {
        try {
            String v = nonBlank(Files.readString(file, StandardCharsets.UTF_8));
            return v == null ? null : new Token(v.strip(), file.toString());
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | SecurityException e) {
            throw new HubException("cannot read the Hugging Face token file " + file + " (" + e.getMessage() + "); fix it, or set HF_TOKEN_PATH or HF_TOKEN");
        }
    }

    private static Path path(String value, Path home, Path fallback) {
        String v = nonBlank(value);
        return v == null ? fallback : expand(v, home);
    }

    /** A leading {@code ~} is the home folder, as Python's expanduser makes it. */
    private static Path expand(String v, Path home) {
        if (v.equals("~")) return home;
        if (v.startsWith("~/")) return home.resolve(v.substring(2));
        return Path.of(v);
    }

    private static String nonBlank(String s) { return s == null || s.isBlank() ? null : s; }

    private static boolean isTrue(String s) { return s != null && TRUE.contains(s.strip().toUpperCase(Locale.ROOT)); }
}
