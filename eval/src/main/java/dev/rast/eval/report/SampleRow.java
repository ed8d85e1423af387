package dev.rast.eval.report;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One finished sample, one line of a run's {@code samples.jsonl}.
 *
 * @param dataset the data set name the problem is from
 * @param idx the problem's 0-based row in the data set
 * @param sample which of the n samples of that problem (0..n-1)
 * @param completion the generated text
 * @param tokens its length in tokens
 * @param pred the graded prediction, null when the completion had none
 * @param correct the grader's verdict
 * @param problemHash the problem's {@link dev.rast.eval.data.Problem#sourceHash()}: what the sample was made and graded
 *     from; null in rows written before rast kept it
 */
public record SampleRow(String dataset, int idx, int sample, String completion, int tokens, String pred, boolean correct,
                        String problemHash) {

    /** A row without the problem's hash. */
    public SampleRow(String dataset, int idx, int sample, String completion, int tokens, String pred, boolean correct) {
        this(dataset, idx, sample, completion, tokens, pred, correct, null);
    }

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dataset", dataset);
        m.put("idx", idx);
        m.put("sample", sample);
        m.put("completion", completion);
        m.put("tokens", tokens);
        m.put("pred", pred);
        m.put("correct", correct);
        if (problemHash != null) m.put("problem_hash", problemHash);
        return m;
    }

    static SampleRow fromJson(Map<String, Object> m, String where) {
        Fields f = new Fields(m, where);
        return new SampleRow(f.required("dataset", f.string("dataset")), f.required("idx", f.count("idx")),
                f.required("sample", f.count("sample")), f.required("completion", f.string("completion")),
                f.required("tokens", f.count("tokens")), f.string("pred"),
                f.required("correct", f.bool("correct")), f.string("problem_hash"));
    }
}
