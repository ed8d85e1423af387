package dev.rast.engine.backend;

import dev.rast.engine.sample.SamplingParams;
import dev.rast.engine.tensor.Tensor;
import java.util.List;

/**
 * An optional capability of a {@link Backend} whose tensors live off the host (the CUDA backend): RAST fusion and
 * token choice on logits rows where they are, so that only the chosen ids and their log-probabilities travel to the
 * host. The generation loop uses it when the backend has it ({@code backend instanceof DeviceLogits}) and the host
 * path is not forced; the results are those of {@code RastFusion} and {@code Sampler} on the downloaded rows, up to
 * F32 rounding of sums (see {@link #choose}).
 */
public interface DeviceLogits {
    /**
     * {@code out[r, v] = m[r, v] + Σᵢ λᵢ·(experts[i][r, v] − bases[i][r, v])} for v &lt; {@code shared}, −∞ from
     * there to out's width, summed left to right in F32 (RastFusion.fusedLogit). out and m: F32 {@code [rows, vocabM]};
     * each expert and base F32 {@code [rows, ≥ shared]}.
     */
    void fuse(Tensor out, Tensor m, List<Tensor> experts, List<Tensor> bases, float[] lambdas, int shared);

    /**
     * One token per row of F32 {@code logits [rows, width]} by the rules of the host {@code Sampler} for
     * {@code params} (temperature → top-k → top-p → min-p → inverse-CDF draw; argmax at temperature 0, lowest id on
     * ties), the draw of row r at {@code uniforms[r]} (the host generator's {@code nextDouble()}; unread when greedy).
     * Writes {@code logprobs[r]}: log_softmax of row r, as given, at its chosen id. Sums run in F32 where the host
     * sums in double, so the two can choose differently only when a threshold or the draw lies within F32 rounding
     * (~1e-6 relative) of a boundary.
     */
    int[] choose(Tensor logits, SamplingParams params, double[] uniforms, double[] logprobs);

    /**
     * Row copies between F32 tensors, for every table t at once: {@code dst[t][dstRows[i]] = src[t][srcRows[i]]} for
     * i &lt; n, where a null index array means the identity (row i) and n is the length of the one given (both given:
     * equal lengths). Within a table src and dst have the same width; tables may differ. A gather ({@code dstRows}
     * null: the rows of one step's sequences lined up for {@link #fuse} and {@link #choose}) or a scatter
     * ({@code srcRows} null: a step's logits into each sequence's slot) in one launch instead of one copy per row.
     * Rows of dst must not repeat.
     */
    void gatherRows(List<Tensor> src, int[] srcRows, List<Tensor> dst, int[] dstRows);
}
