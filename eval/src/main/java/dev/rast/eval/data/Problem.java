package dev.rast.eval.data;

import java.util.Map;

/**
 * One test problem: its position in the data file ({@code idx}, 0-based, SimpleRL's default index), the question
 * text the prompt is built from, the gold answer already normalized as SimpleRL normalizes it, and the raw row.
 */
public record Problem(int idx, String question, String gold, Map<String, Object> row) {}
