package dev.rast.eval.report;

import dev.rast.engine.BadInputException;
import dev.rast.run.SampleRunner;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The contents of a run's {@code settings.json}: what was run, so a report can say it. {@code dataset},
 * {@code n} and {@code format} are required; the rest may be absent (null) for runs made elsewhere.
 *
 * @param experts the RAST expert pairs (an RL-trained small model and its base), empty for a plain run
 * @param lambdas one fusion weight per expert pair
 * @param dataset the data set name or JSONL path (several, comma-separated, when a run covers several)
 * @param n samples per problem
 * @param limit the number of problems run, when fewer than the whole data set
 * @param dtype {@code --dtype}, what the weights were computed in ("auto" when absent: runs from before it existed)
 * @param kvCacheDtype {@code --kv-cache-dtype} ("auto" when absent)
 * @param topK {@code --top-k} (0, off, when absent: runs from before it was recorded could not have set it otherwise
 *     and been resumed)
 * @param minP {@code --min-p} (0 when absent)
 * @param stop the {@code --stop} strings given (the format's own are implied by {@code format}; none when absent)
 * @param ignoreEos {@code --ignore-eos} (false when absent)
 * @param tokenizer the folder whose tokenizer.json the run used: {@code --tokenizer}, else the model's (the model when absent)
 */
public record RunSettings(String model, List<Expert> experts, List<Double> lambdas, String dataset, int n,
                          Double temperature, Double topP, Integer maxTokens, String format, Long seed, Integer limit,
                          String dtype, String kvCacheDtype, Integer topK, Double minP, List<String> stop, Boolean ignoreEos,
                          String tokenizer) {

    /** One expert pair: the RL-trained small model and the base it was trained from. */
    public record Expert(String expert, String base) {}

    public RunSettings {
        experts = experts == null ? List.of() : List.copyOf(experts);
        lambdas = lambdas == null ? List.of() : List.copyOf(lambdas);
        if (n < 1) throw new BadInputException("settings: n must be at least 1, got " + n);
        dtype = dtype == null ? "auto" : dtype;
        kvCacheDtype = kvCacheDtype == null ? "auto" : kvCacheDtype;
        topK = topK == null ? 0 : topK;
        minP = minP == null ? 0.0 : minP;
        stop = stop == null ? List.of() : List.copyOf(stop);
        ignoreEos = ignoreEos != null && ignoreEos;
        // The tokenizer is the model folder's unless --tokenizer named another; folders from before it was recorded used the model's.
        tokenizer = tokenizer == null ? model : tokenizer;
    }

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model);
        List<Object> ex = new ArrayList<>();
        for (Expert e : experts) {
            Map<String, Object> em = new LinkedHashMap<>();
            em.put("expert", e.expert());
            em.put("base", e.base());
            ex.add(em);
        }
        m.put("experts", ex);
        m.put("lambdas", lambdas);
        m.put("dataset", dataset);
        m.put("n", n);
        m.put("temperature", temperature);
        m.put("top_p", topP);
        m.put("max_tokens", maxTokens);
        m.put("format", format);
        m.put("seed", seed);
        m.put("limit", limit);
        m.put("dtype", dtype);
        m.put("kv_cache_dtype", kvCacheDtype);
        m.put("top_k", topK);
        m.put("min_p", minP);
        m.put("stop", stop);
        m.put("ignore_eos", ignoreEos);
        m.put("tokenizer", tokenizer);
        return m;
    }

    /** Reads settings.json's object; {@code source} names the file in errors. */
    public static RunSettings fromJson(Map<String, Object> m, String source) {
        Fields f = new Fields(m, source);
        List<Expert> experts = new ArrayList<>();
        for (Object o : f.list("experts")) {
            if (!(o instanceof Map<?, ?> e) || !(e.get("expert") instanceof String ex) || !(e.get("base") instanceof String b))
                throw new BadInputException(source + ": each of 'experts' must be {\"expert\": DIR, \"base\": DIR}");
            experts.add(new Expert(ex, b));
        }
        List<Double> lambdas = new ArrayList<>();
        for (Object o : f.list("lambdas")) {
            if (!(o instanceof Number x)) throw new BadInputException(source + ": 'lambdas' must be a list of numbers");
            lambdas.add(x.doubleValue());
        }
        Integer n = f.int32("n");
        if (n == null) throw new BadInputException(source + ": missing field 'n' (samples per problem)");
        // A report keeps every problem's samples: a hand-edited n in the billions must not size anything.
        if (n > SampleRunner.MAX_SAMPLES_PER_PROMPT)
            throw new BadInputException(source + ": n " + n + " is more than " + SampleRunner.MAX_SAMPLES_PER_PROMPT
                    + " samples per problem, the most rast makes");
        String dataset = f.string("dataset"), format = f.string("format");
        if (dataset == null) throw new BadInputException(source + ": missing field 'dataset'");
        if (format == null) throw new BadInputException(source + ": missing field 'format'");
        Integer maxTokens = f.count("max_tokens"), limit = f.count("limit");
        List<String> stop = new ArrayList<>();
        for (Object o : f.list("stop")) {
            if (!(o instanceof String x)) throw new BadInputException(source + ": 'stop' must be a list of strings");
            stop.add(x);
        }
        return new RunSettings(f.string("model"), experts, lambdas, dataset, n, f.number("temperature"),
                f.number("top_p"), maxTokens, format, f.integer("seed"), limit, f.string("dtype"), f.string("kv_cache_dtype"),
                f.count("top_k"), f.number("min_p"), stop, f.bool("ignore_eos"), f.string("tokenizer"));
    }
}
