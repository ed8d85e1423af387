package dev.rast.serve;

import dev.rast.engine.BadInputException;
import dev.rast.run.ModelSet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * The one thread that owns the models: it takes the jobs waiting in a bounded queue, all of them at once (up to
 * {@code maxBatchJobs}), and decodes them as one batch; jobs that arrive meanwhile wait for the next batch.
 * A full queue refuses new jobs (the server answers 429).
 */
final class Scheduler implements AutoCloseable {
    private final BlockingQueue<Job> queue;
    private final int maxBatchJobs;
    private final BatchRun runner;
    private final Thread thread;
    private volatile boolean closing;

    Scheduler(ModelSet models, int queueCapacity, int maxBatchJobs) {
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.maxBatchJobs = maxBatchJobs;
        this.runner = new BatchRun(models, () -> closing);
        this.thread = Thread.ofPlatform().name("rast-scheduler").daemon(true).unstarted(this::loop);
        thread.start();
    }

    /** Queues {@code job}; false when the queue is full. */
    boolean offer(Job job) { return !closing && queue.offer(job); }

    int waiting() { return queue.size(); }

    private void loop() {
        while (!closing) {
            List<Job> batch = new ArrayList<>();
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                return;
            }
            queue.drainTo(batch, maxBatchJobs - 1);
            try {
                runner.run(batch);
            } catch (BadInputException e) {
                fail(batch, ApiError.invalid(null, e.getMessage()));
            } catch (RuntimeException | OutOfMemoryError e) {
                fail(batch, new ApiError(500, "server_error", null, null, "generation failed: " + e));
            }
        }
    }

    private static void fail(List<Job> batch, ApiError error) {
        for (Job job : batch) job.events.add(new Job.Failed(error));
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
    }
}
