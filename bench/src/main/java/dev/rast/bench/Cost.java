package dev.rast.bench;

/**
 * What one call of a benchmarked op must do: the bytes it moves (weights, caches, activations read and written) and
 * the FLOPs it computes (an FMA counts two; 0 where it is not arithmetic), with the shape and dtype the table shows.
 */
record Cost(String op, String shape, String dtype, int tokens, double bytes, double flops) {}
