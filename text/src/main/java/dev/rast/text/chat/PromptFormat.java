package dev.rast.text.chat;

import dev.rast.engine.BadInputException;
import dev.rast.text.Py;
import java.util.Arrays;
import java.util.List;

/**
 * How a question becomes the prompt text, by name: the two formats of the paper's evaluation, exact to the
 * character (SimpleRL's {@code PROMPT_TEMPLATES}, see ../shared/datasets/GRADER_NOTES.md §5), the model's own chat
 * template, or the text as given.
 *
 * <p>Each format also carries the stop strings the evaluation cuts completions at (GRADER_NOTES §0.2). They are
 * plain substrings, applied to the decoded text after generation, so "users" or "the user" in a completion cuts it
 * too under {@code qwen-boxed}; that is what the paper's numbers were measured with.
 */
public enum PromptFormat {
    /**
     * ChatML with the system prompt "You are a helpful assistant.", the question plus the boxed-answer instruction as
     * the user turn, and an open assistant turn. Written out here, not rendered from a tokenizer's template: it is
     * the evaluation's fixed string, the same for every model (SimpleRL-Zoo bases included).
     */
    QWEN_BOXED("qwen-boxed", false, List.of("assistant", "user", "_end", "_start")) {
        @Override String format(String question) {
            return "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                    + "<|im_start|>user\n" + question
                    + "\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n"
                    + "<|im_start|>assistant\n";
        }
    },
    /** The Abel prompt: {@code "Question:\n{question}\nAnswer:\nLet's think step by step.\n"}. */
    ABEL("abel", false, List.of("Question:", "Answer:")) {
        @Override String format(String question) {
            return "Question:\n" + question + "\nAnswer:\nLet's think step by step.\n";
        }
    },
    /** The model's own chat template with one user message and the generation prompt, as HF's apply_chat_template. */
    CHAT("chat", true, List.of()) {
        @Override String format(String question) {
            throw new IllegalStateException("chat needs a template");
        }
    },
    /** The text exactly as given. */
    NONE("none", false, List.of()) {
        @Override String format(String question) {
            return question;
        }
    };

    /** Stop strings of every format in the evaluation (SimpleRL's math_eval), before the per-format ones. */
    public static final List<String> COMMON_STOPS = Common.STOPS;

    /** Holder: an enum's constructor cannot read the enum's own static fields, but can read another class's. */
    private static final class Common {
        static final List<String> STOPS = List.of("</s>", "<|im_end|>", "<|endoftext|>");
    }

    private final String id;
    private final boolean needsChatTemplate;
    private final List<String> stops;

    PromptFormat(String id, boolean needsChatTemplate, List<String> extraStops) {
        this.id = id;
        this.needsChatTemplate = needsChatTemplate;
        this.stops = java.util.stream.Stream.concat(Common.STOPS.stream(), extraStops.stream()).toList();
    }

    abstract String format(String question);

    /** The name used on the command line: qwen-boxed, abel, chat, none. */
    public String id() { return id; }

    public boolean needsChatTemplate() { return needsChatTemplate; }

    /** The stop strings, in the evaluation's order: {@link #COMMON_STOPS}, then this format's own. */
    public List<String> stopStrings() { return stops; }

    /**
     * The prompt for one question. SimpleRL strips spaces (only) from both ends of the whole prompt; for these
     * formats that never changes anything, as each starts and ends with a non-space, but it is kept to be exact.
     *
     * @param template the model's chat template; needed by {@link #CHAT} only, may be null otherwise
     */
    public String apply(String question, ChatTemplate template) {
        if (this == CHAT) {
            if (template == null)
                throw new BadInputException("prompt format 'chat' needs the model's chat template (tokenizer_config.json)");
            return template.render(List.of(ChatMessage.user(question)), true);
        }
        String p = format(question);
        return this == NONE ? p : Py.strip(p, " ");
    }

    /** {@link #apply(String, ChatTemplate)} for the formats that need no template. */
    public String apply(String question) {
        return apply(question, null);
    }

    /**
     * Cuts a completion at the stop strings as the evaluation does (GRADER_NOTES §0.2): for each stop string in order,
     * keep the text before its first occurrence and strip it. The net effect is a cut at the earliest occurrence of
     * any. Expects the completion already stripped (§0.1), as the evaluation has it at this point.
     */
    public String cutAtStops(String completion) {
        String s = completion;
        for (String stop : stops) {
            int k = s.indexOf(stop);
            if (k >= 0) s = Py.strip(s.substring(0, k));
        }
        return s;
    }

    /**
     * The completion as the evaluation grades it: stripped of Python whitespace (SimpleRL's
     * {@code strip(rstrip(...))}, §0.1), then {@link #cutAtStops cut at the stop strings} (§0.2).
     */
    public String truncate(String completion) {
        return cutAtStops(Py.strip(completion));
    }

    /** The format with this name; an error listing the known names otherwise. */
    public static PromptFormat byName(String name) {
        for (PromptFormat f : values()) if (f.id.equals(name)) return f;
        throw new BadInputException("unknown prompt format '" + name + "'; known formats: " + String.join(", ", names()));
    }

    public static List<String> names() {
        return Arrays.stream(values()).map(PromptFormat::id).toList();
    }
}
