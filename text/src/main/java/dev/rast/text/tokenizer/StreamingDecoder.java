package dev.rast.text.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Turns ids into text as they are generated. A byte-level token can end in the middle of a UTF-8 character (an
 * emoji is often 2–4 tokens), so the bytes of an unfinished character are held back until the next token
 * completes it; only whole characters are ever returned.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private final boolean skipSpecial;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    StreamingDecoder(Tokenizer tokenizer, boolean skipSpecial) {
        this.tokenizer = tokenizer;
        this.skipSpecial = skipSpecial;
    }

    /**
     * Adds one id; returns the text that became complete (possibly empty). An id the tokenizer does not have (a
     * model's padding rows past the vocabulary: Qwen2.5 has 151,936 rows for 151,669 ids) adds no text, as HF
     * {@code tokenizers} decodes it; a model, unlike a user, may sample one.
     */
    public String push(int id) {
        if (tokenizer.token(id) == null) return "";
        tokenizer.appendBytes(id, skipSpecial, pending);
        byte[] b = pending.toByteArray();
        int cut = completePrefix(b);
        pending.reset();
        pending.write(b, cut, b.length - cut);
        return new String(b, 0, cut, StandardCharsets.UTF_8);
    }

    /** Returns whatever is held back, with U+FFFD for an unfinished character (end of generation). */
    public String flush() {
        String s = pending.toString(StandardCharsets.UTF_8);
        pending.reset();
        return s;
    }

    /**
     * Length of the longest prefix that does not end inside a character: if the last lead byte still waits for
     * continuation bytes, cut before it. Invalid bytes are not held (they decode to U+FFFD right away).
     */
    static int completePrefix(byte[] b) {
        int n = b.length;
        for (int back = 1; back <= Math.min(3, n); back++) {
            int v = b[n - back] & 0xFF;
            if ((v & 0xC0) == 0x80) continue; // continuation byte: keep looking for its lead
            int need = (v & 0xE0) == 0xC0 ? 2 : (v & 0xF0) == 0xE0 ? 3 : (v & 0xF8) == 0xF0 ? 4 : 1;
            return need > back ? n - back : n;
        }
        return n;
    }
}
