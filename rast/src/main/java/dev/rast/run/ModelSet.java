package dev.rast.run;

import dev.rast.engine.BadInputException;
import dev.rast.engine.backend.Backend;
import dev.rast.text.chat.ChatTemplate;
import dev.rast.text.chat.TokenizerConfig;
import dev.rast.engine.generate.Generator;
import dev.rast.engine.generate.StopTokens;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.Models;
import dev.rast.fusion.RastFusion;
import dev.rast.fusion.VocabularyCheck;
import dev.rast.text.tokenizer.Tokenizer;
import dev.rast.engine.weights.WeightDtype;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * The models of one RAST run: the base model M and zero or more expert pairs (Eᵢ, Bᵢ, λᵢ), all on one backend, with
 * M's tokenizer and end-of-sequence ids. Model order everywhere is M, E₁, B₁, E₂, B₂, ... (the order
 * {@link Generator} hands rows to {@link #fusion()}).
 *
 * <p>Loading checks that the models agree on what each shared id means: every model folder that has a
 * tokenizer.json is compared with M's over the shared ids (the shortest vocabulary), and a difference is refused
 * unless {@code allowMismatch}.
 */
public final class ModelSet implements AutoCloseable {
    /** One expert pair: the RL-trained small model, the base it was trained from, and its weight λ. */
    public record Pair(Path expert, Path base, float lambda) {}

    private final Path baseDir;
    private final List<CausalLM> models = new ArrayList<>();
    private final List<Pair> pairs;
    private final Tokenizer tokenizer;
    private final TokenizerConfig tokenizerConfig;
    private final Set<Integer> eosIds;
    private final RastFusion rast;
    private final int sharedVocab;
    private final boolean ownsModels; // false for a withLambdas view: closing it leaves the models to their owner
    private ChatTemplate chatTemplate;

    private ModelSet(Path baseDir, List<Pair> pairs, Path tokenizerDir, boolean allowMismatch, Backend backend, WeightDtype weights) {
        this.ownsModels = true;
        this.baseDir = baseDir;
        this.pairs = List.copyOf(pairs);
        try {
            models.add(Models.load(baseDir, backend, weights));
            for (Pair p : pairs) {
                models.add(Models.load(p.expert(), backend, weights));
                models.add(Models.load(p.base(), backend, weights));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        sharedVocab = sharedVocab(IntStream.range(0, pairs.size()).toArray());
        Path tokDir = tokenizerDir != null ? tokenizerDir : baseDir;
        // Present in any form counts: a tokenizer.json that is a pipe or a dangling link is refused, not taken for none.
        tokenizer = present(tokDir.resolve("tokenizer.json")) || tokenizerDir != null ? Tokenizer.load(tokDir) : null;
        tokenizerConfig = tokenizer != null && present(tokDir.resolve("tokenizer_config.json"))
                ? TokenizerConfig.load(tokDir) : null;
        eosIds = StopTokens.read(baseDir, models.getFirst().config());
        rast = pairs.isEmpty() ? null : new RastFusion(lambdas(pairs));
        if (!pairs.isEmpty()) checkVocabularies(allowMismatch);
    }

    /** A view of {@code from}'s loaded models with other λs (the vocabularies were checked when they loaded). */
    private ModelSet(ModelSet from, float[] lambdas) {
        this.ownsModels = false;
        this.baseDir = from.baseDir;
        this.models.addAll(from.models);
        List<Pair> ps = new ArrayList<>();
        for (int i = 0; i < from.pairs.size(); i++) ps.add(new Pair(from.pairs.get(i).expert(), from.pairs.get(i).base(), lambdas[i]));
        this.pairs = List.copyOf(ps);
        this.tokenizer = from.tokenizer;
        this.tokenizerConfig = from.tokenizerConfig;
        this.eosIds = from.eosIds;
        this.rast = ps.isEmpty() ? null : new RastFusion(lambdas);
        this.sharedVocab = from.sharedVocab;
        this.chatTemplate = from.chatTemplate;
    }

    /**
     * The same models with pair i at {@code lambdas[i]}: a λ sweep loads its models once. Closing the view does not
     * close the models; closing this set does (so the view must not outlive it).
     */
    public ModelSet withLambdas(float[] lambdas) {
        if (lambdas.length != pairs.size())
            throw new IllegalArgumentException(lambdas.length + " lambdas for " + pairs.size() + " expert pairs");
        return new ModelSet(this, lambdas);
    }

    /** Loads M and the pairs; the tokenizer comes from {@code tokenizerDir}, else M's folder (null: none there). */
    public static ModelSet load(Path base, List<Pair> pairs, Path tokenizerDir, boolean allowMismatch, Backend backend) {
        return load(base, pairs, tokenizerDir, allowMismatch, backend, WeightDtype.AUTO);
    }

    /** Like the above, with every model's weights computed in {@code weights} (--dtype). */
    public static ModelSet load(Path base, List<Pair> pairs, Path tokenizerDir, boolean allowMismatch, Backend backend,
                                WeightDtype weights) {
        return new ModelSet(base, pairs, tokenizerDir, allowMismatch, backend, weights);
    }

    /** Every pair's λ, in order. */
    public float[] lambdas() { return lambdas(pairs); }

    private static float[] lambdas(List<Pair> pairs) {
        float[] l = new float[pairs.size()];
        for (int i = 0; i < l.length; i++) l[i] = pairs.get(i).lambda();
        return l;
    }

    private void checkVocabularies(boolean allowMismatch) {
        if (tokenizer == null) return;
        List<VocabularyCheck.Vocabulary> vocabs = new ArrayList<>();
        vocabs.add(new VocabularyCheck.Vocabulary(baseDir.toString(), tokenizer::token));
        List<Path> seen = new ArrayList<>(List.of(baseDir.toAbsolutePath().normalize()));
        for (Pair p : pairs) {
            for (Path dir : List.of(p.expert(), p.base())) {
                Path norm = dir.toAbsolutePath().normalize();
                if (seen.contains(norm) || !Files.isRegularFile(dir.resolve("tokenizer.json"))) continue;
                seen.add(norm);
                // The same bytes give the same vocabulary: skip the half-second load (the usual case, one family).
                if (sameFile(Path.of(tokenizer.source()), dir.resolve("tokenizer.json"))) continue;
                vocabs.add(new VocabularyCheck.Vocabulary(dir.toString(), Tokenizer.load(dir)::token));
            }
        }
        VocabularyCheck.requireSame(sharedVocab, vocabs, allowMismatch);
    }

    private static boolean present(Path file) { return Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS); }

    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.mismatch(a, b) == -1L;
        } catch (java.io.IOException e) {
            return false; // unreadable here: Tokenizer.load reports it properly
        }
    }

    /** M, E₁, B₁, ...: the order of the rows {@link #fusion()} receives. */
    public List<CausalLM> models() { return models; }

    public CausalLM base() { return models.getFirst(); }

    public Path baseDir() { return baseDir; }

    public List<Pair> pairs() { return pairs; }

    /** M's tokenizer (or --tokenizer's), or null when there is none. */
    public Tokenizer tokenizer() { return tokenizer; }

    /** tokenizer_config.json beside the tokenizer, or null. */
    public TokenizerConfig tokenizerConfig() { return tokenizerConfig; }

    /**
     * The chat template, compiled on first use and kept (rast eval renders it once per problem), or a clear error
     * when the tokenizer folder has none.
     */
    public ChatTemplate chatTemplate() {
        if (tokenizerConfig == null)
            throw new BadInputException("no chat template: " + (tokenizer == null ? baseDir : tokenizer.source())
                    + " has no tokenizer_config.json, so no chat template (use --format qwen-boxed|abel|none)");
        if (chatTemplate == null) chatTemplate = ChatTemplate.of(tokenizerConfig);
        return chatTemplate;
    }

    /** The tokenizer, or a clear error naming the folder when text was asked for and there is none. */
    public Tokenizer requireTokenizer(String why) {
        if (tokenizer == null)
            throw new BadInputException(baseDir + " has no tokenizer.json, needed for " + why + " (give --tokenizer DIR)");
        return tokenizer;
    }

    /** End-of-sequence ids of M (generation_config.json, else config.json). */
    public Set<Integer> eosIds() { return eosIds; }

    /** Ids every model has a logit for; fused rows are −∞ past it. */
    public int sharedVocab() { return sharedVocab; }

    /** The ids M and the given pairs (0-based) all have: the shortest of their vocabularies (a request using some pairs). */
    public int sharedVocab(int[] pairs) {
        int shared = models.getFirst().config().vocabSize();
        for (int p : pairs)
            for (CausalLM m : List.of(models.get(1 + 2 * p), models.get(2 + 2 * p))) shared = Math.min(shared, m.config().vocabSize());
        return shared;
    }

    /** The RAST fusion of the rows, in place in M's row; M's row unchanged when there are no pairs. */
    public Generator.Fusion fusion() {
        if (rast == null) return Generator.Fusion.FIRST;
        return (sequence, rows) -> rast.fuseInPlace(rows);
    }

    @Override
    public void close() {
        if (ownsModels) for (CausalLM m : models) m.close();
    }
}
