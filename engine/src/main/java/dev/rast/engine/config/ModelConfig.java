package dev.rast.engine.config;

import dev.rast.engine.BadInputException;
import dev.rast.engine.files.InputFiles;
import dev.rast.engine.json.Json;
import dev.rast.engine.tensor.DType;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face {@code config.json}, normalized once. Reads both layouts: as published with Qwen2.5 and
 * Llama-3.1 ({@code rope_theta}, {@code rope_scaling}, {@code torch_dtype}) and as transformers 5 saves it
 * ({@code rope_parameters}, {@code dtype}).
 */
public record ModelConfig(
        Path file,
        String architecture,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int vocabSize,
        int maxPositionEmbeddings,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        boolean tieWordEmbeddings,
        boolean attentionBias,
        DType torchDtype,
        List<Integer> eosTokenIds,
        Integer bosTokenId,
        Map<String, Object> raw) {

    public static final String FILE = "config.json";

    public static ModelConfig load(Path modelDir) {
        if (!Files.isDirectory(modelDir)) throw new BadInputException(modelDir + ": model directory does not exist");
        Path file = modelDir.resolve(FILE);
        byte[] bytes = InputFiles.read(file, InputFiles.CONFIG_MAX_BYTES, "file not found (every model folder needs a config.json)");
        return parse(file, Json.parseObject(bytes, file));
    }

    public static ModelConfig parse(Path file, String text) {
        return parse(file, Json.parseObject(text, file));
    }

    private static ModelConfig parse(Path file, Map<String, Object> root) {
        Fields f = new Fields(file, root);

        List<Object> archs = f.list("architectures");
        if (archs == null || archs.isEmpty() || !(archs.getFirst() instanceof String arch))
            throw f.bad("architectures", "is missing or empty (it names the model class, e.g. Qwen2ForCausalLM)");
        String act = f.string("hidden_act", "silu");
        if (!act.equals("silu")) throw f.bad("hidden_act", "is '" + act + "'; only 'silu' is supported");
        if (f.bool("use_sliding_window", false))
            throw f.bad("use_sliding_window", "is true; sliding-window attention is not supported");

        int hidden = f.positiveInt("hidden_size");
        int heads = f.positiveInt("num_attention_heads");
        int kvHeads = f.has("num_key_value_heads") ? f.positiveInt("num_key_value_heads") : heads;
        if (heads % kvHeads != 0)
            throw f.bad("num_key_value_heads", "= " + kvHeads + " does not divide num_attention_heads = " + heads);
        int headDim;
        if (f.has("head_dim")) headDim = f.positiveInt("head_dim");
        else if (hidden % heads != 0)
            throw f.bad("head_dim", "is absent and hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads);
        else headDim = hidden / heads;
        if (headDim % 2 != 0) throw f.bad("head_dim", "= " + headDim + " must be even for rotary embeddings");
        // Weight shapes and activations are indexed with ints: num_attention_heads × head_dim must be one.
        if ((long) heads * headDim > Integer.MAX_VALUE)
            throw f.bad("head_dim", "= " + headDim + " times num_attention_heads = " + heads + " is "
                    + (long) heads * headDim + ", more than a tensor dimension can hold (" + Integer.MAX_VALUE + ")");

        // transformers 5 folds rope_theta and rope_scaling into rope_parameters.
        Map<String, Object> ropeParams = f.map("rope_parameters");
        double theta;
        Map<String, Object> scaling;
        if (ropeParams != null) {
            Fields rp = new Fields(file, ropeParams, "rope_parameters.");
            theta = rp.has("rope_theta") ? rp.positiveDouble("rope_theta") : f.positiveDouble("rope_theta", 10000);
            scaling = ropeParams;
        } else {
            theta = f.positiveDouble("rope_theta", 10000);
            scaling = f.map("rope_scaling");
        }
        RopeScaling rope = scaling == null ? RopeScaling.NONE
                : parseScaling(new Fields(file, scaling, ropeParams != null ? "rope_parameters." : "rope_scaling."));

        String dtypeName = f.has("dtype") ? f.string("dtype", null) : f.string("torch_dtype", "float32");
        DType dtype = DType.fromTorchName(dtypeName)
                .orElseThrow(() -> f.bad(f.has("dtype") ? "dtype" : "torch_dtype", "'" + dtypeName + "' is not float32, bfloat16 or float16"));

        return new ModelConfig(file, arch, hidden, f.positiveInt("intermediate_size"),
                f.positiveInt("num_hidden_layers"), heads, kvHeads, headDim, f.positiveInt("vocab_size"),
                f.has("max_position_embeddings") ? f.positiveInt("max_position_embeddings") : 4096,
                f.positiveDouble("rms_norm_eps", 1e-6), theta, rope, f.bool("tie_word_embeddings", false),
                f.bool("attention_bias", false), dtype, f.intOrList("eos_token_id"),
                f.has("bos_token_id") ? f.intOrList("bos_token_id").stream().findFirst().orElse(null) : null,
                f.root);
    }

    private static RopeScaling parseScaling(Fields s) {
        String type = s.has("rope_type") ? s.string("rope_type", null) : s.string("type", "default");
        return switch (type) {
            case "default" -> RopeScaling.NONE;
            case "linear" -> RopeScaling.linear(s.positiveDouble("factor"));
            case "llama3" -> RopeScaling.llama3(s.positiveDouble("factor"), s.positiveDouble("low_freq_factor"),
                    s.positiveDouble("high_freq_factor"), s.positiveInt("original_max_position_embeddings"));
            default -> throw s.bad(s.has("rope_type") ? "rope_type" : "type",
                    "'" + type + "' is not supported (default, linear and llama3 are)");
        };
    }

    public int qDim() { return numHeads * headDim; }

    public int kvDim() { return numKvHeads * headDim; }

    /** Typed access to a JSON object with error messages that name the file and the field. */
    private static final class Fields {
        final Path file;
        final Map<String, Object> root;
        final String prefix;

        Fields(Path file, Map<String, Object> root) { this(file, root, ""); }

        Fields(Path file, Map<String, Object> root, String prefix) {
            this.file = file;
            this.root = root;
            this.prefix = prefix;
        }

        BadInputException bad(String field, String what) {
            return new BadInputException(file + ": field '" + prefix + field + "' " + what);
        }

        /** Present and not null. */
        boolean has(String k) { return root.get(k) != null; }

        Object get(String k) {
            if (!has(k)) throw bad(k, "is missing");
            return root.get(k);
        }

        int positiveInt(String k) {
            Object v = get(k);
            if (v instanceof BigInteger) throw bad(k, "must be a positive integer, is " + v);
            if (!(v instanceof Long l)) throw bad(k, "must be an integer, is " + v);
            if (l <= 0 || l > Integer.MAX_VALUE) throw bad(k, "must be a positive integer, is " + l);
            return (int) (long) l;
        }

        double positiveDouble(String k) {
            Object v = get(k);
            if (!(v instanceof Number n)) throw bad(k, "must be a number, is " + v);
            if (!(n.doubleValue() > 0) || Double.isInfinite(n.doubleValue())) throw bad(k, "must be positive, is " + v);
            return n.doubleValue();
        }

        double positiveDouble(String k, double dflt) { return has(k) ? positiveDouble(k) : dflt; }

        boolean bool(String k, boolean dflt) {
            if (!has(k)) return dflt;
            if (!(root.get(k) instanceof Boolean b)) throw bad(k, "must be true or false, is " + root.get(k));
            return b;
        }

        String string(String k, String dflt) {
            if (!has(k)) {
                if (dflt == null) throw bad(k, "is missing");
                return dflt;
            }
            if (!(root.get(k) instanceof String s)) throw bad(k, "must be a string, is " + root.get(k));
            return s;
        }

        @SuppressWarnings("unchecked")
        Map<String, Object> map(String k) {
            if (!has(k)) return null;
            if (!(root.get(k) instanceof Map<?, ?> m)) throw bad(k, "must be an object");
            return (Map<String, Object>) m;
        }

        @SuppressWarnings("unchecked")
        List<Object> list(String k) {
            if (!has(k)) return null;
            if (!(root.get(k) instanceof List<?> l)) throw bad(k, "must be an array");
            return (List<Object>) l;
        }

        List<Integer> intOrList(String k) {
            List<Integer> out = new ArrayList<>();
            if (!has(k)) return out;
            Object v = root.get(k);
            List<?> items = v instanceof List<?> l ? l : List.of(v);
            for (Object o : items) {
                if (!(o instanceof Long l) || l < 0 || l > Integer.MAX_VALUE) throw bad(k, "must be token ids, is " + v);
                out.add((int) (long) l);
            }
            return List.copyOf(out);
        }
    }
}
