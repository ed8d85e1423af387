package dev.rast.fusion;

import dev.rast.engine.BadInputException;
import dev.rast.engine.sample.Sampler;
import java.util.Arrays;

/**
 * RAST's logit fusion: {@code fused = M + Σᵢ λᵢ·(Eᵢ − Bᵢ)}, where M is the large base model, Eᵢ a small RL-trained
 * expert and Bᵢ the small base it was trained from. It works on the raw f32 logits, before temperature and any
 * truncation (the paper's order), and its output feeds {@link Sampler}.
 *
 * <p>Vocabulary alignment: the models may have different logit row lengths (Qwen2.5 7B and up pad to 152064 rows,
 * 0.5B–3B to 151936). Ids below the shared size (the shortest row) are fused; ids from there to the end of M's row
 * get −∞, so they are never chosen and carry no probability.
 */
public final class RastFusion {
    private final float[] lambdas;

    /** One λ per expert pair, in the order the pairs' logits will be passed. */
    public RastFusion(float... lambdas) {
        for (int i = 0; i < lambdas.length; i++)
            if (!Float.isFinite(lambdas[i])) throw new BadInputException("lambda of expert pair " + (i + 1) + " must be a finite number, is " + lambdas[i]);
        this.lambdas = lambdas.clone();
    }

    public int pairs() { return lambdas.length; }

    public float lambda(int pair) { return lambdas[pair]; }

    /** The number of ids every model has a logit for: the shortest row. */
    public static int sharedVocab(float[] base, float[][] experts, float[][] expertBases) {
        int shared = base.length;
        for (float[] e : experts) shared = Math.min(shared, e.length);
        for (float[] b : expertBases) shared = Math.min(shared, b.length);
        return shared;
    }

    /**
     * Fuses one row: {@code experts[i]} and {@code expertBases[i]} are pair i's logits. Writes {@code out} (as long
     * as {@code base}) and returns it.
     */
    public float[] fuse(float[] base, float[][] experts, float[][] expertBases, float[] out) {
        if (experts.length != lambdas.length || expertBases.length != lambdas.length)
            throw new IllegalArgumentException(lambdas.length + " expert pairs expected, got " + experts.length
                    + " experts and " + expertBases.length + " expert bases");
        if (out.length != base.length)
            throw new IllegalArgumentException("output row has " + out.length + " entries, base row " + base.length);
        int shared = sharedVocab(base, experts, expertBases);
        for (int v = 0; v < shared; v++) out[v] = fusedLogit(base, experts, expertBases, v);
        Arrays.fill(out, shared, out.length, Float.NEGATIVE_INFINITY);
        return out;
    }

    /**
     * Fuses the rows of one sequence given in model order M, E₁, B₁, E₂, B₂, ... (the order a lockstep run holds
     * them), writing the result into M's row {@code rows[0]} and returning it.
     */
    public float[] fuseInPlace(float[][] rows) {
        int p = lambdas.length;
        if (rows.length != 1 + 2 * p)
            throw new IllegalArgumentException((1 + 2 * p) + " rows expected (M and " + p + " pairs), got " + rows.length);
        float[][] experts = new float[p][], bases = new float[p][];
        for (int i = 0; i < p; i++) {
            experts[i] = rows[1 + 2 * i];
            bases[i] = rows[2 + 2 * i];
        }
        return fuse(rows[0], experts, bases, rows[0]);
    }

    /**
     * The whole method, for one id: M + Σᵢ λᵢ·(Eᵢ − Bᵢ), in f32, pairs added in order. Taking the difference first
     * keeps the small models' shared offset (large, and common to Eᵢ and Bᵢ) out of the rounding.
     */
    private float fusedLogit(float[] base, float[][] experts, float[][] expertBases, int v) {
        float acc = base[v];
        for (int i = 0; i < lambdas.length; i++) acc += lambdas[i] * (experts[i][v] - expertBases[i][v]);
        return acc;
    }
}
