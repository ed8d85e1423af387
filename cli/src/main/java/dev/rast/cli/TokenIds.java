package dev.rast.cli;

import dev.rast.engine.BadInputException;

/** Parses "5,17,300" token-id lists and checks them against a vocabulary. */
final class TokenIds {
    private TokenIds() {}

    static int[] parse(String flag, String text) {
        if (text == null || text.isBlank()) throw new BadInputException(flag + ": no token ids given");
        // Limit -1 keeps empty parts: "1,2," and "1,,2" are refused, not read as 1,2.
        String[] parts = text.trim().split("\\s*,\\s*|\\s+", -1);
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            if (parts[i].isEmpty())
                throw new BadInputException(flag + ": an empty id in '" + text.strip() + "' (a comma too many?)");
            try {
                ids[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new BadInputException(flag + ": '" + parts[i] + "' is not a token id (expected e.g. 5,17,300)");
            }
            if (ids[i] < 0) throw new BadInputException(flag + ": token id " + ids[i] + " is negative");
        }
        return ids;
    }

    static void check(String flag, int[] ids, int vocab) {
        for (int id : ids)
            if (id >= vocab) throw new BadInputException(flag + ": token id " + id + " is outside the model's vocabulary (vocab_size " + vocab + ")");
    }
}
