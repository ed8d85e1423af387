package dev.rast.eval.grader;

import dev.rast.engine.BadInputException;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * SimpleRL's prompt templates used by the paper (GRADER_NOTES §5) and the stop words the evaluation applies to
 * each completion. The stop words are plain substrings, so a qwen-boxed completion that says "the user" is cut
 * there: that is the reference behaviour and generation should stop on the same strings.
 */
public enum PromptFormat {
    QWEN_BOXED("qwen-boxed",
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n%s\n"
                    + "Please reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n"
                    + "<|im_start|>assistant\n",
            List.of("</s>", "<|im_end|>", "<|endoftext|>", "assistant", "user", "_end", "_start")),
    ABEL("abel", "Question:\n%s\nAnswer:\nLet's think step by step.\n",
            List.of("</s>", "<|im_end|>", "<|endoftext|>", "Question:", "Answer:"));

    private final String id;
    private final String template;
    private final List<String> stopWords;

    PromptFormat(String id, String template, List<String> stopWords) {
        this.id = id;
        this.template = template;
        this.stopWords = stopWords;
    }

    /** The name used on the command line and in settings.json. */
    public String id() { return id; }

    /** The stop strings, in SimpleRL's order. */
    public List<String> stopWords() { return stopWords; }

    /** The prompt text for a question (already with any "(True or False)" suffix), stripped of spaces at the ends. */
    public String prompt(String question) { return Py.strip(template.formatted(question), " "); }

    /**
     * The completion as SimpleRL grades it: stripped, then for each stop word in order cut before its first
     * occurrence and stripped again (net effect: cut at the earliest stop word).
     */
    public String truncate(String completion) {
        String code = Py.strip(Py.rstrip(completion));
        for (String w : stopWords) {
            int at = code.indexOf(w);
            if (at >= 0) code = Py.strip(code.substring(0, at));
        }
        return code;
    }

    public static PromptFormat of(String id) {
        for (PromptFormat f : values()) if (f.id.equals(id)) return f;
        throw new BadInputException("unknown prompt format '" + id + "'; known: "
                + Arrays.stream(values()).map(PromptFormat::id).collect(Collectors.joining(", ")));
    }
}
