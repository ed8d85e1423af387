package dev.rast.engine.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.BadInputException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StopStringsTest {
    @Test
    void aStopStringSplitAcrossChunksStopsAndIsNotEmitted() {
        StopStrings s = new StopStrings(List.of("</s>"));
        StringBuilder out = new StringBuilder();
        for (String c : List.of("Hel", "lo<", "/s", ">wor", "ld")) out.append(s.feed(c));
        assertEquals("Hello", out.toString());
        assertTrue(s.stopped());
        assertEquals("</s>", s.matched());
        assertEquals("", s.feed("more"));
    }

    @Test
    void aPossibleStartIsHeldBackUntilItCannotBeAStop() {
        StopStrings s = new StopStrings(List.of("abc"));
        assertEquals("x", s.feed("xab"));
        assertEquals("abd", s.feed("d"));
        assertEquals("", s.feed("a"));
        assertEquals("a", s.flush()); // generation ended without a stop: the held tail is plain text
        assertFalse(s.stopped());
        assertNull(s.matched());
    }

    /** The stop that ends first wins ("c" ends before "abcd"); at the same end, the longer ("ab" over "b"). */
    @Test
    void overlappingStopStrings() {
        StopStrings a = new StopStrings(List.of("abcd", "c"));
        assertEquals("xab", a.feed("xabcd"));
        assertEquals("c", a.matched());
        StopStrings b = new StopStrings(List.of("b", "ab"));
        assertEquals("x", b.feed("xab"));
        assertEquals("ab", b.matched());
    }

    /** Every way of cutting the text into chunks emits the same text and finds the same stop. */
    @Test
    void resultDoesNotDependOnChunking() {
        String text = "a<|im_<|im_end|>zz";
        List<String> stops = List.of("<|im_end|>", "im_e", "zz");
        // by hand: "im_e" first ends at index 11 ("a<|im_<|im_e"), earlier than "<|im_end|>" (16)
        for (int mask = 0; mask < 1 << (text.length() - 1); mask++) {
            List<String> chunks = new ArrayList<>();
            int start = 0;
            for (int i = 1; i < text.length(); i++) if ((mask & 1 << (i - 1)) != 0) { chunks.add(text.substring(start, i)); start = i; }
            chunks.add(text.substring(start));
            StopStrings s = new StopStrings(stops);
            StringBuilder out = new StringBuilder();
            for (String c : chunks) out.append(s.feed(c));
            assertEquals("a<|im_<|", out.toString(), chunks.toString());
            assertEquals("im_e", s.matched(), chunks.toString());
        }
    }

    @Test
    void noStopStringsPassTextThrough() {
        StopStrings s = new StopStrings(List.of());
        assertEquals("abc", s.feed("abc"));
        assertEquals("", s.flush());
    }

    @Test
    void emptyStopStringsAreRefused() {
        assertEquals("--stop strings must not be empty",
                assertThrows(BadInputException.class, () -> new StopStrings(List.of("x", ""))).getMessage());
    }
}
