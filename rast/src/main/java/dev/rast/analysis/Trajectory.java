package dev.rast.analysis;

import dev.rast.engine.BadInputException;

/**
 * One token path to analyse: the prompt it was generated from and the generated tokens t₁..tₙ. {@code id} names it
 * in messages and tables ("file.jsonl line 3", "math500 #12 sample 0").
 */
public record Trajectory(String id, int[] prompt, int[] tokens) {
    public Trajectory {
        if (prompt.length == 0) throw new BadInputException(id + ": prompt_tokens is empty (the first token needs a context)");
        if (tokens.length == 0) throw new BadInputException(id + ": tokens is empty (nothing to analyse)");
    }

    /** Refuses an id at or past {@code vocab} (the ids every model has a logit for), naming the field and index. */
    public void checkVocabulary(int vocab) {
        check("prompt_tokens", prompt, vocab);
        check("tokens", tokens, vocab);
    }

    private void check(String field, int[] ids, int vocab) {
        for (int i = 0; i < ids.length; i++)
            if (ids[i] < 0 || ids[i] >= vocab)
                throw new BadInputException(id + ": " + field + "[" + i + "] = " + ids[i]
                        + " is outside the models' shared vocabulary (0.." + (vocab - 1) + ")");
    }
}
