package dev.rast.serve;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Log-probabilities of generated tokens and their most likely alternatives, and OpenAI's two shapes for them. Every
 * value is log_softmax of the row the token was chosen from (the fused row for RAST), before temperature and
 * truncation: what the engine's Sampler reports for the chosen token and {@code rast generate --json} prints.
 */
final class Logprobs {
    private Logprobs() {}

    /** One generated token: its id and log-probability, and the {@code top} most likely ids with theirs (most likely first). */
    record Token(int id, double logprob, int[] topIds, double[] topLogprobs) {}

    /**
     * The token {@code id}, chosen with log-probability {@code logprob} from {@code row}, with the {@code top} largest
     * entries of the row as alternatives (ties: the lower id first). The row's log-normalizer is recovered from the
     * chosen token (log Z = row[id] − logprob), so the alternatives are on the same scale at no second pass over the
     * vocabulary's exponentials.
     */
    static Token of(float[] row, int id, double logprob, int top) {
        if (top == 0) return new Token(id, logprob, new int[0], new double[0]);
        int[] ids = topIds(row, top);
        double logZ = row[id] - logprob;
        double[] lp = new double[ids.length];
        for (int i = 0; i < ids.length; i++) lp[i] = row[ids[i]] - logZ;
        return new Token(id, logprob, ids, lp);
    }

    /** The ids of the k largest finite entries of {@code row}, largest first, the lower id first among equals. */
    static int[] topIds(float[] row, int k) {
        int[] best = new int[k];
        int n = 0;
        for (int v = 0; v < row.length; v++) {
            float x = row[v];
            if (x == Float.NEGATIVE_INFINITY) continue;
            if (n == k && !(x > row[best[k - 1]])) continue;
            int at = n < k ? n++ : k - 1; // insertion into the sorted list, dropping the last when full
            while (at > 0 && x > row[best[at - 1]]) {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = v;
        }
        return java.util.Arrays.copyOf(best, n);
    }

    /** Chat's {"content": [{"token", "logprob", "bytes", "top_logprobs": [{"token", "logprob", "bytes"}]}]}. */
    static Map<String, Object> chat(Token[] tokens, IntFunction<String> text) {
        List<Object> content = new ArrayList<>();
        for (Token t : tokens) {
            Map<String, Object> e = entry(text.apply(t.id()), t.logprob());
            List<Object> top = new ArrayList<>();
            for (int i = 0; i < t.topIds().length; i++) top.add(entry(text.apply(t.topIds()[i]), t.topLogprobs()[i]));
            e.put("top_logprobs", top);
            content.add(e);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("content", content);
        return out;
    }

    private static Map<String, Object> entry(String token, double logprob) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("token", token);
        e.put("logprob", logprob);
        List<Integer> bytes = new ArrayList<>();
        for (byte b : token.getBytes(StandardCharsets.UTF_8)) bytes.add(b & 0xFF);
        e.put("bytes", bytes);
        return e;
    }

    /**
     * Completions' {"tokens", "token_logprobs", "top_logprobs", "text_offset"}: top_logprobs is null when no
     * alternatives were asked for, else one {text: logprob} object per token (alternatives whose texts coincide keep
     * the most likely); offsets count characters from {@code offset}.
     */
    static Map<String, Object> completion(Token[] tokens, IntFunction<String> text, boolean alternatives, int offset) {
        List<String> pieces = new ArrayList<>();
        List<Object> lps = new ArrayList<>(), tops = new ArrayList<>();
        List<Integer> offsets = new ArrayList<>();
        int at = offset;
        for (Token t : tokens) {
            String piece = text.apply(t.id());
            pieces.add(piece);
            lps.add(t.logprob());
            offsets.add(at);
            at += piece.length();
            Map<String, Object> top = new LinkedHashMap<>();
            for (int i = 0; i < t.topIds().length; i++) top.putIfAbsent(text.apply(t.topIds()[i]), t.topLogprobs()[i]);
            tops.add(top);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("tokens", pieces);
        out.put("token_logprobs", lps);
        out.put("top_logprobs", alternatives ? tops : null);
        out.put("text_offset", offsets);
        return out;
    }
}
