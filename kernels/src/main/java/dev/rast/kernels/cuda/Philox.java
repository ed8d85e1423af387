package dev.rast.kernels.cuda;

/**
 * Philox4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as easy as 1, 2, 3", SC'11), the
 * counter-based generator of the device sampler (common.cuh): draw {@code step} of sequence {@code seed} is a pure
 * function of the two, so a run is reproducible and a host reference can reproduce the device's draws.
 */
public final class Philox {
    private Philox() {}

    /** The 10-round block function on counter c (4 words) under key (k0, k1); returns the 4 output words. */
    public static int[] block(int[] counter, int k0, int k1) {
        int c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
        for (int r = 0; r < 10; r++) {
            long p0 = 0xD2511F53L * (c0 & 0xFFFFFFFFL), p1 = 0xCD9E8D57L * (c2 & 0xFFFFFFFFL);
            int hi0 = (int) (p0 >>> 32), lo0 = (int) p0, hi1 = (int) (p1 >>> 32), lo1 = (int) p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
            k0 += 0x9E3779B9;
            k1 += 0xBB67AE85;
        }
        return new int[] {c0, c1, c2, c3};
    }

    /** Uniform in [0, 1) with 24 bits: the first word of counter (step, 0) under key seed, as philox_uniform. */
    public static float uniform(long seed, long step) {
        int w = block(new int[] {(int) step, (int) (step >>> 32), 0, 0}, (int) seed, (int) (seed >>> 32))[0];
        return (w >>> 8) * (1.0f / 16777216.0f);
    }
}
