package dev.rast.hub;

import java.nio.charset.StandardCharsets;

/** Percent-encoding for URL paths, as the Hub's routes take them: a revision as one segment ('/' encoded), a file keeping its '/'. */
final class UrlPath {
    private UrlPath() {}

    static String segment(String s) { return encode(s, false); }

    static String path(String s) { return encode(s, true); }

    private static String encode(String s, boolean keepSlash) {
        StringBuilder out = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~'
                    || (keepSlash && c == '/')) out.append((char) c);
            else out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16))).append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
        }
        return out.toString();
    }
}
