package dev.rast.text.chat;

import dev.rast.text.chat.JinjaExpr.Kind;
import dev.rast.text.chat.JinjaExpr.Tok;
import dev.rast.text.Py;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Turns a Hugging Face chat template (Jinja2 source) into Jinjava source that renders to the same text.
 *
 * <p>The whitespace rules are applied here, exactly as Jinja2's lexer applies them in the environment HF builds
 * ({@code trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False}): newlines are normalized to \n and one
 * trailing newline dropped; {@code {%-}/{{-}/{#-} strip all whitespace before the tag and {@code -%}/-}}/-#}} all
 * after it (Python's idea of whitespace); {@code %}} and {@code #}} eat one following newline; a block or comment
 * tag alone after indentation on its line takes that indentation with it; {@code +} turns the last two off. The
 * result has no whitespace control left, and Jinjava renders it with all of its own trimming off, so the two
 * engines' differences in these rules cannot show. Comments and HF's {@code generation} markers vanish. Stripped
 * newlines come back as Jinjava comments holding them, which print nothing, so Jinjava's line numbers are the
 * template's.
 *
 * <p>Inside tags, {@link JinjaExpr} rewrites the Python-only syntax; {@code {{ x }}} becomes
 * {@code {{ rast_str((x)) }}} so values print as Python prints them; a loop whose body reads {@code loop.previtem}
 * or {@code loop.nextitem} is run over a list bound to a name first, so those two can be looked up by index.
 */
final class JinjaSource {
    private JinjaSource() {}

    /** A lexing error with the 1-based template line it was found on. */
    static final class SyntaxError extends RuntimeException {
        final int line;

        SyntaxError(int line, String message) {
            super(message);
            this.line = line;
        }
    }

    private sealed interface Seg permits Text, Tag, Raw, Comment {}

    private record Text(String text) implements Seg {}

    private record Raw(String text) implements Seg {}

    private record Comment(int newlines) implements Seg {}

    /** A {@code {% %}} (block) or {@code {{ }}} (output) tag; newlines stripped around it are kept to re-insert. */
    private static final class Tag implements Seg {
        final boolean block;
        final List<Tok> toks;
        final int line;
        int newlinesBefore, newlinesAfter;
        String loopSeq; // for a for-tag whose body uses loop.previtem/nextitem: the name its list is bound to

        Tag(boolean block, List<Tok> toks, int line) {
            this.block = block;
            this.toks = toks;
            this.line = line;
        }

        String word(int n) {
            int seen = 0;
            for (Tok t : toks) if (t.kind() != Kind.WS && seen++ == n) return t.kind() == Kind.NAME ? t.text() : null;
            return null;
        }
    }

    /** What a template may name: filters and tests, each checked by name; null means the name is fine. */
    interface Names {
        String filterProblem(String name);

        String testProblem(String name);
    }

    static String translate(String template, Names names) {
        List<Seg> segs = lex(normalizeNewlines(template));
        checkNames(segs, names);
        markPrevNextLoops(segs);
        return emit(segs);
    }

    /** Tags that load another template: Hugging Face's environment has no loader, so Jinja2 raises for each. */
    private static final java.util.Set<String> LOADING_TAGS = java.util.Set.of("include", "import", "from", "extends");

    /**
     * Refuses, with the line, what Jinja2 cannot run: a filter or test it does not know (Jinja2 refuses the template
     * when compiling it; Jinjava would evaluate the expression to nothing) and tags that load other templates.
     */
    private static void checkNames(List<Seg> segs, Names names) {
        for (Seg s : segs) {
            if (!(s instanceof Tag t)) continue;
            String w = t.block ? t.word(0) : null;
            if (w != null && LOADING_TAGS.contains(w))
                throw new SyntaxError(t.line, "{% " + w + " %} needs a template loader, and chat templates have none"
                        + " (Hugging Face's environment has none either)");
            if ("filter".equals(w) && t.word(1) != null) problem(t, names.filterProblem(t.word(1)));
            List<Tok> toks = t.toks;
            for (int i = 0; i < toks.size(); i++) {
                int next = JinjaExpr.nextNonWs(toks, i + 1);
                if (next < 0) break;
                if (toks.get(i).is("|") && toks.get(next).kind() == Kind.NAME) problem(t, names.filterProblem(toks.get(next).text()));
                if (toks.get(i).name("is")) {
                    if (toks.get(next).name("not")) next = JinjaExpr.nextNonWs(toks, next + 1);
                    if (next >= 0 && toks.get(next).kind() == Kind.NAME) problem(t, names.testProblem(toks.get(next).text()));
                }
            }
        }
    }

    private static void problem(Tag t, String problem) {
        if (problem != null) throw new SyntaxError(t.line, problem);
    }

    /** Jinja2 treats \r\n, \r and \n alike, writes \n, and drops one trailing newline (keep_trailing_newline off). */
    static String normalizeNewlines(String s) {
        String[] lines = s.split("\r\n|\r|\n", -1);
        int n = lines.length;
        if (n > 0 && lines[n - 1].isEmpty()) n--;
        return String.join("\n", java.util.Arrays.copyOf(lines, n));
    }

    // ---- lexing, after jinja2.lexer.Lexer.tokeniter ----

    private static List<Seg> lex(String src) {
        List<Seg> segs = new ArrayList<>();
        int pos = 0, n = src.length();
        boolean lineStarting = true;
        while (pos < n) {
            int open = nextTagStart(src, pos);
            if (open < 0) {
                segs.add(new Text(src.substring(pos)));
                break;
            }
            char kind = src.charAt(open + 1);
            int after = open + 2;
            char sign = after < n && (src.charAt(after) == '-' || src.charAt(after) == '+') ? src.charAt(after) : 0;
            if (sign != 0) after++;
            String text = src.substring(pos, open);
            int newlinesStripped = 0;
            if (sign == '-') {
                String kept = Py.strip(text, null, false, true);
                newlinesStripped = count(text.substring(kept.length()), '\n');
                text = kept;
            } else if (sign != '+' && kind != '{') { // lstrip_blocks: block and comment tags, not output tags
                int lpos = text.lastIndexOf('\n') + 1;
                if ((lpos > 0 || lineStarting) && lpos < text.length() && allSpace(text, lpos)) text = text.substring(0, lpos);
            }
            if (!text.isEmpty()) segs.add(new Text(text));
            int line = lineOf(src, open);

            if (kind == '#') {
                int[] end = endOfComment(src, after, line);
                segs.add(new Comment(newlinesStripped + count(src.substring(after, end[1]), '\n')));
                pos = end[1];
            } else if (kind == '%' && isRawStart(src, after)) {
                int close = src.indexOf("%}", after);
                boolean stripAfter = src.charAt(close - 1) == '-';
                int bodyStart = stripAfter ? skipSpace(src, close + 2) : close + 2;
                segs.add(new Comment(newlinesStripped + count(src.substring(open, bodyStart), '\n')));
                pos = bodyStart;
                int[] endraw = findEndRaw(src, pos, line);
                String body = src.substring(pos, endraw[0]);
                int bodyNewlines = count(body, '\n');
                char esign = src.charAt(endraw[0] + 2);
                if (esign == '-') body = Py.strip(body, null, false, true);
                else if (esign != '+') {
                    int lpos = body.lastIndexOf('\n') + 1;
                    boolean starting = pos > 0 && src.charAt(pos - 1) == '\n';
                    if ((lpos > 0 || starting) && lpos < body.length() && allSpace(body, lpos)) body = body.substring(0, lpos);
                }
                segs.add(new Raw(body));
                segs.add(new Comment(bodyNewlines - count(body, '\n') + count(src.substring(endraw[0], endraw[1]), '\n')));
                pos = endraw[1];
            } else {
                int[] end = endOfTag(src, after, kind == '%', line);
                String inner = src.substring(after, end[0]);
                List<Tok> toks;
                try {
                    toks = JinjaExpr.tokenize(inner);
                } catch (JinjaExpr.SyntaxError e) {
                    throw new SyntaxError(line, e.getMessage());
                }
                Tag tag = new Tag(kind == '%', toks, line);
                tag.newlinesBefore = newlinesStripped;
                tag.newlinesAfter = count(src.substring(end[0], end[1]), '\n');
                segs.add(tag);
                pos = end[1];
            }
            lineStarting = pos > 0 && src.charAt(pos - 1) == '\n';
        }
        return segs;
    }

    private static int nextTagStart(String src, int from) {
        for (int i = src.indexOf('{', from); i >= 0 && i + 1 < src.length(); i = src.indexOf('{', i + 1)) {
            char c = src.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') return i;
        }
        return -1;
    }

    /**
     * The end of a block or output tag that starts its inside at {@code from}: returns {start of the end marker
     * (before any '-'/'+'), position after everything the end consumes}. Strings and brackets are skipped as
     * Jinja2 skips them: an end marker counts only outside strings and with all brackets closed.
     */
    private static int[] endOfTag(String src, int from, boolean block, int line) {
        int n = src.length(), depth = 0;
        String end = block ? "%}" : "}}";
        int i = from;
        while (i < n) {
            char c = src.charAt(i);
            if (depth == 0) {
                if (block && src.startsWith("+%}", i)) return new int[] {i, i + 3};
                if (src.startsWith("-" + end, i)) return new int[] {i, skipSpace(src, i + 3)};
                if (src.startsWith(end, i)) {
                    int e = i + 2;
                    if (block && e < n && src.charAt(e) == '\n') e++; // trim_blocks
                    return new int[] {i, e};
                }
            }
            if (c == '\'' || c == '"') {
                int j = i + 1;
                while (j < n && src.charAt(j) != c) j += src.charAt(j) == '\\' ? 2 : 1;
                if (j >= n) throw new SyntaxError(line, "unterminated string literal");
                i = j + 1;
                continue;
            }
            if (c == '(' || c == '[' || c == '{') depth++;
            else if ((c == ')' || c == ']' || c == '}') && depth > 0) depth--;
            i++;
        }
        throw new SyntaxError(line, "tag opened here is never closed (expected '" + end + "')");
    }

    private static int[] endOfComment(String src, int from, int line) {
        for (int i = from; i < src.length(); i++) {
            if (src.startsWith("+#}", i)) return new int[] {i, i + 3};
            if (src.startsWith("-#}", i)) return new int[] {i, skipSpace(src, i + 3)};
            if (src.startsWith("#}", i)) {
                int e = i + 2;
                if (e < src.length() && src.charAt(e) == '\n') e++;
                return new int[] {i, e};
            }
        }
        throw new SyntaxError(line, "missing end of comment tag");
    }

    /** Jinja2's raw_begin: {@code {%[-+]?\s*raw\s*(-%}\s*|%})}. */
    private static boolean isRawStart(String src, int after) {
        int i = skipSpace(src, after);
        if (!src.startsWith("raw", i)) return false;
        i = skipSpace(src, i + 3);
        return src.startsWith("%}", i) || src.startsWith("-%}", i);
    }

    /** Returns {start of "{%" of endraw, position after its end}. */
    private static int[] findEndRaw(String src, int from, int line) {
        for (int i = src.indexOf("{%", from); i >= 0; i = src.indexOf("{%", i + 1)) {
            int j = i + 2;
            if (j < src.length() && (src.charAt(j) == '-' || src.charAt(j) == '+')) j++;
            j = skipSpace(src, j);
            if (!src.startsWith("endraw", j)) continue;
            j = skipSpace(src, j + 6);
            if (src.startsWith("+%}", j)) return new int[] {i, j + 3};
            if (src.startsWith("-%}", j)) return new int[] {i, skipSpace(src, j + 3)};
            if (src.startsWith("%}", j)) {
                int e = j + 2;
                if (e < src.length() && src.charAt(e) == '\n') e++;
                return new int[] {i, e};
            }
        }
        throw new SyntaxError(line, "missing end of raw directive");
    }

    private static int skipSpace(String s, int i) {
        while (i < s.length() && Py.isSpace(s.codePointAt(i))) i += Character.charCount(s.codePointAt(i));
        return i;
    }

    private static boolean allSpace(String s, int from) {
        return skipSpace(s, from) == s.length();
    }

    private static int count(String s, char c) {
        int k = 0;
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) == c) k++;
        return k;
    }

    private static int lineOf(String s, int pos) {
        return 1 + count(s.substring(0, pos), '\n');
    }

    // ---- loop.previtem / loop.nextitem ----

    /** Finds for-loops whose own body (not a nested loop's) reads loop.previtem or loop.nextitem. */
    private static void markPrevNextLoops(List<Seg> segs) {
        Deque<Tag> loops = new ArrayDeque<>();
        int k = 0;
        for (Seg s : segs) {
            if (!(s instanceof Tag t)) continue;
            String w = t.block ? t.word(0) : null;
            if ("endfor".equals(w)) {
                if (!loops.isEmpty()) loops.pop();
                continue;
            }
            if (!loops.isEmpty() && loops.peek().loopSeq == null && usesPrevNext(t.toks)) loops.peek().loopSeq = "rast_loopseq" + k++;
            if ("for".equals(w)) loops.push(t);
        }
    }

    private static boolean usesPrevNext(List<Tok> toks) {
        for (int i = 0; i < toks.size(); i++) {
            if (!toks.get(i).name("loop")) continue;
            int d = JinjaExpr.nextNonWs(toks, i + 1), a = d < 0 ? -1 : JinjaExpr.nextNonWs(toks, d + 1);
            if (a >= 0 && toks.get(d).is(".") && (toks.get(a).name("previtem") || toks.get(a).name("nextitem"))) return true;
        }
        return false;
    }

    // ---- emitting Jinjava source ----

    private static String emit(List<Seg> segs) {
        StringBuilder sb = new StringBuilder();
        Deque<String> loopSeqs = new ArrayDeque<>();
        for (int i = 0; i < segs.size(); i++) {
            Seg s = segs.get(i);
            switch (s) {
                case Text t -> {
                    String text = t.text();
                    // A '{' right before a tag would make Jinjava see "{{{" or "{{%"; Jinja2 never saw them together.
                    if (text.endsWith("{") && i + 1 < segs.size() && !(segs.get(i + 1) instanceof Text))
                        sb.append(text, 0, text.length() - 1).append("{{ '{' }}");
                    else sb.append(text);
                }
                case Raw r -> sb.append("{% raw %}").append(r.text()).append("{% endraw %}");
                case Comment c -> {
                    if (c.newlines() > 0) sb.append("{#").append("\n".repeat(c.newlines())).append("#}");
                }
                case Tag t -> emitTag(sb, t, loopSeqs);
            }
        }
        return sb.toString();
    }

    private static void emitTag(StringBuilder sb, Tag t, Deque<String> loopSeqs) {
        sb.append(newlines(t.newlinesBefore));
        try {
            emitTagBody(sb, t, loopSeqs);
        } catch (JinjaExpr.SyntaxError e) {
            throw new SyntaxError(t.line, e.getMessage());
        }
        sb.append(newlines(t.newlinesAfter));
    }

    /** Newlines that whitespace control removed, as a Jinjava comment: no output, but the line count stays. */
    private static String newlines(int n) {
        return n == 0 ? "" : "{#" + "\n".repeat(n) + "#}";
    }

    private static void emitTagBody(StringBuilder sb, Tag t, Deque<String> loopSeqs) {
        String w = t.block ? t.word(0) : null;
        List<Tok> toks = replacePrevNext(t.toks, loopSeqs.peek());
        if ("generation".equals(w) || "endgeneration".equals(w)) return; // HF's assistant-mask markers: no output
        if ("endfor".equals(w) && !loopSeqs.isEmpty()) loopSeqs.pop();
        String body = JinjaExpr.rewrite(toks, !"macro".equals(w));
        if (!t.block) {
            sb.append("{{ rast_str((").append(body).append(")) }}");
            return;
        }
        if ("for".equals(w)) {
            loopSeqs.push(t.loopSeq == null ? "" : t.loopSeq);
            if (t.loopSeq != null) {
                int in = indexOfTopName(toks, "in");
                if (in < 0 || indexOfTopName(toks, "if") >= 0 || indexOfTopName(toks, "recursive") >= 0)
                    throw new SyntaxError(t.line, "loop.previtem/loop.nextitem are supported only in a plain "
                            + "'for x in items' loop (no 'if' filter, not recursive)");
                String target = JinjaExpr.rewrite(toks.subList(0, in), true);
                String iter = JinjaExpr.rewrite(toks.subList(in + 1, toks.size()), true);
                sb.append("{% set ").append(t.loopSeq).append(" = rast_list((").append(iter).append(")) %}");
                sb.append("{%").append(target).append(" in ").append(t.loopSeq).append(" %}");
                return;
            }
        }
        sb.append("{%").append(body).append("%}");
    }

    /** loop.previtem → rast_previtem(seq, loop.index0), loop.nextitem → rast_nextitem(seq, loop.index0). */
    private static List<Tok> replacePrevNext(List<Tok> toks, String seq) {
        if (seq == null || seq.isEmpty() || !usesPrevNext(toks)) return toks;
        List<Tok> out = new ArrayList<>();
        for (int i = 0; i < toks.size(); i++) {
            Tok t = toks.get(i);
            int d = JinjaExpr.nextNonWs(toks, i + 1), a = d < 0 ? -1 : JinjaExpr.nextNonWs(toks, d + 1);
            boolean isAttr = JinjaExpr.prevNonWs(toks, i) >= 0 && toks.get(JinjaExpr.prevNonWs(toks, i)).is(".");
            if (t.name("loop") && !isAttr && a >= 0 && toks.get(d).is(".")
                    && (toks.get(a).name("previtem") || toks.get(a).name("nextitem"))) {
                String fn = toks.get(a).text().equals("previtem") ? "rast_previtem" : "rast_nextitem";
                out.addAll(JinjaExpr.tokenize(fn + "(" + seq + ", loop.index0)"));
                i = a;
                continue;
            }
            out.add(t);
        }
        return out;
    }

    private static int indexOfTopName(List<Tok> toks, String name) {
        int depth = 0;
        for (int i = 0; i < toks.size(); i++) {
            Tok t = toks.get(i);
            if (t.is("(") || t.is("[") || t.is("{")) depth++;
            else if (t.is(")") || t.is("]") || t.is("}")) depth--;
            else if (depth == 0 && t.name(name)) return i;
        }
        return -1;
    }
}
