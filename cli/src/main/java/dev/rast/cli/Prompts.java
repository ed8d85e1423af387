package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.text.chat.PromptFormat;
import dev.rast.run.ModelSet;

/** Prompt text to ids: the prompt format, then the tokenizer. */
final class Prompts {
    private Prompts() {}

    /**
     * The chat template writes its own BOS, so it is encoded without special tokens; the other formats get what the
     * tokenizer's post-processor adds (Llama 3's BOS), as vLLM does for the paper's evaluation prompts.
     */
    static int[] encode(ModelSet set, PromptFormat fmt, String text) {
        var tok = set.requireTokenizer("a text prompt");
        String prompt = fmt.apply(text, fmt.needsChatTemplate() ? set.chatTemplate() : null);
        int[] ids = tok.encode(prompt, fmt != PromptFormat.CHAT);
        if (ids.length == 0) throw new BadInputException("the prompt is empty");
        return checkIds("prompt", ids, set);
    }

    /** Ids every model has, and no more of them than every model's context holds (see {@link ContextLimit}). */
    static int[] checkIds(String what, int[] ids, ModelSet set) {
        TokenIds.check(what, ids, set.sharedVocab());
        ContextLimit.check(what, ids.length, set);
        return ids;
    }
}
