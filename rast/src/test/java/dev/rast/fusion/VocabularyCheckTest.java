package dev.rast.fusion;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rast.engine.BadInputException;
import dev.rast.fusion.VocabularyCheck.Vocabulary;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class VocabularyCheckTest {
    static Vocabulary vocab(String name, String... tokens) {
        return new Vocabulary(name, id -> id < tokens.length ? tokens[id] : null);
    }

    @Test
    void identicalVocabulariesPass() {
        assertEquals(Optional.empty(), VocabularyCheck.firstDifference(3,
                List.of(vocab("M", "a", "b", "c"), vocab("E", "a", "b", "c"), vocab("B", "a", "b", "c"))));
    }

    @Test
    void theFirstDifferingIdIsNamed() {
        assertEquals(Optional.of("tokenizers differ at id 1: '<|im_start|>' in M vs 'x' in B"),
                VocabularyCheck.firstDifference(3, List.of(vocab("M", "a", "<|im_start|>", "c"),
                        vocab("E", "a", "<|im_start|>", "z"), vocab("B", "a", "x", "c"))));
    }

    /** Padding ids (no token in either tokenizer) agree; ids past the shared vocabulary are not compared. */
    @Test
    void paddingAndIdsBeyondTheSharedVocabularyDoNotCount() {
        assertEquals(Optional.empty(), VocabularyCheck.firstDifference(4, List.of(vocab("M", "a", "b"), vocab("E", "a", "b"))));
        assertEquals(Optional.empty(), VocabularyCheck.firstDifference(2, List.of(vocab("M", "a", "b", "c"), vocab("E", "a", "b", "d"))));
        assertEquals(Optional.of("tokenizers differ at id 2: 'c' in M vs no token in E"),
                VocabularyCheck.firstDifference(3, List.of(vocab("M", "a", "b", "c"), vocab("E", "a", "b"))));
    }

    @Test
    void controlCharactersAreEscapedSoTheMessageIsOneLine() {
        assertEquals(Optional.of("tokenizers differ at id 0: '\\n\\u000b' in M vs ' \\'x\\'' in E"),
                VocabularyCheck.firstDifference(1, List.of(vocab("M", "\n\u000b"), vocab("E", " 'x'"))));
    }

    @Test
    void mismatchIsRefusedUnlessAllowed() {
        List<Vocabulary> v = List.of(vocab("M", "a"), vocab("E", "b"));
        assertEquals("tokenizers differ at id 0: 'a' in M vs 'b' in E (the models must share a tokenizer;"
                        + " --allow-tokenizer-mismatch fuses them anyway)",
                assertThrows(BadInputException.class, () -> VocabularyCheck.requireSame(1, v, false)).getMessage());
        assertDoesNotThrow(() -> VocabularyCheck.requireSame(1, v, true));
    }
}
