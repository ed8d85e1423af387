package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.engine.JavaHeap;
import dev.rast.engine.backend.Backend;
import dev.rast.engine.json.Json;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.KvCache;
import dev.rast.engine.model.Models;
import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "forward", mixinStandardHelpOptions = true,
        description = {"Print the logits of every input position (JSON).",
                "{\"logits\": [[...], ...]} - one row of f32 logits per token, the whole vocabulary;",
                "a logit that is NaN or infinite is written as null (JSON has no such numbers).",
                "For debugging and teaching: compare with Hugging Face's model(ids).logits."},
        footer = {"", "Example:", "  rast forward --model /tmp/tiny --tokens 5,17,300 > logits.json"})
final class ForwardCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "The model (config.json + safetensors)." + ModelFolders.HELP)
    Path model;

    @Option(names = "--tokens", required = true, paramLabel = "IDS", description = "Input token ids, comma-separated.")
    String tokens;

    @Mixin RuntimeOptions runtime;

    @Override
    public Integer call() throws Exception {
        int[] ids = TokenIds.parse("--tokens", tokens);
        try (Backend backend = runtime.open(); CausalLM m = Models.load(ModelFolders.model(model), backend, runtime.weights())) {
            runtime.configure(java.util.List.of(m));
            int V = m.config().vocabSize();
            TokenIds.check("--tokens", ids, V);
            // Every position's logits come back to the heap at once: 300 ids of a 152k vocabulary are 180 MB.
            if ((long) ids.length * V > Integer.MAX_VALUE - 8)
                throw new BadInputException(ids.length + " --tokens × " + V + " logits each is more than one array holds: give fewer --tokens");
            JavaHeap.require(4.0 * ids.length * V, ids.length + " --tokens × " + V + " logits each", "give fewer --tokens");
            float[] logits = new float[ids.length * V];
            try (KvCache cache = m.newCache(ids.length)) {
                backend.download(m.forward(ids, cache, ids.length), MemorySegment.ofArray(logits));
            }
            BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
            long nonFinite = 0;
            for (float v : logits) if (!Float.isFinite(v)) nonFinite++;
            Json.write(out, Json.Layout.LINE, g -> {
                g.writeStartObject();
                g.writeArrayFieldStart("logits");
                for (int t = 0; t < ids.length; t++) {
                    g.writeStartArray();
                    for (int i = 0; i < V; i++) {
                        float v = logits[t * V + i];
                        if (Float.isFinite(v)) g.writeNumber(v);
                        else g.writeNull(); // JSON has no NaN or infinity
                    }
                    g.writeEndArray();
                }
                g.writeEndArray();
                g.writeEndObject();
            });
            out.write('\n');
            out.flush();
            if (nonFinite > 0)
                System.err.printf("warning: %d of %d logits are NaN or infinite (weights or activations out of float range), written as null%n",
                        nonFinite, logits.length);
        }
        return 0;
    }
}
