package dev.rast.hub;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/** A small model repository for the hub tests: what the engine reads, plus files a pull must leave alone. */
final class HubTestRepos {
    static final String ID = "test-org/tiny-model";

    private HubTestRepos() {}

    static FakeHub.Repo tinyModel(FakeHub hub) {
        byte[] weights = new byte[3_000_000 + 17];
        new SplittableRandom(7).nextBytes(weights);
        return hub.repo(ID)
                .file("config.json", utf8("{\"architectures\": [\"Qwen2ForCausalLM\"], \"hidden_size\": 8}\n"))
                .file("generation_config.json", utf8("{\"eos_token_id\": 2}\n"))
                .file("tokenizer.json", utf8("{\"model\": {\"type\": \"BPE\"}}\n"))
                .file("tokenizer_config.json", utf8("{}\n"))
                .file("model.safetensors", weights)
                .file("pytorch_model.bin", new byte[] {(byte) 0x80, 2, 'c', 'o', 's'})
                .file("README.md", utf8("# tiny\n"))
                .file("onnx/model.onnx", utf8("not needed"));
    }

    static HubSettings settings(FakeHub hub, Path cache, String token, boolean offline) {
        Map<String, String> env = new java.util.HashMap<>();
        env.put("HF_ENDPOINT", hub.endpoint().toString());
        env.put("HF_HUB_CACHE", cache.toString());
        env.put("HF_HOME", cache.resolveSibling("hf-home").toString()); // no token file from the machine's own login
        if (token != null) env.put("HF_TOKEN", token);
        if (offline) env.put("HF_HUB_OFFLINE", "1");
        return HubSettings.from(env::get, cache.getParent());
    }

    static final RetryPolicy FAST = new RetryPolicy(4, 5, 20);

    static byte[] utf8(String s) { return s.getBytes(StandardCharsets.UTF_8); }
}
