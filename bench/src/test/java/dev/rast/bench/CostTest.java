package dev.rast.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the runner divides by: each benchmark's bytes and FLOPs per call, worked out by hand from the models' configs. */
class CostTest {
    @Test
    void qkvOfQwenHalfBIsThreeMatricesSharingTheirInput() {
        // Qwen2.5-0.5B: hidden 896, 14 heads and 2 KV heads of 64: q 896×896, k and v 128×896 each.
        Cost c = MatmulBench.cost("matmul", new Params(Map.of("model", "qwen2.5-0.5b", "matrix", "qkv", "dtype", "BF16", "tokens", "8")));
        assertEquals(1152.0 * 896 * 2, c.bytes());        // 1,152 rows of 896 BF16 weights
        assertEquals(2.0 * 8 * 1152 * 896, c.flops());     // an FMA per weight per token
        assertEquals("qwen2.5-0.5b 896×896+128×896+128×896", c.shape());
    }

    @Test
    void quantizedWeightsReadTheirBlocks() {
        // Q8_0: 32 int8 weights and an F16 scale per block (34 bytes); Q4_0: 32 nibbles and the scale (18 bytes).
        // Qwen2.5-0.5B's qkv rows have 896 = 28 blocks.
        Params q8 = new Params(Map.of("model", "qwen2.5-0.5b", "matrix", "qkv", "dtype", "Q8_0", "tokens", "1"));
        assertEquals(1152.0 * 28 * 34, MatmulBench.cost("matmul", q8).bytes());
        Params q4 = new Params(Map.of("model", "qwen2.5-0.5b", "matrix", "qkv", "dtype", "Q4_0", "tokens", "1"));
        assertEquals(1152.0 * 28 * 18, MatmulBench.cost("matmul", q4).bytes());
        assertEquals(2.0 * 1152 * 896, MatmulBench.cost("matmul", q4).flops());
    }

    @Test
    void llamaDownProjectionAndLmHead() {
        // Llama-3.1-8B: hidden 4096, MLP 14336, vocabulary 128256.
        Cost down = MatmulBench.cost("matmul", new Params(Map.of("model", "llama-3.1-8b", "matrix", "down", "dtype", "F32", "tokens", "1")));
        assertEquals(4096.0 * 14336 * 4, down.bytes());
        Cost head = MatmulBench.cost("matmul", new Params(Map.of("model", "llama-3.1-8b", "matrix", "lm_head", "dtype", "F16", "tokens", "2")));
        assertEquals(128256.0 * 4096 * 2, head.bytes());
        assertEquals(2.0 * 2 * 128256 * 4096, head.flops());
    }

    @Test
    void attentionReadsEveryCachedKeyAndValue() {
        // Qwen2.5-7B: 28 heads over 4 KV heads of 128; 1,024 positions of BF16 keys and values, 8 sequences.
        Cost c = AttentionBench.cost("attention", new Params(Map.of("model", "qwen2.5-7b", "context", "1024", "sequences", "8", "cache", "BF16")));
        assertEquals(2.0 * 8 * 1024 * 512 * 2, c.bytes());
        assertEquals(4.0 * 8 * 1024 * 28 * 128, c.flops()); // q·k and p·v for every head
    }

    @Test
    void smallOpsAndSampling() {
        Params p = new Params(Map.of("model", "qwen2.5-1.5b", "tokens", "128"));
        // RMSNorm of 128 rows of 1,536: each read and written (8 bytes), plus the BF16 weight.
        assertEquals(128.0 * 1536 * 8 + 1536 * 2, SmallOpsBench.cost("rmsNorm", p).bytes());
        // SiLU·mul: gate and up read, the product written, 8,960 wide.
        assertEquals(128.0 * 8960 * 12, SmallOpsBench.cost("siluMul", p).bytes());
        Cost fusion = SamplingBench.cost("fusion", new Params(Map.of("model", "llama-3.1-8b", "sigma", "5")));
        assertEquals(128256.0 * 16, fusion.bytes()); // three rows read, one written
        assertThrows(IllegalArgumentException.class, () -> SmallOpsBench.cost("nothing", p));
    }

    @Test
    void everyMatrixOfEveryModelIsKnown() {
        for (ModelShape m : ModelShape.values())
            for (String matrix : new String[] {"qkv", "o", "gate_up", "down", "lm_head"})
                for (int[] nk : m.matrices(matrix)) assertEquals(2, nk.length);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelShape.of("gpt-2"));
        assertEquals("unknown model shape gpt-2; known: qwen2.5-0.5b, qwen2.5-1.5b, qwen2.5-7b, llama-3.1-8b", e.getMessage());
    }
}
