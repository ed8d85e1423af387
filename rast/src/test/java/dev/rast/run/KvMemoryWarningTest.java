package dev.rast.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/**
 * The warning before a run whose KV caches could outgrow the free memory, on the paper's setting: a Qwen2.5-7B base
 * (28 layers, 4 KV heads × 128: 28 × 512 × 2 × 2 B = 57,344 B per token in BF16) with a 1.5B pair (28 layers,
 * 2 KV heads × 128, F32: 28 × 256 × 2 × 4 B = 57,344 B each), so 172,032 B per token; 32 samples of up to
 * 16,384 + 128 tokens need 172,032 × 16,512 × 32 = 90.9 GB. Figures derived by hand.
 */
class KvMemoryWarningTest {
    static final long PER_TOKEN = 172_032, TOKENS = 16_512;

    @Test
    void saysWhatWouldNotFitAndWhichBatchWould() {
        // 20 GB free, 512 MiB kept aside: (20e9 − 536,870,912) / (172,032 × 16,512 = 2,840,592,384) = 6.85 → 6.
        assertEquals("warning: KV caches (bf16, f32, f32) take 172.0 KB per token: 32 sequences of up to 16,512 tokens "
                        + "would need 90.9 GB, 20.0 GB is free; if samples run that long the run stops out of memory "
                        + "(6 sequences at once would fit: --batch 6, or a lower --n for one prompt; or --kv-cache-dtype bf16)",
                SampleRunner.kvMemoryWarning(PER_TOKEN, "bf16, f32, f32", 32, TOKENS, 20_000_000_000L));
        // 1 GB free, 0.46 GB of it usable: not even one sequence (57,344 × 16,512 = 0.95 GB).
        assertEquals("warning: KV caches (bf16) take 57.3 KB per token: 1 sequence of up to 16,512 tokens would need "
                        + "0.9 GB, 1.0 GB is free; even one sequence may not fit (lower --max-tokens)",
                SampleRunner.kvMemoryWarning(57_344, "bf16", 1, TOKENS, 1_000_000_000L));
    }

    @Test
    void saysNothingWhenItFitsOrTheFreeMemoryIsUnknown() {
        assertNull(SampleRunner.kvMemoryWarning(PER_TOKEN, "bf16, f32, f32", 32, TOKENS, 200_000_000_000L));
        assertNull(SampleRunner.kvMemoryWarning(PER_TOKEN, "bf16, f32, f32", 32, TOKENS, -1));
        // Exactly at the edge: need = usable fits.
        long need = PER_TOKEN * TOKENS * 2;
        assertNull(SampleRunner.kvMemoryWarning(PER_TOKEN, "f32", 2, TOKENS, need + SampleRunner.KV_RESERVE_BYTES));
    }
}
