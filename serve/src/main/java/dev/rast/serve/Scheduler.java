package dev.rast.serve;

import dev.rast.run.ModelSet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.LongConsumer;

/**
 * The one thread that owns the models: it decodes the jobs waiting in a bounded queue as one continuous batch of at
 * most {@code maxBatch} sequences, a job joining between steps whenever the batch has room and its KV caches fit,
 * and sleeps while there is none. A full queue refuses new jobs (the server answers 429).
 */
final class Scheduler implements AutoCloseable {
    /** What /metrics reads from the scheduler. */
    interface Gauges {
        long modelTokens(int model);

        long kvUsed();

        long kvReserved();

        long kvBudget();
    }

    private final BlockingQueue<Job> queue;
    private final int maxBatch;
    private final BatchRun runner;
    private final Thread thread;
    /** Running samples end now ("abort") and queued jobs are refused. */
    private volatile boolean aborting;
    /** No job is accepted any more (queued ones still run, until {@link #aborting}). */
    private volatile boolean closing;
    private volatile boolean busy;

    Scheduler(ModelSet models, ServeConfig config, LongConsumer stepTime) {
        this.queue = new ArrayBlockingQueue<>(config.queueCapacity());
        this.maxBatch = config.maxBatch();
        this.runner = new BatchRun(models, () -> aborting, config.prefillChunk(), config.kvCacheBytes(), config.hostSampling(), stepTime);
        this.thread = Thread.ofPlatform().name("rast-scheduler").daemon(true).unstarted(this::loop);
        thread.start();
    }

    Gauges gauges() {
        return new Gauges() {
            @Override public long modelTokens(int model) { return runner.modelTokens(model); }

            @Override public long kvUsed() { return runner.kvUsed(); }

            @Override public long kvReserved() { return runner.kvReserved(); }

            @Override public long kvBudget() { return runner.kvBudget(); }
        };
    }

    /** Whether {@code job}'s KV caches at full length could ever fit the budget (else it is refused). */
    boolean everFits(Job job) { return runner.everFits(job); }

    /**
     * Queues every job of one request, or none: false when the queue has no room for all of them. Offers are one
     * at a time, so two requests' jobs never interleave.
     */
    synchronized boolean offer(List<Job> jobs) {
        if (closing || queue.remainingCapacity() < jobs.size()) return false;
        queue.addAll(jobs);
        return true;
    }

    int waiting() { return queue.size(); }

    boolean samplesOnDevice() { return runner.samplesOnDevice(); }

    boolean closing() { return closing; }

    /** Sequences decoding now. */
    int running() { return runner.running(); }

    private void loop() {
        while (!aborting) {
            Job first;
            try {
                first = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            busy = true;
            try {
                runner.run(first, queue, maxBatch);
            } finally {
                busy = false;
            }
        }
    }

    private static void fail(List<Job> jobs, ApiError error) {
        for (Job job : jobs) job.events.add(new Job.Failed(error));
    }

    /**
     * Stops accepting jobs; the queued and running ones go on for up to {@code graceMillis}, then running samples end
     * ("abort") at their next step and queued jobs are refused (503). Returns when the scheduler thread has stopped.
     */
    void shutdown(long graceMillis) {
        synchronized (this) {
            closing = true;
        }
        long deadline = System.nanoTime() + graceMillis * 1_000_000;
        try {
            while ((busy || !queue.isEmpty()) && System.nanoTime() < deadline) Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        close();
    }

    /** Ends running samples at their next step and refuses queued jobs. */
    @Override
    public void close() {
        synchronized (this) {
            closing = true;
        }
        aborting = true;
        thread.interrupt();
        List<Job> left = new ArrayList<>();
        queue.drainTo(left);
        fail(left, new ApiError(503, "server_error", null, null, "the server is shutting down"));
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // A job offered while the first drain ran is refused too.
        left.clear();
        queue.drainTo(left);
        fail(left, new ApiError(503, "server_error", null, null, "the server is shutting down"));
    }
}
