package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.engine.model.CausalLM;
import dev.rast.run.ModelSet;

/**
 * Prompts longer than a model's context (max_position_embeddings) are refused before prefill: the model was not
 * trained on such positions, and a prompt of a megabyte (about 250k tokens) would prefill for minutes, with cost
 * quadratic in its length, before anything is printed. {@value #ALLOW}=1 in the environment lets them through.
 * Generation past the context is not limited here: --max-tokens bounds it.
 */
final class ContextLimit {
    private ContextLimit() {}

    static final String ALLOW = "RAST_ALLOW_LONG_CONTEXT";

    static void check(String what, int tokens, ModelSet set) {
        if ("1".equals(System.getenv(ALLOW))) return;
        for (CausalLM m : set.models()) {
            int context = m.config().maxPositionEmbeddings();
            if (tokens > context)
                throw new BadInputException(what + " is " + tokens + " tokens, longer than the context of "
                        + m.config().file().getParent() + " (max_position_embeddings " + context + " in its config.json);"
                        + " set " + ALLOW + "=1 to run it anyway");
        }
    }
}
