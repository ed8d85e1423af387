package dev.rast.plan;

import dev.rast.engine.model.KvBlocks;
import dev.rast.engine.model.KvPool;
import dev.rast.engine.tensor.DType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The memory planner (the paper's Table 4 / App. D): given the models of a run, how many sequences of full length
 * (prompt + max tokens) fit beside their weights in a device's memory, and what to change when the run's --n does
 * not fit. KV caches grow with the tokens a sequence holds, so a run whose samples stop early fits more; the plan is
 * for the worst case, every sequence at full length.
 *
 * <p>KV caches are paged in blocks of 16 positions ({@link KvBlocks}): every model's pool gets
 * blocks = ⌊(memory − Σ weights − reserve) / (16 · Σ KV bytes per token)⌋, and sequences that fit =
 * ⌊blocks / ⌈(prompt + max tokens) / 16⌉⌋; the reserve is what {@code rast eval} leaves aside for activations and
 * logits.
 */
public record MemoryPlan(List<ModelFootprint> models, int n, int promptLen, int maxTokens, long memory, long reserve) {

    public long weightBytes() {
        long w = 0;
        for (ModelFootprint m : models) w += m.weightBytes();
        return w;
    }

    public long kvBytesPerToken() {
        long k = 0;
        for (ModelFootprint m : models) k += m.kvBytesPerToken();
        return k;
    }

    public long tokensPerSequence() { return (long) promptLen + maxTokens; }

    public long bytesPerSequence() { return kvBytesPerToken() * tokensPerSequence(); }

    /** Memory left for KV caches (negative when the weights alone do not fit). */
    public long kvBudget() { return memory - weightBytes() - reserve; }

    /** Blocks of {@link KvPool#BLOCK_SIZE} positions every model's KV pool gets from the budget ({@link KvBlocks}). */
    public long kvBlocks() { return KvBlocks.blocks(kvBudget(), kvBytesPerToken()); }

    /**
     * Sequences at full length that fit at once (0 when not even one does): whole blocks, as the scheduler's pools
     * hold them ({@link KvBlocks}, the one formula both use).
     */
    public long fits() { return KvBlocks.sequences(kvBlocks(), tokensPerSequence()); }

    public boolean fitsAll() { return fits() >= n; }

    /** The same run with every model changed by {@code change}. */
    MemoryPlan with(UnaryOperator<ModelFootprint> change) {
        List<ModelFootprint> ms = new ArrayList<>();
        for (ModelFootprint m : models) ms.add(change.apply(m));
        return new MemoryPlan(ms, n, promptLen, maxTokens, memory, reserve);
    }

    /** What would make --n fit, each with what it gives; empty when it fits. */
    public List<String> advice() {
        List<String> out = new ArrayList<>();
        if (fitsAll()) return out;
        if (kvBudget() <= 0) {
            out.add(String.format(Locale.ROOT, "the weights alone take %s of %s (with %s reserved): a device with more memory, or fewer or smaller models",
                    gb(weightBytes()), gb(memory), gb(reserve)));
        } else {
            long fits = fits();
            if (fits >= 1) out.add("--batch " + fits + ": run the " + n + " sequences " + fits + " at a time (same results, slower)");
            long maxTok = kvBlocks() / n * KvPool.BLOCK_SIZE - promptLen; // each of the n sequences' whole blocks
            if (maxTok >= 1) out.add("--max-tokens " + maxTok + ": all " + n + " sequences at once (longer samples are cut)");
            if (fits >= 1) out.add("--n " + fits + ": fewer samples per problem");
        }
        if (models.stream().anyMatch(m -> m.kvCache() == DType.F32)) {
            MemoryPlan p = with(m -> new ModelFootprint(m.role(), m.name(), m.config(), m.weights(), DType.BF16));
            out.add("--kv-cache-dtype bf16: halves the F32 caches; " + p.fits() + " sequences fit");
        }
        if (models.stream().anyMatch(m -> m.weights() == DType.F32)) {
            MemoryPlan p = with(m -> new ModelFootprint(m.role(), m.name(), m.config(), m.weights() == DType.F32 ? DType.BF16 : m.weights(),
                    m.kvCache() == DType.F32 ? DType.BF16 : m.kvCache()));
            out.add("--dtype bf16: F32 weights (and their auto caches) in BF16; " + p.fits() + " sequences fit");
        }
        return out;
    }

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        List<Map<String, Object>> ms = new ArrayList<>();
        for (ModelFootprint f : models) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("role", f.role());
            r.put("model", f.name());
            r.put("parameters", f.parameters());
            r.put("weights_dtype", f.weights().torchName());
            r.put("weight_bytes", f.weightBytes());
            r.put("kv_cache_dtype", f.kvCache().torchName());
            r.put("kv_bytes_per_token", f.kvBytesPerToken());
            ms.add(r);
        }
        m.put("models", ms);
        m.put("weight_bytes", weightBytes());
        m.put("kv_bytes_per_token", kvBytesPerToken());
        m.put("n", n);
        m.put("prompt_len", promptLen);
        m.put("max_tokens", maxTokens);
        m.put("bytes_per_sequence", bytesPerSequence());
        m.put("kv_block_positions", KvPool.BLOCK_SIZE);
        m.put("kv_blocks", kvBlocks());
        m.put("memory_bytes", memory);
        m.put("reserve_bytes", reserve);
        m.put("sequences_that_fit", fits());
        m.put("fits", fitsAll());
        m.put("advice", advice());
        return m;
    }

    public String markdown() {
        StringBuilder b = new StringBuilder("| role | model | parameters | weights | weight memory | KV cache | KV per token |\n|---|---|---:|---|---:|---|---:|\n");
        for (ModelFootprint f : models)
            b.append(String.format(Locale.ROOT, "| %s | %s | %.2fB | %s | %s | %s | %.1f KiB |%n", f.role(), f.name(), f.parameters() / 1e9,
                    f.weights().torchName(), gb(f.weightBytes()), f.kvCache().torchName(), f.kvBytesPerToken() / 1024.0));
        b.append(String.format(Locale.ROOT, "%nweights %s; KV %.1f KiB per token, %s per sequence of %,d tokens (prompt %d + max %d)%n",
                gb(weightBytes()), kvBytesPerToken() / 1024.0, gb(bytesPerSequence()), tokensPerSequence(), promptLen, maxTokens));
        b.append(String.format(Locale.ROOT, "memory %s, %s reserved: %s left for KV caches, %,d blocks of %d positions per model%n",
                gb(memory), gb(reserve), gb(Math.max(0, kvBudget())), kvBlocks(), KvPool.BLOCK_SIZE));
        b.append(String.format(Locale.ROOT, "%d sequences fit at full length; --n %d %s%n", fits(), n, fitsAll() ? "fits" : "does not fit"));
        List<String> advice = advice();
        if (!advice.isEmpty()) {
            b.append("to fit, any of:\n");
            for (String a : advice) b.append("  ").append(a).append('\n');
        }
        return b.toString();
    }

    static String gb(long bytes) { return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30)); }

    /**
     * A memory size: a number of bytes, or with a unit KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers
     * of 1024); "80G" reads as GiB, as device memory is quoted. Null when it is not one.
     */
    public static Long parseBytes(String s) {
        var m = java.util.regex.Pattern.compile("(?i)\\s*([0-9]+(?:\\.[0-9]+)?)\\s*([kmgt]?)(i?b?)\\s*").matcher(s);
        if (!m.matches()) return null;
        double v = Double.parseDouble(m.group(1));
        String unit = m.group(2).toLowerCase(Locale.ROOT), tail = m.group(3).toLowerCase(Locale.ROOT);
        int power = unit.isEmpty() ? 0 : "kmgt".indexOf(unit) + 1;
        boolean decimal = tail.equals("b") && power > 0;
        double scale = Math.pow(decimal ? 1000 : 1024, power);
        return (long) (v * scale);
    }
}
