package dev.rast.engine;

import java.util.Locale;

/** A command-line choice spelled as one of an enum's constants, in any case (auto, f32, bf16, ...). */
public final class EnumOption {
    private EnumOption() {}

    /** The constant named {@code value}; anything else is refused naming {@code option} and the choices. */
    public static <E extends Enum<E>> E parse(E[] choices, String option, String value) {
        StringBuilder names = new StringBuilder();
        for (int i = 0; i < choices.length; i++) {
            if (choices[i].name().equalsIgnoreCase(value)) return choices[i];
            names.append(i == 0 ? "" : i == choices.length - 1 ? " or " : ", ").append(choices[i].name().toLowerCase(Locale.ROOT));
        }
        throw new BadInputException(option + " must be " + names + ", is '" + value + "'");
    }
}
