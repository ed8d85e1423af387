package dev.rast.kernels.cuda;

/**
 * Settings of the sampling kernel (see sampling.cuh): temperature ≤ 0 is greedy (argmax); topK ≤ 0 or ≥ vocab,
 * topP outside (0, 1) and minP ≤ 0 switch the respective filter off.
 */
public record DeviceSampling(float temperature, int topK, float topP, float minP) {
    public static final DeviceSampling GREEDY = new DeviceSampling(0f, 0, 1f, 0f);
}
