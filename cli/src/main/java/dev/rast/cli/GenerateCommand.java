package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.engine.backend.Backend;
import dev.rast.engine.files.RunLock;
import dev.rast.text.chat.PromptFormat;
import dev.rast.engine.json.Json;
import dev.rast.engine.sample.SequenceRandom;
import dev.rast.run.ModelSet;
import dev.rast.run.Sample;
import dev.rast.run.SampleRunner;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Generate text from a model, with RAST when expert pairs are given.", "With RAST: the base model's logits plus λ·(expert − expert base) of one",
                "or more small model pairs, fused every step before temperature and top-p.",
                "Stops at --max-tokens, an end-of-sequence id (generation_config.json / config.json) or a --stop string."},
        footer = {"", "Examples:",
                "  rast generate --model models/Qwen2.5-7B --prompt 'What is 7*8?' --format qwen-boxed --temperature 0",
                "  rast generate --model models/Qwen2.5-7B \\",
                "      --expert models/SimpleRL-Zoo-Qwen2.5-1.5B --expert-base models/Qwen2.5-1.5B --lambda 1.0 \\",
                "      --prompt 'What is 7*8?' --format qwen-boxed --n 4 --temperature 1 --top-p 0.95 --json",
                "  rast generate --model DIR --input prompts.jsonl --output out.jsonl --n 32 --max-tokens 4096",
                "  rast generate --model DIR --prompt-tokens 9707,11,1879 --max-tokens 16 --temperature 0 --json"})
final class GenerateCommand implements Callable<Integer> {
    @Mixin ModelOptions models;

    @ArgGroup(exclusive = true, multiplicity = "1")
    PromptSource source;

    static final class PromptSource {
        @Option(names = "--prompt", paramLabel = "TEXT", description = "Prompt text (see --format / --chat).")
        String text;

        @Option(names = "--prompt-tokens", paramLabel = "IDS", description = "Prompt token ids, comma-separated.")
        String tokens;

        @Option(names = "--input", paramLabel = "FILE", description = "JSONL of prompts: {\"prompt\": TEXT} or {\"prompt_tokens\": [ids]} per line (needs --output).")
        Path input;
    }

    @Option(names = "--format", paramLabel = "NAME", defaultValue = "none",
            description = "How text becomes the prompt: qwen-boxed, abel (the paper's evaluation formats), chat (the model's chat template), none (as given; default).")
    String format;

    @Option(names = "--chat", description = "Same as --format chat.")
    boolean chat;

    @Mixin SamplingOptions sampling;

    @Option(names = "--json", description = "Print one JSON object per sample: {\"tokens\", \"logprobs\", \"text\", \"finish_reason\"}.")
    boolean json;

    @Option(names = "--output", paramLabel = "FILE", description = "With --input: append one JSON line per sample; a re-run skips what is there (resumable).")
    Path output;

    @Option(names = "--batch", paramLabel = "N",
            description = "Most sequences decoding together (default: 32 with --input, where samples of the next prompts fill places as samples finish; all --n of one prompt).")
    Integer batch;

    @Mixin RuntimeOptions runtime;

    @Override
    public Integer call() {
        var params = sampling.withDefaults(SamplingOptions.GENERATE).params();
        if (chat && !format.equals("none") && !format.equals("chat"))
            throw new BadInputException("--chat and --format " + format + " ask for two prompt formats: give one");
        PromptFormat fmt = chat ? PromptFormat.CHAT : PromptFormat.byName(format);
        if (source.tokens != null && fmt != PromptFormat.NONE)
            throw new BadInputException("--prompt-tokens are used as given: " + (chat ? "--chat" : "--format " + fmt.id())
                    + " applies to text prompts (--prompt, or \"prompt\" rows of --input)");
        if (source.input != null && output == null) throw new BadInputException("--input needs --output FILE");
        if (source.input == null && output != null) throw new BadInputException("--output goes with --input");
        if (batch == null) batch = source.input != null ? 32 : sampling.n;
        if (batch < 1) throw new BadInputException("--batch must be at least 1, is " + batch);
        // One run per output file: a second run into it would make every sample again and write each twice.
        try (RunLock lock = output == null ? null : RunLock.beside(output, "rast generate", "--output");
             Backend backend = runtime.open(); ModelSet set = models.load(backend, runtime.weights())) {
            runtime.configure(set.models());
            SampleRunner runner = new SampleRunner(set, params, sampling.maxTokens, sampling.stop, sampling.ignoreEos);
            if (source.input != null) {
                new BatchFile(set, runner, fmt, sampling.n, sampling.seed, batch, sampleSettings(set, fmt)).run(source.input, output);
                return 0;
            }
            int[] prompt = source.text != null ? Prompts.encode(set, fmt, source.text)
                    : Prompts.checkIds("--prompt-tokens", TokenIds.parse("--prompt-tokens", source.tokens), set);
            PrintStream out = Stdout.utf8();
            boolean stream = !json && sampling.n == 1;
            boolean textOut = set.tokenizer() != null;
            SampleRunner.TextListener live = stream && textOut ? (s, chunk) -> { out.print(chunk); out.flush(); } : null;
            List<Sample> samples = runner.run(prompt, sampling.n, batch, sampling.seed, live, null, null);
            for (int s = 0; s < samples.size(); s++) {
                Sample sm = samples.get(s);
                if (json) out.println(toJson(sm, -1, s, Map.of(), Map.of()));
                else if (!textOut) out.println(IntStream.of(sm.tokens()).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
                else if (stream) out.println();
                else out.printf("--- sample %d (%s) ---%n%s%n", s, sm.finishReason(), sm.text());
            }
            out.flush();
        }
        return 0;
    }

    /**
     * What decides an --input prompt's samples besides the prompt itself: the models, the format and every sampling
     * and stopping option (not --n, which only adds samples, nor --batch or --threads, which only change speed).
     * Models are the folders loaded, absolute: "m" and "./m" are one model, and a Hub name is its snapshot folder,
     * so a new revision of the model counts as other settings.
     */
    private Map<String, Object> sampleSettings(ModelSet set, PromptFormat fmt) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", absolute(set.baseDir()));
        List<Object> pairs = new ArrayList<>();
        for (ModelSet.Pair p : set.pairs()) pairs.add(List.of(absolute(p.expert()), absolute(p.base()), (double) p.lambda()));
        m.put("pairs", pairs);
        m.put("format", fmt.id());
        m.put("temperature", sampling.temperature);
        m.put("top_k", sampling.topK);
        m.put("top_p", sampling.topP);
        m.put("min_p", sampling.minP);
        m.put("seed", sampling.seed);
        m.put("max_tokens", sampling.maxTokens);
        m.put("stop", List.copyOf(sampling.stop));
        m.put("ignore_eos", sampling.ignoreEos);
        m.put("dtype", runtime.weights().name());
        m.put("kv_cache_dtype", runtime.kvCache().name());
        return m;
    }

    private static String absolute(Path p) { return p.toAbsolutePath().normalize().toString(); }

    /**
     * One output line. {@code index}, {@code echo} (input fields repeated as given: "id") and {@code source} (what
     * the row was made from, written last) are set for --input rows (index -1: a single prompt). Logprobs have 6
     * significant digits.
     */
    static String toJson(Sample s, int index, int sample, Map<String, Object> echo, Map<String, Object> source) {
        return Json.write(Json.Layout.LINE, g -> {
            g.writeStartObject();
            if (index >= 0) {
                g.writeNumberField("index", index);
                for (Map.Entry<String, Object> e : echo.entrySet()) {
                    g.writeFieldName(e.getKey());
                    Json.write(g, e.getValue());
                }
                g.writeNumberField("sample", sample);
            }
            g.writeFieldName("tokens");
            g.writeArray(s.tokens(), 0, s.tokens().length);
            g.writeArrayFieldStart("logprobs");
            for (double v : s.logprobs()) Json.writeFormatted(g, v, "%.6g");
            g.writeEndArray();
            g.writeStringField("text", s.text());
            g.writeStringField("finish_reason", s.finishReason());
            for (Map.Entry<String, Object> e : source.entrySet()) {
                g.writeFieldName(e.getKey());
                Json.write(g, e.getValue());
            }
            g.writeEndObject();
        });
    }

    /** The seed of prompt {@code index} of an --input file: a prompt's samples do not depend on the other prompts. */
    static long promptSeed(long seed, int index) { return SequenceRandom.of(seed, index).nextLong(); }
}
