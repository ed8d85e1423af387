package dev.rast.analysis;

/**
 * The per-position figures of the analyses, over logits rows, in double: log-softmax, greedy choice, KL divergence
 * and cosine similarity. −∞ logits (RAST's masked padding ids) carry no probability.
 */
public final class Distributions {
    private Distributions() {}

    /** log softmax(logits[0..n)) into {@code out} (length ≥ n); −∞ stays −∞. */
    public static double[] logSoftmax(float[] logits, int n, double[] out) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, logits[i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(logits[i] - max);
        double logZ = max + Math.log(sum);
        for (int i = 0; i < n; i++) out[i] = logits[i] - logZ;
        return out;
    }

    /** The first index of the largest logit (ties go to the lower id, as greedy sampling picks). */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /**
     * KL(P ‖ Q) = Σᵥ p(v)·(log p(v) − log q(v)) in nats, each a softmax over its own whole row, summed over the ids
     * both rows have (ids only the longer row has are padding: the other model cannot produce them).
     */
    public static double kl(float[] p, float[] q, double[] scratchP, double[] scratchQ) {
        logSoftmax(p, p.length, scratchP);
        logSoftmax(q, q.length, scratchQ);
        int n = Math.min(p.length, q.length);
        double kl = 0;
        for (int v = 0; v < n; v++) {
            double lp = scratchP[v];
            if (lp == Double.NEGATIVE_INFINITY) continue; // p(v) = 0 adds nothing, whatever q(v) is
            kl += Math.exp(lp) * (lp - scratchQ[v]);
        }
        return Math.max(0, kl); // rounding can leave −1e-17 for equal rows
    }

    /** cos(a − b, c − d) over ids [0, n): the angle between two pairs' logit deltas. */
    public static double deltaCosine(float[] a, float[] b, float[] c, float[] d, int n) {
        double dot = 0, x2 = 0, y2 = 0;
        for (int v = 0; v < n; v++) {
            double x = (double) a[v] - b[v], y = (double) c[v] - d[v];
            dot += x * y;
            x2 += x * x;
            y2 += y * y;
        }
        return x2 == 0 || y2 == 0 ? 0 : dot / Math.sqrt(x2 * y2);
    }
}
