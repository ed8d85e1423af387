package dev.rast.serve;

import dev.rast.engine.generate.Generator;
import dev.rast.engine.sample.Sampler;
import dev.rast.engine.sample.SequenceRandom;
import dev.rast.engine.sample.StopStrings;
import dev.rast.run.Lockstep;
import dev.rast.run.ModelSet;
import dev.rast.text.tokenizer.StreamingDecoder;
import dev.rast.engine.BadInputException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * Runs the samples of jobs as one continuous batch of the engine's {@link Generator}, jobs joining between steps as
 * places free up: each sequence is fused
 * with its own job's λ (or not at all), sampled with its job's settings and seed, and stopped by its job's max tokens,
 * stop strings and end-of-sequence rule. Sample s of a job draws from {@code SequenceRandom.of(seed, s)}, as
 * {@code rast generate} does, so a request gives the tokens {@code rast generate} gives with the same seed.
 */
final class BatchRun {
    private final ModelSet models;
    private final BooleanSupplier closing;
    private volatile int running;

    BatchRun(ModelSet models, BooleanSupplier closing) {
        this.models = models;
        this.closing = closing;
    }

    /** Sequences decoding now (read by other threads for /metrics). */
    int running() { return running; }

    /**
     * Decodes {@code first} and every job {@code more} gives (null: none waiting now) as places in the batch free
     * up, until nothing is live and none waits. {@code maxBatch}: most sequences decoding together. If generation
     * fails, every job admitted and not finished gets the error.
     */
    void run(Job first, Supplier<Job> more, int maxBatch) {
        // Sequence numbers count samples in admission order (see Generator): a job's slots are numbered as it is
        // admitted. Slots change only on this thread between steps; choosers read them during a step.
        Map<Integer, Slot> slots = new HashMap<>();
        Set<Job> live = new LinkedHashSet<>();
        Job[] waiting = {first};
        int[] nextId = {0};
        Generator.Admission admission = () -> {
            Job job = waiting[0] != null ? waiting[0] : closing.getAsBoolean() ? null : more.get();
            waiting[0] = null;
            if (job == null) return null;
            for (int s = 0; s < job.n; s++) slots.put(nextId[0]++, new Slot(job, s));
            live.add(job);
            running = slots.size();
            return new Generator.Request(job.prompt, job.n, job.maxTokens);
        };
        Set<Integer> eos = models.eosIds();
        Generator.Fusion fusion = (g, rows) -> {
            Job job = slots.get(g).job;
            return job.fusion == null ? rows[0] : job.fusion.fuseInPlace(rows);
        };
        Generator.TokenChooser chooser = (g, row) -> slots.get(g).choose(row);
        // End-of-sequence ids are a per-job rule (ignore_eos), so the generator is given none and the listener decides.
        Generator.TokenListener listener = (g, token) -> {
            Slot slot = slots.get(g);
            if (!slot.accept(token, eos, closing.getAsBoolean())) return false;
            slots.remove(g);
            running = slots.size();
            if (--slot.job.unfinished == 0) live.remove(slot.job);
            return true;
        };
        try {
            Lockstep.generator(models.models(), fusion).generate(admission, maxBatch, 0, Set.of(), chooser, listener);
        } catch (RuntimeException | Error e) {
            if (waiting[0] != null) live.add(waiting[0]);
            ApiError error = e instanceof BadInputException ? ApiError.invalid(null, e.getMessage())
                    : new ApiError(500, "server_error", null, null, "generation failed: " + e);
            for (Job job : live) job.events.add(new Job.Failed(error));
            if (e instanceof Error err && !(e instanceof OutOfMemoryError)) throw err;
        } finally {
            running = 0;
        }
    }

    /** One sample of a job while it decodes. */
    private final class Slot {
        final Job job;
        final int sample;
        final RandomGenerator rng;
        final List<Integer> tokens = new ArrayList<>();
        final List<Double> logprobs = new ArrayList<>();
        final StreamingDecoder decoder;
        final StopStrings stops;
        Sampler sampler;

        Slot(Job job, int sample) {
            this.job = job;
            this.sample = sample;
            rng = SequenceRandom.of(job.params.seed(), sample);
            // Without a tokenizer (prompts of token ids) there is no text: tokens only, no stop strings.
            decoder = models.tokenizer() == null ? null : models.tokenizer().streamingDecoder(true);
            stops = new StopStrings(job.stops);
        }

        // A slot's chooser runs on one thread at a time (the generator chooses each sequence once per step).
        int choose(float[] row) {
            if (sampler == null) sampler = new Sampler(job.params);
            Sampler.Choice c = sampler.sample(row, rng);
            logprobs.add(c.logprob());
            return c.token();
        }

        boolean accept(int token, Set<Integer> eos, boolean closing) {
            tokens.add(token);
            boolean isEos = !job.ignoreEos && eos.contains(token);
            if (decoder != null) emit(stops.feed(decoder.push(token)));
            boolean stopped = stops.stopped();
            boolean length = tokens.size() >= job.maxTokens;
            boolean abort = job.cancelled || closing;
            if (!(stopped || isEos || length || abort)) return false;
            if (!stopped && decoder != null) {
                emit(stops.feed(decoder.flush()));
                if (!stops.stopped()) emit(stops.flush());
            }
            String reason = stops.stopped() || isEos ? "stop" : length ? "length" : "abort";
            job.events.add(new Job.Finished(sample, tokens.stream().mapToInt(Integer::intValue).toArray(),
                    logprobs.stream().mapToDouble(Double::doubleValue).toArray(), reason));
            return true;
        }

        private void emit(String chunk) {
            if (!chunk.isEmpty()) job.events.add(new Job.Text(sample, chunk));
        }
    }
}
