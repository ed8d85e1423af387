package dev.rast.text.tokenizer;

import dev.rast.engine.BadInputException;
import dev.rast.engine.files.InputFiles;
import dev.rast.engine.json.Json;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A byte-level BPE tokenizer built from a Hugging Face {@code tokenizer.json} (Qwen2.5, Qwen3, Llama 3.x), giving
 * the same ids as the Rust {@code tokenizers} library.
 *
 * <p>Encoding, in the library's order: (1) cut the raw text at added tokens such as {@code <|im_start|>};
 * (2) normalize each remaining piece (NFC for Qwen); (3) cut again at added tokens that match normalized text;
 * (4) split each piece with the pre-tokenizer pattern ({@link SplitPattern}); (5) map each split's UTF-8 bytes to
 * byte-level characters ({@link ByteLevel}) and run BPE ({@link Bpe}). The post-processor (Llama's BOS) applies
 * only when asked. Decoding maps token strings back to bytes and reads them as UTF-8.
 */
public final class Tokenizer {
    private final String source;
    private final Map<String, Integer> vocab;
    private final String[] idToToken;
    private final boolean[] special;
    private final Bpe bpe;
    private final AddedTokenMatcher rawAdded;
    private final AddedTokenMatcher normalizedAdded;
    private final List<Normalizer.Form> normalizers;
    private final SplitPattern split;
    private final boolean addPrefixSpace;
    private final PostProcessor post;
    private final Map<String, Integer> addedIds;

    private Tokenizer(String source, Map<String, Object> root) {
        this.source = source;
        Map<String, Object> model = object(root.get("model"), "model");
        String type = string(model.get("type"), "model.type");
        if (!"BPE".equals(type))
            throw bad("model type '" + type + "' is not supported (rast implements byte-level BPE only)");
        refuseIf(isTrue(model.get("byte_fallback")), "model.byte_fallback is true (SentencePiece-style BPE is not supported)");
        Object dropout = model.get("dropout");
        refuseIf(dropout instanceof Number d && d.doubleValue() != 0, "model.dropout is set (BPE dropout is for training)");
        refuseIf(nonEmpty(model.get("continuing_subword_prefix")) || nonEmpty(model.get("end_of_word_suffix")),
                "model.continuing_subword_prefix / end_of_word_suffix are not supported");

        vocab = readVocab(object(model.get("vocab"), "model.vocab"));
        List<AddedToken> added = readAdded(root.get("added_tokens"));
        int size = 0;
        for (int id : vocab.values()) size = Math.max(size, id + 1);
        for (AddedToken t : added) size = Math.max(size, t.id() + 1);
        idToToken = new String[size];
        special = new boolean[size];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            String prev = idToToken[e.getValue()];
            if (prev != null)
                throw bad("model.vocab gives id " + e.getValue() + " to both " + Json.quote(prev) + " and " + Json.quote(e.getKey()));
            idToToken[e.getValue()] = e.getKey();
        }
        addedIds = new HashMap<>();
        for (AddedToken t : added) {
            idToToken[t.id()] = t.content();
            special[t.id()] = t.special();
            addedIds.put(t.content(), t.id());
        }
        for (int b = 0; b < 256; b++) {
            if (!vocab.containsKey(String.valueOf(ByteLevel.charOf(b))))
                throw bad("model.vocab lacks the byte-level token for byte 0x" + Integer.toHexString(b)
                        + " (not a byte-level BPE vocabulary)");
        }
        bpe = new Bpe(vocab, readMerges(model.get("merges")), isTrue(model.get("ignore_merges")));
        rawAdded = new AddedTokenMatcher(added.stream().filter(t -> !t.normalized()).toList());
        normalizedAdded = new AddedTokenMatcher(added.stream().filter(AddedToken::normalized).toList());
        normalizers = readNormalizer(root.get("normalizer"), "normalizer");

        PreTokenizerSpec pre = new PreTokenizerSpec();
        pre.read(root.get("pre_tokenizer"), "pre_tokenizer");
        if (!pre.byteLevel) throw bad("pre_tokenizer has no ByteLevel step (not a byte-level BPE tokenizer)");
        split = pre.split;
        addPrefixSpace = pre.addPrefixSpace;
        readDecoder(root.get("decoder"));
        post = PostProcessor.read(root.get("post_processor"), this);
    }

    /** Loads {@code dir/tokenizer.json}. */
    public static Tokenizer load(Path dir) {
        Path file = Files.isDirectory(dir) ? dir.resolve("tokenizer.json") : dir;
        byte[] json = InputFiles.read(file, InputFiles.TOKENIZER_MAX_BYTES, "no tokenizer.json (give the model folder or --tokenizer DIR)");
        String source = file.toString();
        Map<String, Object> m = Json.parseObject(json, source);
        try {
            return new Tokenizer(source, m);
        } catch (ClassCastException | NullPointerException e) {
            throw new BadInputException(source + ": malformed tokenizer.json (" + e.getMessage() + ")");
        }
    }

    // ---- encode ----

    /** Ids of {@code text} without BOS/EOS: HF {@code encode(text, add_special_tokens=False)}. */
    public int[] encode(String text) { return encode(text, false); }

    /** Ids of {@code text}; with {@code addSpecialTokens} the post-processor adds BOS/EOS as the tokenizer says. */
    public int[] encode(String text, boolean addSpecialTokens) {
        IntList out = new IntList();
        int at = 0;
        for (AddedTokenMatcher.Match m : rawAdded.find(text)) {
            encodeNormalizing(text.substring(at, m.from()), out);
            out.add(m.token().id());
            at = m.to();
        }
        encodeNormalizing(text.substring(at), out);
        int[] ids = out.toArray();
        return addSpecialTokens ? post.apply(ids) : ids;
    }

    private void encodeNormalizing(String piece, IntList out) {
        if (piece.isEmpty()) return;
        String norm = normalize(piece);
        if (normalizedAdded.isEmpty()) { encodeWords(norm, out); return; }
        int at = 0;
        for (AddedTokenMatcher.Match m : normalizedAdded.find(norm)) {
            encodeWords(norm.substring(at, m.from()), out);
            out.add(m.token().id());
            at = m.to();
        }
        encodeWords(norm.substring(at), out);
    }

    private void encodeWords(String s, IntList out) {
        if (s.isEmpty()) return;
        List<int[]> bounds = new ArrayList<>();
        if (split != null) split.split(s, 0, s.length(), bounds);
        else bounds.add(new int[] {0, s.length()});
        for (int[] b : bounds) {
            String piece = s.substring(b[0], b[1]);
            // HF's ByteLevel step adds the space to every piece the Split before it made, not once per text.
            if (addPrefixSpace && piece.charAt(0) != ' ') piece = " " + piece;
            byte[] utf8 = piece.getBytes(StandardCharsets.UTF_8);
            out.addAll(bpe.encode(ByteLevel.encode(utf8, 0, utf8.length)));
        }
    }

    /** The normalizer's output (NFC for Qwen; unchanged for Llama 3). */
    public String normalize(String text) {
        for (Normalizer.Form f : normalizers) text = Normalizer.normalize(text, f);
        return text;
    }

    // ---- decode ----

    /**
     * Text of {@code ids}, special tokens included (as transformers' {@code tokenizer.decode(ids)} by default; the
     * tokenizers library's own {@code decode} skips them by default). An id not in the tokenizer is refused, where HF
     * drops it silently.
     */
    public String decode(int[] ids) { return decode(ids, false); }

    /** Text of {@code ids}; invalid UTF-8 (an id sequence cut inside a character) becomes U+FFFD. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : ids) appendBytes(id, skipSpecialTokens, bytes);
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** A decoder that returns text as ids arrive, never splitting a character. */
    public StreamingDecoder streamingDecoder(boolean skipSpecialTokens) {
        return new StreamingDecoder(this, skipSpecialTokens);
    }

    void appendBytes(int id, boolean skipSpecial, ByteArrayOutputStream out) {
        String t = token(id);
        if (t == null) throw new BadInputException("token id " + id + " is not in the tokenizer (" + source
                + ": ids 0.." + (idToToken.length - 1) + ")");
        if (skipSpecial && special[id]) return;
        ByteLevel.decodeInto(t, out);
    }

    // ---- lookups ----

    /** Number of ids: one past the largest id of the vocabulary and the added tokens. */
    public int size() { return idToToken.length; }

    /** The token string of {@code id} (byte-level characters for BPE tokens), or null when the id is unused. */
    public String token(int id) { return id >= 0 && id < idToToken.length ? idToToken[id] : null; }

    /** Whether {@code id} is a special added token (e.g. {@code <|im_end|>}). */
    public boolean isSpecial(int id) { return id >= 0 && id < special.length && special[id]; }

    /** The id of a token string (vocabulary or added token), or -1. */
    public int id(String token) {
        Integer a = addedIds.get(token);
        if (a != null) return a;
        Integer v = vocab.get(token);
        return v == null ? -1 : v;
    }

    /** The file this tokenizer came from, for messages. */
    public String source() { return source; }

    // ---- reading tokenizer.json ----

    private Map<String, Integer> readVocab(Map<String, Object> v) {
        Map<String, Integer> out = new HashMap<>(v.size() * 2);
        for (Map.Entry<String, Object> e : v.entrySet()) {
            if (!(e.getValue() instanceof Long id) || id < 0 || id > 50_000_000)
                throw bad("model.vocab[" + Json.quote(e.getKey()) + "] is not a valid id: " + e.getValue());
            out.put(e.getKey(), id.intValue());
        }
        return out;
    }

    private MergeTable readMerges(Object o) {
        if (!(o instanceof List<?> list)) throw bad("model.merges is missing or not a list");
        // Resolving a merge to ids is three hash lookups and a concatenation; spread them over the cores (loading a
        // 150k vocabulary must stay well under a second), then insert in rank order on this thread.
        int n = list.size();
        int[] left = new int[n], right = new int[n], merged = new int[n];
        java.util.stream.IntStream.range(0, n).parallel().forEach(r -> {
            Object m = list.get(r);
            String a, b;
            if (m instanceof String s) {
                int sp = s.indexOf(' ', 1);
                if (sp < 0 || s.indexOf(' ', sp + 1) >= 0) throw bad("model.merges[" + r + "] " + Json.quote(s) + " is not \"a b\"");
                a = s.substring(0, sp);
                b = s.substring(sp + 1);
            } else if (m instanceof List<?> pair && pair.size() == 2 && pair.get(0) instanceof String x
                    && pair.get(1) instanceof String y) {
                a = x;
                b = y;
            } else {
                throw bad("model.merges[" + r + "] is neither \"a b\" nor [a, b]");
            }
            Integer ia = vocab.get(a), ib = vocab.get(b), im = vocab.get(a + b);
            if (ia == null || ib == null || im == null)
                throw bad("model.merges[" + r + "] (" + a + " " + b + ") uses a token that is not in model.vocab");
            left[r] = ia;
            right[r] = ib;
            merged[r] = im;
        });
        MergeTable table = new MergeTable(n);
        for (int r = 0; r < n; r++) table.put(left[r], right[r], r, merged[r]);
        return table;
    }

    private List<AddedToken> readAdded(Object o) {
        List<AddedToken> out = new ArrayList<>();
        if (o == null) return out;
        if (!(o instanceof List<?> list)) throw bad("added_tokens is not a list");
        for (int i = 0; i < list.size(); i++) {
            Map<String, Object> t = object(list.get(i), "added_tokens[" + i + "]");
            if (!(t.get("id") instanceof Long id) || id < 0 || id > 50_000_000)
                throw bad("added_tokens[" + i + "].id is missing or invalid");
            String content = string(t.get("content"), "added_tokens[" + i + "].content");
            refuseIf(isTrue(t.get("single_word")), "added_tokens[" + i + "] (" + content + ") has single_word, which is not supported");
            out.add(new AddedToken(id.intValue(), content, isTrue(t.get("special")), isTrue(t.get("normalized")),
                    isTrue(t.get("lstrip")), isTrue(t.get("rstrip"))));
        }
        return out;
    }

    private List<Normalizer.Form> readNormalizer(Object o, String where) {
        List<Normalizer.Form> out = new ArrayList<>();
        if (o == null) return out;
        Map<String, Object> n = object(o, where);
        String type = string(n.get("type"), where + ".type");
        switch (type) {
            case "NFC" -> out.add(Normalizer.Form.NFC);
            case "NFD" -> out.add(Normalizer.Form.NFD);
            case "NFKC" -> out.add(Normalizer.Form.NFKC);
            case "NFKD" -> out.add(Normalizer.Form.NFKD);
            case "Sequence" -> {
                if (!(n.get("normalizers") instanceof List<?> l)) throw bad(where + ".normalizers is not a list");
                for (int i = 0; i < l.size(); i++) out.addAll(readNormalizer(l.get(i), where + ".normalizers[" + i + "]"));
            }
            default -> throw bad(where + " type '" + type + "' is not supported (rast supports NFC, NFD, NFKC, NFKD)");
        }
        return out;
    }

    /** What the pre-tokenizer section says: an optional Split pattern, then ByteLevel. */
    private final class PreTokenizerSpec {
        SplitPattern split;
        boolean byteLevel;
        boolean addPrefixSpace;

        void read(Object o, String where) {
            if (o == null) return;
            Map<String, Object> p = object(o, where);
            String type = string(p.get("type"), where + ".type");
            switch (type) {
                case "Sequence" -> {
                    if (!(p.get("pretokenizers") instanceof List<?> l)) throw bad(where + ".pretokenizers is not a list");
                    for (int i = 0; i < l.size(); i++) read(l.get(i), where + ".pretokenizers[" + i + "]");
                }
                case "Split" -> {
                    refuseIf(split != null || byteLevel, where + ": only one Split before ByteLevel is supported");
                    Map<String, Object> pat = object(p.get("pattern"), where + ".pattern");
                    if (!(pat.get("Regex") instanceof String regex))
                        throw bad(where + ".pattern is not a Regex");
                    refuseIf(!"Isolated".equals(p.get("behavior")) || isTrue(p.get("invert")),
                            where + ": only behavior Isolated without invert is supported");
                    split = SplitPattern.forRegex(regex);
                    if (split == null)
                        throw bad(where + ".pattern.Regex " + Json.quote(regex) + " is not one rast implements "
                                + "(the Qwen2/Qwen3 and Llama 3 patterns)");
                }
                case "ByteLevel" -> {
                    refuseIf(isTrue(p.get("use_regex")), where + ": ByteLevel with use_regex (the GPT-2 pattern) is not supported");
                    byteLevel = true;
                    addPrefixSpace = isTrue(p.get("add_prefix_space"));
                }
                default -> throw bad(where + " type '" + type + "' is not supported (rast supports Split + ByteLevel)");
            }
        }
    }

    private void readDecoder(Object o) {
        if (o == null) throw bad("decoder is missing (expected ByteLevel)");
        Map<String, Object> d = object(o, "decoder");
        String type = string(d.get("type"), "decoder.type");
        if (!"ByteLevel".equals(type)) throw bad("decoder type '" + type + "' is not supported (expected ByteLevel)");
    }

    // ---- small helpers ----

    BadInputException bad(String what) { return new BadInputException(source + ": " + what); }

    private void refuseIf(boolean cond, String what) { if (cond) throw bad(what); }

    @SuppressWarnings("unchecked")
    Map<String, Object> object(Object o, String where) {
        if (!(o instanceof Map<?, ?>)) throw bad(where + " is missing or not an object");
        return (Map<String, Object>) o;
    }

    String string(Object o, String where) {
        if (!(o instanceof String s)) throw bad(where + " is missing or not a string");
        return s;
    }

    private static boolean isTrue(Object o) { return Boolean.TRUE.equals(o); }

    private static boolean nonEmpty(Object o) { return o instanceof String s && !s.isEmpty(); }

    /** A growable int array (avoids boxing on the encode path). */
    private static final class IntList {
        private int[] a = new int[64];
        private int n;

        void add(int v) {
            if (n == a.length) a = Arrays.copyOf(a, n * 2);
            a[n++] = v;
        }

        void addAll(int[] v) {
            if (n + v.length > a.length) a = Arrays.copyOf(a, Math.max(a.length * 2, n + v.length));
            System.arraycopy(v, 0, a, n, v.length);
            n += v.length;
        }

        int[] toArray() { return Arrays.copyOf(a, n); }
    }
}
