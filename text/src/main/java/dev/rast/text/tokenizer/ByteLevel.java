package dev.rast.text.tokenizer;

/**
 * GPT-2's byte-to-character table, used by byte-level BPE (Qwen2.5, Llama 3): every byte 0..255 is shown as one
 * printable character, so that BPE can work on strings and never sees a space or a control byte. Printable Latin-1
 * bytes stand for themselves; the others (controls, space, 0x7F..0xA0, 0xAD) take the characters U+0100.. in order.
 */
final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[0x200];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + next++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {}

    /** The character that stands for byte {@code b}. */
    static char charOf(int b) { return BYTE_TO_CHAR[b & 0xFF]; }

    /** The byte a character stands for, or -1 when it is not one of the 256 byte characters. */
    static int byteOf(char c) { return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1; }

    /** The byte-level string of {@code bytes[from, to)}. */
    static String encode(byte[] bytes, int from, int to) {
        char[] out = new char[to - from];
        for (int i = from; i < to; i++) out[i - from] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        return new String(out);
    }

    /**
     * Appends the bytes a token string stands for. A token with any character outside the table (possible only in
     * added tokens) is kept whole as its own UTF-8 bytes, as the Hugging Face ByteLevel decoder does: it checks the
     * token, not each character, so an "é" next to a "☕" stays "é" rather than becoming byte 0xE9.
     */
    static void decodeInto(String token, java.io.ByteArrayOutputStream out) {
        for (int i = 0; i < token.length(); i++) {
            if (byteOf(token.charAt(i)) < 0) {
                byte[] u = token.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                out.write(u, 0, u.length);
                return;
            }
        }
        for (int i = 0; i < token.length(); i++) out.write(byteOf(token.charAt(i)));
    }
}
