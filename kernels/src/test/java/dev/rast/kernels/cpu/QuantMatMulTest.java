package dev.rast.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.rast.engine.tensor.DType;
import dev.rast.engine.tensor.Tensor;
import dev.rast.kernels.ReferenceCheck;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The Q8_0 / Q4_0 kernels sum in one order whatever the path, so a token's outputs are the same bits through the
 * matrix-vector kernel (one token), the GEMM (a batch of 2, 3, 7 or 8, a prompt, any of its 6-token calls, any slice)
 * and the in-place route (a weight not passed through weight()): seeded sampling must not depend on batching. Sizes: K
 * not a multiple of 32, a partial last row block, an odd number of blocks, a block count not a multiple of the Q8_0
 * GEMM's 4, more tokens than one GEMM slice.
 */
class QuantMatMulTest {
    static CpuBackend cpu;

    @BeforeAll static void open() { cpu = new CpuBackend(2, () -> Long.MAX_VALUE); }

    @AfterAll static void close() { cpu.close(); }

    static float[] read(Tensor t) {
        float[] out = new float[(int) t.numel()];
        cpu.download(t, MemorySegment.ofArray(out));
        return out;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0"})
    void oneTokenBatchesAndPromptsGiveTheSameBits(DType dt) {
        SplittableRandom rnd = new SplittableRandom(3);
        // 1000 and 1300 rows: enough row blocks for the one-token kernel's eight streams, pieces of an odd number of
        // groups of four (a last group read as four streams), and a last block of padding rows
        for (int[] s : new int[][] {{45, 97}, {70, 256}, {33, 40}, {1000, 64}, {1300, 96}}) {
            int N = s[0], K = s[1], T = 200;  // 200 tokens: two GEMM slices, the last group partial
            float[] wv = new float[N * K], xv = new float[T * K];
            for (int i = 0; i < wv.length; i++) wv[i] = (float) rnd.nextGaussian();
            for (int i = 0; i < xv.length; i++) xv[i] = (float) rnd.nextGaussian();
            Tensor stored = ReferenceCheck.tensor(cpu, dt, ReferenceCheck.bytes(dt, wv, N, K), N, K);
            Tensor host = new Tensor(dt, new int[] {N, K}, ReferenceCheck.bytes(dt, wv, N, K));
            Tensor w = cpu.weight(host);
            Tensor x = ReferenceCheck.tensor(cpu, DType.F32, MemorySegment.ofArray(xv), T, K);
            Tensor all = cpu.allocate(DType.F32, T, N), inPlace = cpu.allocate(DType.F32, T, N), one = cpu.allocate(DType.F32, 1, N);
            cpu.matmul(x, w, all);
            cpu.matmul(x, stored, inPlace);
            float[] a = read(all);
            assertArrayEquals(a, read(inPlace), dt + " " + N + "x" + K + ": in place");
            for (int t : new int[] {0, 5, 11, 12, 150, 199}) {
                cpu.matmul(x.rows(t, 1), w, one);
                assertArrayEquals(Arrays.copyOfRange(a, t * N, (t + 1) * N), read(one), dt + " " + N + "x" + K + ": token " + t + " alone");
            }
            // small batches (2: the GEMMs' 2-token kernel alone; 3: a 6-token call partly past the batch; 7: a 6-token
            // call and a 2-token one; 8: 6 + 2), and prompts whose rows go to the Q4_0 GEMM's token spans (few row blocks
            // on two threads): 128, spans of 66 and 62 (a 2-token call last), 130, of 66 and 64 (a 6-token call partly
            // past the prompt)
            for (int n : new int[] {2, 3, 7, 8, 128, 130}) {
                Tensor few = cpu.allocate(DType.F32, n, N);
                cpu.matmul(x.rows(10, n), w, few);
                assertArrayEquals(Arrays.copyOfRange(a, 10 * N, (10 + n) * N), read(few), dt + " " + N + "x" + K + ": " + n + " tokens");
                cpu.free(few);
            }
            for (Tensor f : new Tensor[] {stored, x, all, inPlace, one}) cpu.free(f);
        }
    }
}
