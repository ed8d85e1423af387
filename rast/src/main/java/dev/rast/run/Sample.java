package dev.rast.run;

/**
 * One generated continuation.
 *
 * @param tokens the chosen ids (an end-of-sequence id that ended it, and the tokens of a matched stop string,
 *     included: they were generated)
 * @param logprobs per token, log-probability under log_softmax(fused logits), before temperature and truncation
 * @param text decoded text without special tokens, cut before a matched stop string; null without a tokenizer
 * @param finishReason "eos", "stop" (a stop string) or "length" (max tokens)
 */
public record Sample(int[] tokens, double[] logprobs, String text, String finishReason) {}
