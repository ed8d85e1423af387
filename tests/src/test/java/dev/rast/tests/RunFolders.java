package dev.rast.tests;

import dev.rast.engine.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Run folders of rast eval written by hand, for report tests. */
final class RunFolders {
    private RunFolders() {}

    /** settings.json for gsm8k with {@code n} samples per problem, and problem 0's n samples, the first one correct. */
    static Path write(Path dir, int n) throws IOException {
        Files.createDirectories(dir);
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("model", "m");
        settings.put("dataset", "gsm8k");
        settings.put("n", n);
        settings.put("format", "qwen-boxed");
        Files.writeString(dir.resolve("settings.json"), Json.pretty(settings));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++)
            sb.append("{\"dataset\": \"gsm8k\", \"idx\": 0, \"sample\": ").append(i).append(", \"completion\": \"c\", \"tokens\": 7, \"pred\": \"")
                    .append(i == 0 ? "18" : "3").append("\", \"correct\": ").append(i == 0).append("}\n");
        Files.writeString(dir.resolve("samples.jsonl"), sb.toString());
        return dir;
    }
}
