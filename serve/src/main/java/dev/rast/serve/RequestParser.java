package dev.rast.serve;

import dev.rast.engine.BadInputException;
import dev.rast.engine.sample.SamplingParams;
import dev.rast.fusion.RastFusion;
import dev.rast.run.ModelSet;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * An OpenAI request body (already parsed JSON) to a {@link Job}: every field's type and range is checked, and a bad
 * one is an {@link ApiError} naming it. Fields this server does not know are ignored, as OpenAI's clients send
 * extras (user, metadata, ...).
 */
final class RequestParser {
    /** What a request asked for besides its job: how to answer. */
    record Parsed(Job job, String model, boolean stream, boolean includeUsage, boolean returnTokenIds, boolean logprobs) {}

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

        int[] prompt = chat ? chatPrompt(body) : completionPrompt(body);
        if (prompt.length == 0) throw ApiError.invalid(chat ? "messages" : "prompt", "the prompt is empty");
        for (int id : prompt)
            if (id < 0 || id >= models.sharedVocab())
                throw ApiError.invalid("prompt", "token id " + id + " is outside the vocabulary (0.." + (models.sharedVocab() - 1) + ")");
        Integer max = integer(body, "max_completion_tokens", 1, Integer.MAX_VALUE);
        if (max == null) max = integer(body, "max_tokens", 1, Integer.MAX_VALUE);
        // OpenAI's defaults: 16 for completions, the rest of the context for chat.
        int maxTokens = max != null ? max : chat ? Math.max(1, context - prompt.length) : 16;
        if ((long) prompt.length + maxTokens > context)
            throw ApiError.invalid(max != null ? "max_tokens" : chat ? "messages" : "prompt", "the prompt (" + prompt.length
                    + " tokens) plus max_tokens (" + maxTokens + ") is more than the model's context of " + context + " tokens");
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
        // The chosen tokens' log-probabilities only: chat's logprobs true (top_logprobs 0), completions' logprobs 0.
        boolean logprobs = chat ? bool(body, "logprobs", false) : integer(body, "logprobs", 0, 0) != null;
        Integer top = integer(body, "top_logprobs", 0, 0);
        if (top != null && !chat) throw ApiError.invalid("top_logprobs", "top_logprobs is a chat field; completions take logprobs: 0");
        if (logprobs && stream) throw ApiError.invalid("logprobs", "logprobs with stream are not supported by this server yet");
        SamplingParams params;
        try {
            params = new SamplingParams(temperature < SamplingParams.MIN_TEMPERATURE ? 0 : temperature,
                    topK == null || topK < 0 ? 0 : topK, topP, minP,
                    seed != null ? seed : ThreadLocalRandom.current().nextLong());
        } catch (BadInputException e) {
            throw ApiError.invalid(null, e.getMessage());
        }
        boolean rast = false;
        for (float l : lambdas) rast |= l != 0;
        Job job = new Job(prompt, n == null ? 1 : n, maxTokens, params, stops(body.get("stop")), ignoreEos,
                rast ? new RastFusion(lambdas) : null);
        return new Parsed(job, model, stream, includeUsage, returnIds, logprobs);
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

    private int[] completionPrompt(Map<String, Object> body) {
        Object p = body.get("prompt");
        if (p instanceof List<?> list && list.size() == 1 && list.getFirst() instanceof String s) p = s;
        if (p instanceof String text) return tokenizer().encode(text, true);
        if (p instanceof List<?> list && !list.isEmpty() && list.stream().allMatch(o -> o instanceof Long l && l >= 0 && l <= Integer.MAX_VALUE)) {
            int[] ids = new int[list.size()];
            for (int i = 0; i < ids.length; i++) ids[i] = (int) (long) (Long) list.get(i);
            return ids;
        }
        if (p == null) throw ApiError.invalid("prompt", "prompt is required");
        throw ApiError.invalid("prompt", "prompt must be a string, a list of one string, or a list of token ids"
                + " (several prompts in one request are not supported)");
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
