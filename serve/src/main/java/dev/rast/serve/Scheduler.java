package dev.rast.serve;

import dev.rast.run.ModelSet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * The one thread that owns the models: it decodes the jobs waiting in a bounded queue as one continuous batch of at
 * most {@code maxBatch} sequences, a job joining between steps whenever the batch has room, and sleeps while there
 * is none. A full queue refuses new jobs (the server answers 429).
 */
final class Scheduler implements AutoCloseable {
    private final BlockingQueue<Job> queue;
    private final int maxBatch;
    private final BatchRun runner;
    private final Thread thread;
    private volatile boolean closing;

    Scheduler(ModelSet models, int queueCapacity, int maxBatch) {
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.maxBatch = maxBatch;
        this.runner = new BatchRun(models, () -> closing);
        this.thread = Thread.ofPlatform().name("rast-scheduler").daemon(true).unstarted(this::loop);
        thread.start();
    }

    /** Queues {@code job}; false when the queue is full. */
    boolean offer(Job job) { return !closing && queue.offer(job); }

    int waiting() { return queue.size(); }

    boolean closing() { return closing; }

    /** Sequences decoding now. */
    int running() { return runner.running(); }

    private void loop() {
        while (!closing) {
            Job first;
            try {
                first = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            runner.run(first, queue::poll, maxBatch);
        }
    }

    private static void fail(List<Job> jobs, ApiError error) {
        for (Job job : jobs) job.events.add(new Job.Failed(error));
    }

    /** Ends running samples at their next step and refuses queued jobs. */
    @Override
    public void close() {
        closing = true;
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
