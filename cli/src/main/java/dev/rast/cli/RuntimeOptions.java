package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.engine.backend.Backend;
import dev.rast.engine.backend.BackendProvider;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.KvCacheDtype;
import dev.rast.engine.weights.WeightDtype;
import picocli.CommandLine.Option;

/** Options every command that runs a model shares. */
final class RuntimeOptions {
    @Option(names = "--device", paramLabel = "auto|cpu|cuda|reference", defaultValue = "auto",
            description = "Backend to run on: cuda (an NVIDIA GPU), cpu, reference (every op as plain scalar loops on one thread: slow, for checking the others), or auto = cuda when a usable GPU is found, else cpu (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: all cores; at most 4 per core, at least 8, at most 1024).")
    Integer threads;

    @Option(names = "--kv-cache-dtype", paramLabel = "auto|f32|bf16", defaultValue = "auto",
            description = "What KV caches store: bf16 halves their memory and the bytes attention reads; auto = bf16 for a model with BF16 weights, else f32 (default: ${DEFAULT-VALUE}).")
    String kvCacheDtype;

    @Option(names = "--dtype", paramLabel = "auto|bf16|f32|q8_0|q4_0", defaultValue = "auto",
            description = "What the weights are computed in: bf16 rounds F32 checkpoints (SimpleRL-Zoo's) to BF16 as they load, like vLLM's --dtype bfloat16: half the bytes a decode step reads (and half the GPU memory); f32 widens BF16 ones; q8_0 and q4_0 quantize every matrix into llama.cpp's 8-bit / 4-bit blocks of 32 as it loads (CPU only; norms and biases stay as stored); auto keeps each checkpoint's own (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--verbose", description = "Show stack traces on errors.")
    boolean verbose;

    /** Checks every option here (before anything is loaded), then opens the backend. */
    Backend open() {
        kvCache();
        weights();
        return BackendProvider.open(resolve(device), threadCount());
    }

    KvCacheDtype kvCache() { return KvCacheDtype.parse("--kv-cache-dtype", kvCacheDtype); }

    WeightDtype weights() { return WeightDtype.parse("--dtype", dtype); }

    /** Applies the options that belong to loaded models (--kv-cache-dtype) to each of {@code models}. */
    void configure(Iterable<? extends CausalLM> models) {
        KvCacheDtype kv = kvCache();
        for (CausalLM m : models) m.kvCacheDtype(kv);
    }

    /**
     * --threads, or all cores; refused below 1 and above {@link #maxThreads()} (a command may ask before it starts its
     * work, as demo does).
     */
    int threadCount() {
        int procs = Runtime.getRuntime().availableProcessors();
        int n = threads == null ? procs : threads;
        if (n < 1) throw new BadInputException("--threads must be at least 1, is " + n);
        if (n > maxThreads())
            throw new BadInputException("--threads " + n + " is more than " + maxThreads() + " (4 × the " + procs
                    + " processors here, at least 8, at most 1024): more threads than cores only wait for each other");
        return n;
    }

    /**
     * The most worker threads a run starts: 4 per processor (at least 8, so that a small container can still test a
     * larger setting), never more than 1024. Tens of thousands would each reserve a stack and the run would spend its
     * time starting them.
     */
    static int maxThreads() { return Math.min(1024, Math.max(8, 4 * Runtime.getRuntime().availableProcessors())); }

    /**
     * "auto": the GPU backend when it says it can run here, else the CPU. The probe is silent: on a machine
     * without a GPU nothing is printed.
     */
    static String resolve(String device) {
        if (!device.equals("auto")) return device;
        for (BackendProvider p : BackendProvider.all())
            if (p.name().equals("cuda") && p.unavailableReason() == null) return "cuda";
        return "cpu";
    }
}
