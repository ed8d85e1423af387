package dev.rast.hub;

import java.util.regex.Pattern;

/**
 * A file-name pattern as huggingface_hub's allow_patterns read it (Python's fnmatch): {@code *} is any run of
 * characters, '/' included; {@code ?} one character; {@code [abc]}, {@code [a-z]}, {@code [!abc]} a class. A pattern
 * ending in '/' stands for everything under that folder.
 */
final class Glob {
    private final String text;
    private final Pattern regex;

    Glob(String text) {
        this.text = text;
        this.regex = Pattern.compile(translate(text.endsWith("/") ? text + "*" : text), Pattern.DOTALL);
    }

    boolean matches(String file) { return regex.matcher(file).matches(); }

    @Override public String toString() { return text; }

    private static String translate(String glob) {
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*') re.append(".*");
            else if (c == '?') re.append('.');
            else if (c == '[') {
                int j = i + 1;
                if (j < glob.length() && glob.charAt(j) == '!') j++;
                if (j < glob.length() && glob.charAt(j) == ']') j++; // a ']' first is a member, not the end
                int end = glob.indexOf(']', j);
                if (end < 0) {
                    re.append("\\[");
                    continue;
                }
                String body = glob.substring(i + 1, end);
                re.append('[');
                if (body.startsWith("!")) {
                    re.append('^');
                    body = body.substring(1);
                }
                for (char b : body.toCharArray()) re.append(b == '-' || Character.isLetterOrDigit(b) ? String.valueOf(b) : "\\" + b);
                re.append(']');
                i = end;
            } else re.append(Pattern.quote(String.valueOf(c)));
        }
        return re.toString();
    }
}
