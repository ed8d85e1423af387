package dev.rast.fusion;

import dev.rast.engine.BadInputException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.IntFunction;

/**
 * Fusing logits only makes sense when every model means the same token by the same id. This compares the models'
 * tokenizers on the shared ids and names the first id where they disagree.
 */
public final class VocabularyCheck {
    private VocabularyCheck() {}

    /**
     * One model's vocabulary: {@code tokenText} gives the token string of an id, or null when the tokenizer has no
     * token there (ids of padding rows).
     */
    public record Vocabulary(String name, IntFunction<String> tokenText) {}

    /** The first id below {@code sharedVocab} where some vocabulary differs from the first one, as a message. */
    public static Optional<String> firstDifference(int sharedVocab, List<Vocabulary> vocabularies) {
        if (vocabularies.isEmpty()) return Optional.empty();
        Vocabulary first = vocabularies.getFirst();
        for (int id = 0; id < sharedVocab; id++) {
            String want = first.tokenText().apply(id);
            for (Vocabulary other : vocabularies.subList(1, vocabularies.size())) {
                String got = other.tokenText().apply(id);
                if (!Objects.equals(want, got))
                    return Optional.of("tokenizers differ at id " + id + ": " + quote(want) + " in " + first.name()
                            + " vs " + quote(got) + " in " + other.name());
            }
        }
        return Optional.empty();
    }

    /** Throws a BadInputException naming the first difference, unless the user allowed mismatches. */
    public static void requireSame(int sharedVocab, List<Vocabulary> vocabularies, boolean allowMismatch) {
        if (allowMismatch) return;
        firstDifference(sharedVocab, vocabularies).ifPresent(msg -> {
            throw new BadInputException(msg + " (the models must share a tokenizer; --allow-tokenizer-mismatch fuses them anyway)");
        });
    }

    /** 'text' with control and non-ASCII-space characters escaped, so the message stays one readable line. */
    static String quote(String s) {
        if (s == null) return "no token";
        StringBuilder b = new StringBuilder("'");
        s.codePoints().forEach(c -> {
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\\' -> b.append("\\\\");
                case '\'' -> b.append("\\'");
                default -> {
                    if (Character.isISOControl(c) || Character.isWhitespace(c) && c != ' ' || Character.getType(c) == Character.FORMAT)
                        b.append(String.format("\\u%04x", c));
                    else b.appendCodePoint(c);
                }
            }
        });
        return b.append('\'').toString();
    }
}
