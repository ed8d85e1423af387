package dev.rast.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.eval.metrics.Metrics.Vote;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The metric functions on examples computed by hand (and, for large n, against exact big-integer binomials). */
class MetricsTest {
    private static final double EPS = 1e-12;

    @Test
    void passAtKSmallCasesByHand() {
        assertEquals(0.25, Metrics.passAtK(4, 1, 1), EPS);        // 1 - C(3,1)/C(4,1) = 1 - 3/4
        assertEquals(0.5, Metrics.passAtK(4, 1, 2), EPS);         // 1 - C(3,2)/C(4,2) = 1 - 3/6
        assertEquals(5.0 / 6, Metrics.passAtK(4, 2, 2), EPS);     // 1 - C(2,2)/C(4,2) = 1 - 1/6
        assertEquals(0.0, Metrics.passAtK(4, 0, 3), EPS);
        assertEquals(1.0, Metrics.passAtK(4, 4, 1), EPS);
        assertEquals(1.0, Metrics.passAtK(5, 3, 3), EPS);         // n - c = 2 < k: every draw of 3 holds a correct one
        assertEquals(0.5, Metrics.passAtK(32, 1, 16), EPS);       // C(31,16)/C(32,16) = 16/32
        assertEquals(1 - 35.0 / 210, Metrics.passAtK(10, 3, 4), EPS); // C(7,4) = 35, C(10,4) = 210
        assertEquals(0.3, Metrics.passAtK(10, 3, 1), EPS);        // pass@1 is c/n
    }

    /** C(n-c,k)/C(n,k) exactly with BigInteger, where the binomials themselves overflow a double. */
    @Test
    void passAtKStableForLargeN() {
        int n = 1024;
        for (int c : new int[] {1, 10, 100, 500}) {
            for (int k : new int[] {1, 64, 512, 1000}) {
                double exact = n - c < k ? 1.0 : 1.0 - new BigDecimal(binom(n - c, k)).divide(new BigDecimal(binom(n, k)), MathContext.DECIMAL64).doubleValue();
                assertEquals(exact, Metrics.passAtK(n, c, k), 1e-12, "n=" + n + " c=" + c + " k=" + k);
            }
        }
    }

    private static BigInteger binom(int n, int k) {
        BigInteger r = BigInteger.ONE;
        for (int i = 1; i <= k; i++) r = r.multiply(BigInteger.valueOf(n - k + i)).divide(BigInteger.valueOf(i));
        return r;
    }

    @Test
    void passAtKRejectsImpossibleArguments() {
        assertThrows(IllegalArgumentException.class, () -> Metrics.passAtK(4, 5, 1));
        assertThrows(IllegalArgumentException.class, () -> Metrics.passAtK(4, 1, 5));
        assertThrows(IllegalArgumentException.class, () -> Metrics.passAtK(4, 1, 0));
    }

    @Test
    void meanPassAtKAveragesProblems() {
        // problems with 1, 2 and 0 correct of 4: pass@2 = (1/2 + 5/6 + 0) / 3
        assertEquals((0.5 + 5.0 / 6) / 3, Metrics.meanPassAtK(new int[] {1, 2, 0}, 4, 2), EPS);
    }

    @Test
    void kValues() {
        assertEquals(List.of(1, 2, 4, 8, 16, 32), Metrics.kValues(32));
        assertEquals(List.of(1, 2, 4, 5), Metrics.kValues(5));
        assertEquals(List.of(1), Metrics.kValues(1));
    }

    @Test
    void pass1AverageIsTheShareOfCorrectSamples() {
        assertEquals(3.0 / 8, Metrics.pass1Average(List.of(new boolean[] {true, false, false, false},
                new boolean[] {true, true, false, false})), EPS);
    }

    @Test
    void majorityVoteByExactStringTiesToTheFirstMet() {
        assertTrue(Metrics.majorityCorrect(List.of(new Vote("2", false), new Vote("3", true), new Vote("3", true))));
        assertFalse(Metrics.majorityCorrect(List.of(new Vote("2", false), new Vote("3", true))));
        assertTrue(Metrics.majorityCorrect(List.of(new Vote("3", true), new Vote("2", false))));
        // a tie goes to the prediction met first, not to the one that reached the count first:
        // collections.Counter(["1", "2", "2", "1"]).most_common(1) == [("1", 2)]
        assertTrue(Metrics.majorityCorrect(List.of(new Vote("1", true), new Vote("2", false), new Vote("2", false), new Vote("1", true))));
        assertFalse(Metrics.majorityCorrect(List.of(new Vote("2", false), new Vote("1", true), new Vote("1", true), new Vote("2", false))));
        // no prediction votes as "None", as str(None) does in RAST's script
        assertFalse(Metrics.majorityCorrect(List.of(new Vote(null, false), new Vote(null, false), new Vote("5", true))));
        // "0.5" and "\frac{1}{2}" are different votes even though both are correct
        assertFalse(Metrics.majorityCorrect(List.of(new Vote("0.5", true), new Vote("\\frac{1}{2}", true),
                new Vote("1", false), new Vote("1", false))));
    }

    @Test
    void majorityAtNUsesAllSamplesInOrder() {
        List<List<Vote>> votes = List.of(
                List.of(new Vote("a", true), new Vote("b", false), new Vote("b", false)),
                List.of(new Vote("c", true), new Vote("c", true), new Vote("d", false)));
        assertEquals(0.5, Metrics.majorityAtK(votes, 3, 3, 0), EPS);
    }

    @Test
    void majorityAtKIsReproducibleAndExactWhenAllVotesAgree() {
        List<List<Vote>> votes = new ArrayList<>();
        for (int p = 0; p < 5; p++) {
            List<Vote> v = new ArrayList<>();
            for (int s = 0; s < 8; s++) v.add(new Vote(p % 2 == 0 ? "7" : "8", p % 2 == 0));
            votes.add(v);
        }
        assertEquals(0.6, Metrics.majorityAtK(votes, 8, 3, 0), EPS); // problems 0, 2, 4 right whatever is drawn
        List<List<Vote>> mixed = List.of(List.of(new Vote("1", true), new Vote("2", false), new Vote("1", true), new Vote("3", false)));
        assertEquals(Metrics.majorityAtK(mixed, 4, 2, 42), Metrics.majorityAtK(mixed, 4, 2, 42));
    }

    @Test
    void drawsAreDistinctIndices() {
        var rnd = new java.util.SplittableRandom(1);
        for (int t = 0; t < 100; t++) {
            int[] d = Metrics.sample(rnd, 32, 16);
            assertEquals(16, java.util.Arrays.stream(d).distinct().count());
            assertTrue(java.util.Arrays.stream(d).allMatch(i -> i >= 0 && i < 32));
        }
    }

    @Test
    void meanLengthAndRecoveryRate() {
        assertEquals(20.0, Metrics.meanLength(new int[] {10, 20, 30}), EPS);
        assertEquals(0.5, Metrics.recoveryRate(50, 40, 60), EPS);
        assertEquals(-0.5, Metrics.recoveryRate(35, 40, 50), EPS);
        assertTrue(Double.isNaN(Metrics.recoveryRate(40, 40, 40)));
    }
}
