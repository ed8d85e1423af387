package dev.rast.text.tokenizer;

import dev.rast.engine.json.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The part of tokenizer.json's {@code post_processor} that changes ids of a single sequence: a
 * {@code TemplateProcessing} "single" template such as Llama 3's {@code <|begin_of_text|> $A}. ByteLevel
 * post-processing only adjusts offsets, so it adds nothing here.
 */
final class PostProcessor {
    private final int[] before;
    private final int[] after;

    private PostProcessor(int[] before, int[] after) {
        this.before = before;
        this.after = after;
    }

    int[] apply(int[] ids) {
        int[] out = new int[before.length + ids.length + after.length];
        System.arraycopy(before, 0, out, 0, before.length);
        System.arraycopy(ids, 0, out, before.length, ids.length);
        System.arraycopy(after, 0, out, before.length + ids.length, after.length);
        return out;
    }

    /** Ids placed before the text (BOS), for callers that need to know. */
    int[] prefix() { return before.clone(); }

    static PostProcessor read(Object o, Tokenizer t) {
        List<Integer> before = new ArrayList<>(), after = new ArrayList<>();
        collect(o, "post_processor", t, before, after);
        return new PostProcessor(before.stream().mapToInt(Integer::intValue).toArray(),
                after.stream().mapToInt(Integer::intValue).toArray());
    }

    private static void collect(Object o, String where, Tokenizer t, List<Integer> before, List<Integer> after) {
        if (o == null) return;
        Map<String, Object> p = t.object(o, where);
        String type = t.string(p.get("type"), where + ".type");
        switch (type) {
            case "ByteLevel" -> { }
            case "Sequence" -> {
                if (!(p.get("processors") instanceof List<?> l)) throw t.bad(where + ".processors is not a list");
                for (int i = 0; i < l.size(); i++) collect(l.get(i), where + ".processors[" + i + "]", t, before, after);
            }
            case "TemplateProcessing" -> {
                if (!(p.get("single") instanceof List<?> single)) throw t.bad(where + ".single is not a list");
                Map<String, Object> specials = t.object(p.get("special_tokens"), where + ".special_tokens");
                boolean seenSequence = false;
                for (int i = 0; i < single.size(); i++) {
                    Map<String, Object> item = t.object(single.get(i), where + ".single[" + i + "]");
                    if (item.containsKey("Sequence")) {
                        seenSequence = true;
                    } else if (item.get("SpecialToken") instanceof Map<?, ?> st && st.get("id") instanceof String name) {
                        Map<String, Object> spec = t.object(specials.get(name), where + ".special_tokens[" + Json.quote(name) + "]");
                        if (!(spec.get("ids") instanceof List<?> ids)) throw t.bad(where + ".special_tokens[" + Json.quote(name) + "].ids is not a list");
                        for (Object id : ids) {
                            if (!(id instanceof Long v) || v < 0 || v > Integer.MAX_VALUE || t.token((int) (long) v) == null)
                                throw t.bad(where + ".special_tokens[" + Json.quote(name) + "] has an id outside the vocabulary: " + id);
                            (seenSequence ? after : before).add((int) (long) v);
                        }
                    } else {
                        throw t.bad(where + ".single[" + i + "] is neither a Sequence nor a SpecialToken");
                    }
                }
            }
            default -> throw t.bad(where + " type '" + type + "' is not supported (rast supports TemplateProcessing and ByteLevel)");
        }
    }
}
