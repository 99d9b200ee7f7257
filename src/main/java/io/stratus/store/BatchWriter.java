package io.stratus.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One writer thread with group commit: it takes everything queued when the previous commit ended (up to
 * {@code maxBatch} writes, no fixed delay, so acks stay fast at low load), runs it in one transaction and
 * then completes each write's future in arrival order. The queue is bounded: {@link #submit} fails fast
 * with {@link Overloaded} when it is full, so callers push back instead of piling up memory.
 */
public final class BatchWriter implements AutoCloseable {
    /** One write, run inside the batch's transaction. */
    @FunctionalInterface
    public interface Write {
        void apply(Connection connection) throws SQLException;
    }

    /** The writer's queue is full. */
    public static final class Overloaded extends RuntimeException {
        Overloaded(String name) {
            super(name + " writer queue is full");
        }
    }

    private record Pending(Write write, CompletableFuture<Void> done) {}

    private static final Logger log = LoggerFactory.getLogger(BatchWriter.class);
    private static final Pending STOP = new Pending(c -> {}, new CompletableFuture<>());

    private final Database database;
    private final String name;
    private final int maxBatch;
    private final BlockingQueue<Pending> queue;
    private final Thread thread;
    private volatile boolean closed;

    public BatchWriter(Database database, String name, int capacity, int maxBatch) {
        this.database = database;
        this.name = name;
        this.maxBatch = maxBatch;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.thread = new Thread(this::run, name + "-writer");
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues a write; the future completes after its transaction committed, or fails with the cause. */
    public CompletableFuture<Void> submit(Write write) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (closed) {
            done.completeExceptionally(new IllegalStateException(name + " writer is closed"));
        } else if (!queue.offer(new Pending(write, done))) {
            done.completeExceptionally(new Overloaded(name));
        }
        return done;
    }

    public int queueDepth() {
        return queue.size();
    }

    private void run() {
        List<Pending> batch = new ArrayList<>(maxBatch);
        boolean stopping = false;
        while (!stopping) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                break;
            }
            queue.drainTo(batch, maxBatch - 1);
            stopping = batch.remove(STOP);
            commit(batch);
            batch.clear();
        }
        // Anything that raced in after STOP still gets written.
        queue.drainTo(batch);
        batch.remove(STOP);
        commit(batch);
    }

    private void commit(List<Pending> batch) {
        if (batch.isEmpty()) {
            return;
        }
        try {
            database.inTransaction(c -> {
                for (Pending p : batch) {
                    p.write.apply(c);
                }
                return null;
            });
            batch.forEach(p -> p.done.complete(null));
        } catch (RuntimeException batchFailure) {
            if (batch.size() == 1) {
                log.warn("{} write failed: {}", name, batchFailure.getMessage());
                batch.get(0).done.completeExceptionally(batchFailure);
                return;
            }
            // One bad write must not fail its neighbours: retry each on its own.
            for (Pending p : batch) {
                commit(List.of(p));
            }
        }
    }

    /** Stops accepting writes, writes what is queued, and waits for the thread to end. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            queue.put(STOP);
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
