package dev.rast.text.tokenizer;

/**
 * A token from tokenizer.json's {@code added_tokens}: matched as a whole in the text before BPE runs.
 *
 * @param special control tokens such as {@code <|im_end|>}; dropped by decode when skipping special tokens
 * @param normalized matched in the normalized text rather than the raw text
 * @param lstrip, rstrip the match also swallows white space on that side
 */
public record AddedToken(int id, String content, boolean special, boolean normalized, boolean lstrip, boolean rstrip) {}
