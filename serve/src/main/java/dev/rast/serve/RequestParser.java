package dev.rast.serve;

import dev.rast.engine.BadInputException;
import dev.rast.engine.sample.SamplingParams;
import dev.rast.fusion.RastFusion;
import dev.rast.run.ModelSet;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;

/**
 * An OpenAI request body (already parsed JSON) to a {@link Job}: every field's type and range is checked, and a bad
 * one is an {@link ApiError} naming it. Fields this server does not know are ignored, as OpenAI's clients send
 * extras (user, metadata, ...).
 */
final class RequestParser {
    /**
     * A request: its jobs (one per prompt; choice {@code p·n + s} is prompt p's sample s, as OpenAI numbers them), the
     * queue their events arrive on, and how to answer.
     */
    record Parsed(List<Job> jobs, LinkedBlockingQueue<Job.Event> events, String model, boolean stream, boolean includeUsage,
                  boolean returnTokenIds, boolean logprobs, int topLogprobs) {
        /** Choices of the answer: n per prompt. */
        int choices() { return jobs.size() * jobs.getFirst().n; }

        int promptTokens() { return jobs.stream().mapToInt(j -> j.prompt.length).sum(); }

        void cancel() { for (Job j : jobs) j.cancelled = true; }
    }

    /** Most alternatives per token a request may ask for (OpenAI's top_logprobs limit). */
    static final int MAX_TOP_LOGPROBS = 20;

    private final ModelSet models;
    private final ServeConfig config;
    private final int context;

    RequestParser(ModelSet models, ServeConfig config) {
        this.models = models;
        this.config = config;
        int c = Integer.MAX_VALUE;
        for (var m : models.models()) c = Math.min(c, m.config().maxPositionEmbeddings());
        this.context = c;
    }

    Parsed parse(Map<String, Object> body, boolean chat) {
        String model = string(body, "model", null);
        if (model == null) throw ApiError.invalid("model", "model is required (" + config.servedModelName() + " or " + config.rastModelName() + ")");
        float[] lambdas;
        if (model.equals(config.servedModelName())) lambdas = new float[config.pairNames().size()];
        else if (model.equals(config.rastModelName()) && !config.pairNames().isEmpty()) lambdas = models.lambdas().clone();
        else throw new ApiError(400, "invalid_request_error", "model", "model_not_found", "unknown model '" + model
                + "'; this server has " + String.join(", ", modelNames()));
        if (body.containsKey("rast")) lambdas = rastPairs(body.get("rast"));

        List<int[]> prompts = chat ? List.of(chatPrompt(body)) : completionPrompts(body);
        if (prompts.size() > config.queueCapacity())
            throw ApiError.invalid("prompt", prompts.size() + " prompts in one request; this server queues at most " + config.queueCapacity());
        Integer max = integer(body, "max_completion_tokens", 1, Integer.MAX_VALUE);
        if (max == null) max = integer(body, "max_tokens", 1, Integer.MAX_VALUE);
        int[] maxTokens = new int[prompts.size()];
        for (int p = 0; p < prompts.size(); p++) {
            int[] prompt = prompts.get(p);
            String which = prompts.size() == 1 ? "the prompt" : "prompt " + p;
            if (prompt.length == 0) throw ApiError.invalid(chat ? "messages" : "prompt", which + " is empty");
            for (int id : prompt)
                if (id < 0 || id >= models.sharedVocab())
                    throw ApiError.invalid("prompt", "token id " + id + " is outside the vocabulary (0.." + (models.sharedVocab() - 1) + ")");
            // OpenAI's defaults: 16 for completions, the rest of the context for chat.
            maxTokens[p] = max != null ? max : chat ? Math.max(1, context - prompt.length) : 16;
            if ((long) prompt.length + maxTokens[p] > context)
                throw ApiError.invalid(max != null ? "max_tokens" : chat ? "messages" : "prompt", which + " (" + prompt.length
                        + " tokens) plus max_tokens (" + maxTokens[p] + ") is more than the model's context of " + context + " tokens");
        }
        Integer n = integer(body, "n", 1, config.maxN());
        double temperature = number(body, "temperature", 0, 2, 1);
        double topP = number(body, "top_p", Double.MIN_VALUE, 1, 1);
        Integer topK = integer(body, "top_k", -1, Integer.MAX_VALUE); // vLLM's -1 means off, as 0 does here
        double minP = number(body, "min_p", 0, 1, 0);
        Long seed = longValue(body, "seed");
        boolean ignoreEos = bool(body, "ignore_eos", false);
        boolean stream = bool(body, "stream", false);
        boolean includeUsage = false;
        if (body.get("stream_options") instanceof Map<?, ?> so) includeUsage = Boolean.TRUE.equals(so.get("include_usage"));
        else if (body.get("stream_options") != null) throw ApiError.invalid("stream_options", "stream_options must be an object");
        boolean returnIds = bool(body, "return_token_ids", false);
        // Chat: logprobs true, and top_logprobs alternatives per token; completions: logprobs K (K alternatives).
        boolean logprobs;
        int top;
        if (chat) {
            logprobs = bool(body, "logprobs", false);
            Integer t = integer(body, "top_logprobs", 0, MAX_TOP_LOGPROBS);
            if (t != null && t > 0 && !logprobs) throw ApiError.invalid("top_logprobs", "top_logprobs needs logprobs: true");
            top = t == null ? 0 : t;
        } else {
            if (body.get("top_logprobs") != null)
                throw ApiError.invalid("top_logprobs", "top_logprobs is a chat field; completions take logprobs: K (K alternatives per token)");
            Integer k = integer(body, "logprobs", 0, MAX_TOP_LOGPROBS);
            logprobs = k != null;
            top = k == null ? 0 : k;
        }
        SamplingParams params;
        try {
            params = new SamplingParams(temperature < SamplingParams.MIN_TEMPERATURE ? 0 : temperature,
                    topK == null || topK < 0 ? 0 : topK, topP, minP,
                    seed != null ? seed : ThreadLocalRandom.current().nextLong());
        } catch (BadInputException e) {
            throw ApiError.invalid(null, e.getMessage());
        }
        // Only the pairs with λ ≠ 0 run: a pair at 0 adds exactly 0 to every logit, so leaving it out changes nothing.
        int used = 0;
        for (float l : lambdas) if (l != 0) used++;
        int[] pairs = new int[used];
        float[] usedLambdas = new float[used];
        for (int i = 0, k = 0; i < lambdas.length; i++)
            if (lambdas[i] != 0) {
                pairs[k] = i;
                usedLambdas[k++] = lambdas[i];
            }
        RastFusion fusion = used == 0 ? null : new RastFusion(usedLambdas);
        int samples = n == null ? 1 : n;
        List<String> stops = stops(body.get("stop"));
        LinkedBlockingQueue<Job.Event> events = new LinkedBlockingQueue<>();
        List<Job> jobs = new ArrayList<>();
        for (int p = 0; p < prompts.size(); p++)
            jobs.add(new Job(prompts.get(p), samples, maxTokens[p], params, stops, ignoreEos, fusion, pairs, top, p * samples, events));
        return new Parsed(jobs, events, model, stream, includeUsage, returnIds, logprobs, top);
    }

    List<String> modelNames() {
        return config.pairNames().isEmpty() ? List.of(config.servedModelName())
                : List.of(config.servedModelName(), config.rastModelName());
    }

    /** {"pairs": [{"name": N, "lambda": L}, ...]}: the pairs named, at L (default: the pair's own λ); others are off. */
    private float[] rastPairs(Object rast) {
        if (!(rast instanceof Map<?, ?> r)) throw ApiError.invalid("rast", "rast must be an object {\"pairs\": [{\"name\": ..., \"lambda\": ...}]}");
        if (!(r.get("pairs") instanceof List<?> pairs)) throw ApiError.invalid("rast.pairs", "rast.pairs must be a list of {\"name\", \"lambda\"}");
        float[] lambdas = new float[config.pairNames().size()];
        for (Object p : pairs) {
            if (!(p instanceof Map<?, ?> pair) || !(pair.get("name") instanceof String name))
                throw ApiError.invalid("rast.pairs", "each of rast.pairs must be an object with a string \"name\"");
            int i = config.pairNames().indexOf(name);
            if (i < 0) throw ApiError.invalid("rast.pairs", "unknown pair '" + name + "'; this server has "
                    + (config.pairNames().isEmpty() ? "no pairs" : String.join(", ", config.pairNames())));
            Object l = pair.get("lambda");
            if (l == null) lambdas[i] = models.lambdas()[i];
            else if (l instanceof Number num && Double.isFinite(num.doubleValue()) && !(l instanceof BigInteger)) lambdas[i] = num.floatValue();
            else throw ApiError.invalid("rast.pairs", "lambda of pair '" + name + "' must be a finite number");
        }
        return lambdas;
    }

    /**
     * OpenAI's prompt forms: a string, a list of token ids (one prompt each), or a list of strings or of token-id lists
     * (several prompts).
     */
    private List<int[]> completionPrompts(Map<String, Object> body) {
        Object p = body.get("prompt");
        if (p == null) throw ApiError.invalid("prompt", "prompt is required");
        if (p instanceof String text) return List.of(tokenizer().encode(text, true));
        if (p instanceof List<?> list && !list.isEmpty()) {
            int[] ids = ids(list);
            if (ids != null) return List.<int[]>of(ids);
            List<int[]> prompts = new ArrayList<>();
            for (Object o : list) {
                if (o instanceof String text) prompts.add(tokenizer().encode(text, true));
                else if (o instanceof List<?> l && !l.isEmpty() && (ids = ids(l)) != null) prompts.add(ids);
                else {
                    prompts = null;
                    break;
                }
            }
            if (prompts != null) return prompts;
        }
        throw ApiError.invalid("prompt", "prompt must be a string, a list of token ids, or a list of several prompts"
                + " (strings or non-empty lists of token ids)");
    }

    /** The list as token ids, or null when it is not a list of non-negative integers. */
    private static int[] ids(List<?> list) {
        if (!list.stream().allMatch(o -> o instanceof Long l && l >= 0 && l <= Integer.MAX_VALUE)) return null;
        int[] ids = new int[list.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = (int) (long) (Long) list.get(i);
        return ids;
    }

    private int[] chatPrompt(Map<String, Object> body) {
        if (!(body.get("messages") instanceof List<?> messages) || messages.isEmpty())
            throw ApiError.invalid("messages", "messages must be a non-empty list of {\"role\", \"content\"}");
        List<Map<String, ?>> maps = new ArrayList<>();
        for (Object m : messages) {
            if (!(m instanceof Map<?, ?> msg) || !(msg.get("role") instanceof String role) || !(msg.get("content") instanceof String content))
                throw ApiError.invalid("messages", "each message must be an object with string \"role\" and \"content\"");
            maps.add(Map.of("role", role, "content", content));
        }
        String text;
        try {
            text = models.chatTemplate().renderMaps(maps, true, Map.of());
        } catch (BadInputException e) {
            throw ApiError.invalid("messages", e.getMessage());
        }
        // The template writes its own BOS, as rast generate --chat encodes it.
        return tokenizer().encode(text, false);
    }

    private dev.rast.text.tokenizer.Tokenizer tokenizer() {
        if (models.tokenizer() == null) throw ApiError.invalid("prompt", "the model has no tokenizer: give the prompt as token ids");
        return models.tokenizer();
    }

    private static List<String> stops(Object stop) {
        if (stop == null) return List.of();
        if (stop instanceof String s) return s.isEmpty() ? List.of() : List.of(s);
        if (stop instanceof List<?> list && list.size() <= 4 && list.stream().allMatch(o -> o instanceof String s && !s.isEmpty()))
            return list.stream().map(String.class::cast).toList();
        throw ApiError.invalid("stop", "stop must be a string or a list of at most 4 non-empty strings");
    }

    private static String string(Map<String, Object> body, String name, String dflt) {
        Object v = body.get(name);
        if (v == null) return dflt;
        if (v instanceof String s) return s;
        throw ApiError.invalid(name, name + " must be a string");
    }

    private static boolean bool(Map<String, Object> body, String name, boolean dflt) {
        Object v = body.get(name);
        if (v == null) return dflt;
        if (v instanceof Boolean b) return b;
        throw ApiError.invalid(name, name + " must be true or false");
    }

    private static Integer integer(Map<String, Object> body, String name, int min, int max) {
        Object v = body.get(name);
        if (v == null) return null;
        if (v instanceof Long l && l >= min && l <= max) return (int) (long) l;
        throw ApiError.invalid(name, name + (min == max ? " must be " + min + " (other values are not supported yet)"
                : " must be an integer from " + min + (max == Integer.MAX_VALUE ? " up" : " to " + max)));
    }

    private static Long longValue(Map<String, Object> body, String name) {
        Object v = body.get(name);
        if (v == null) return null;
        if (v instanceof Long l) return l;
        throw ApiError.invalid(name, name + " must be a 64-bit integer");
    }

    private static double number(Map<String, Object> body, String name, double min, double max, double dflt) {
        Object v = body.get(name);
        if (v == null) return dflt;
        if (v instanceof Number num && !(v instanceof BigInteger)) {
            double d = num.doubleValue();
            if (d >= min && d <= max) return d;
        }
        throw ApiError.invalid(name, name + " must be a number from " + (min == Double.MIN_VALUE ? "above 0" : min) + " to " + max);
    }
}
