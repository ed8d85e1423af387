package dev.rast.engine.config;

/**
 * How rotary frequencies are adjusted for long context. {@code type} is "default" (none), "linear" or "llama3".
 * The llama3 fields are Meta's: low-frequency bands are slowed by {@code factor}, high-frequency bands kept,
 * the band in between interpolated (the rule is in model-llama3, Llama3RopeScaling).
 */
public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                          int originalMaxPositionEmbeddings) {
    public static final RopeScaling NONE = new RopeScaling("default", 1, 0, 0, 0);

    public static RopeScaling linear(double factor) { return new RopeScaling("linear", factor, 0, 0, 0); }

    public static RopeScaling llama3(double factor, double low, double high, int originalMax) {
        return new RopeScaling("llama3", factor, low, high, originalMax);
    }
}
