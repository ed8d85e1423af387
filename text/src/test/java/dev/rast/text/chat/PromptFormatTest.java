package dev.rast.text.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.BadInputException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The evaluation's prompt formats, against text written out by hand from GRADER_NOTES.md §5 (SimpleRL's
 * PROMPT_TEMPLATES after Python's str.format: "\\boxed{{}}" is the six characters \boxed{}), and its stop strings
 * from §0.2.
 */
class PromptFormatTest {
    static final String Q = "Let $f(x) = x^2$. Find $f(3)$ — in ℝ, naïvely.";

    @Test
    void qwenBoxedIsChatMlWithTheBoxedInstruction() {
        String want = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\nLet $f(x) = x^2$. Find $f(3)$ — in ℝ, naïvely.\n"
                + "Please reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n"
                + "<|im_start|>assistant\n";
        assertEquals(want, PromptFormat.byName("qwen-boxed").apply(Q));
        assertEquals(want.length(), PromptFormat.QWEN_BOXED.apply(Q).length());
        assertTrue(PromptFormat.QWEN_BOXED.apply(Q).contains("within \\boxed{}.<|im_end|>"));
    }

    @Test
    void abelIsQuestionAnswerLetsThink() {
        assertEquals("Question:\n" + Q + "\nAnswer:\nLet's think step by step.\n", PromptFormat.byName("abel").apply(Q));
        assertEquals("Question:\nWhat is 1+1?\nAnswer:\nLet's think step by step.\n", PromptFormat.ABEL.apply("What is 1+1?"));
    }

    /** The question is inserted as given: SimpleRL's final strip(" ") cannot reach inside the fixed text around it. */
    @Test
    void questionIsNotStripped() {
        assertEquals("Question:\n  two spaces \nAnswer:\nLet's think step by step.\n", PromptFormat.ABEL.apply("  two spaces "));
        assertTrue(PromptFormat.QWEN_BOXED.apply(" x\n").contains("user\n x\n\nPlease reason"));
        assertEquals("  raw text ", PromptFormat.NONE.apply("  raw text "));
    }

    /** qwen-boxed is what Qwen2.5's own ChatML template gives for the same two messages (that template is HF-checked). */
    @Test
    void qwenBoxedAgreesWithQwenChatMl() {
        ChatTemplate qwen25 = ChatTemplate.of(TokenizerConfig.load(ChatTemplateReferenceTest.resources().resolve("qwen2.5")));
        String viaTemplate = qwen25.render(List.of(ChatMessage.system("You are a helpful assistant."),
                ChatMessage.user(Q + "\nPlease reason step by step, and put your final answer within \\boxed{}.")), true);
        assertEquals(viaTemplate, PromptFormat.QWEN_BOXED.apply(Q));
    }

    @Test
    void chatUsesTheModelTemplateWithOneUserTurn() {
        ChatTemplate qwen25 = ChatTemplate.of(TokenizerConfig.load(ChatTemplateReferenceTest.resources().resolve("qwen2.5")));
        assertEquals("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\nWhat is 1+1?<|im_end|>\n<|im_start|>assistant\n",
                PromptFormat.byName("chat").apply("What is 1+1?", qwen25));
        ChatTemplate llama = ChatTemplate.of(TokenizerConfig.load(ChatTemplateReferenceTest.resources().resolve("llama3.1")));
        assertEquals("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 1+1?<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", PromptFormat.CHAT.apply("What is 1+1?", llama));
        BadInputException e = assertThrows(BadInputException.class, () -> PromptFormat.CHAT.apply("q"));
        assertTrue(e.getMessage().contains("chat template"), e.getMessage());
    }

    @Test
    void stopStringsAreTheEvaluations() {
        assertEquals(List.of("</s>", "<|im_end|>", "<|endoftext|>", "assistant", "user", "_end", "_start"),
                PromptFormat.QWEN_BOXED.stopStrings());
        assertEquals(List.of("</s>", "<|im_end|>", "<|endoftext|>", "Question:", "Answer:"), PromptFormat.ABEL.stopStrings());
        assertEquals(List.of("</s>", "<|im_end|>", "<|endoftext|>"), PromptFormat.CHAT.stopStrings());
        assertEquals(List.of("</s>", "<|im_end|>", "<|endoftext|>"), PromptFormat.NONE.stopStrings());
    }

    @Test
    void cutAtStopsCutsAtTheEarliestAndStrips() {
        assertEquals("The answer is \\boxed{4}.", PromptFormat.QWEN_BOXED.cutAtStops("The answer is \\boxed{4}. <|im_end|>\nuser: more"));
        // plain substrings: "users" cuts too, as in the evaluation
        assertEquals("Ask the", PromptFormat.QWEN_BOXED.cutAtStops("Ask the users"));
        assertEquals("a", PromptFormat.QWEN_BOXED.cutAtStops("a _start b </s> c"));
        assertEquals("x = 2", PromptFormat.ABEL.cutAtStops("x = 2\n\nQuestion: next"));
        assertEquals("the user", PromptFormat.ABEL.cutAtStops("the user"));
        assertEquals("", PromptFormat.NONE.cutAtStops("<|endoftext|>tail"));
    }

    @Test
    void truncateStripsPythonWhitespaceFirstThenCuts() {
        // Python: "\xa0 \\boxed{4}\u2003<|im_end|> x".rstrip().strip() is "\\boxed{4}\u2003<|im_end|> x"; the cut
        // leaves "\\boxed{4}\u2003", stripped again.
        assertEquals("\\boxed{4}", PromptFormat.QWEN_BOXED.truncate("\u00a0 \\boxed{4}\u2003<|im_end|> x"));
        // no stop string: only the strip (cutAtStops alone would leave the whitespace)
        assertEquals("7", PromptFormat.CHAT.truncate("\n\n 7 \u3000\n"));
        assertEquals("\n\n 7 \u3000\n", PromptFormat.CHAT.cutAtStops("\n\n 7 \u3000\n"));
        assertEquals("", PromptFormat.ABEL.truncate("\u001f Answer: 3"));
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        BadInputException e = assertThrows(BadInputException.class, () -> PromptFormat.byName("qwen_boxed"));
        assertEquals("unknown prompt format 'qwen_boxed'; known formats: qwen-boxed, abel, chat, none", e.getMessage());
        assertEquals(List.of("qwen-boxed", "abel", "chat", "none"), PromptFormat.names());
    }
}
