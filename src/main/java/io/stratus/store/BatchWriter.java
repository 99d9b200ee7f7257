package io.stratus.store;

import io.stratus.monitor.Worker;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One writer thread with group commit: it takes everything queued when the previous commit ended (up to
 * {@code maxBatch} writes, no fixed delay, so acks stay fast at low load), runs it in one transaction and
 * then completes each write's future in arrival order. The queue is bounded: {@link #submit} fails fast
 * with {@link Overloaded} when it is full, so callers push back instead of piling up memory. The thread is a
 * {@link Worker}: an Error in a batch fails that batch's writes and the writer goes on with the next.
 */
public final class BatchWriter implements AutoCloseable {
    /** One write, run inside the batch's transaction. */
    @FunctionalInterface
    public interface Write {
        void apply(Connection connection) throws SQLException;
    }

    /** One write that uses its batch: statements prepared once per transaction, state shared with the batch's other writes. */
    @FunctionalInterface
    public interface BatchedWrite {
        void apply(Batch batch) throws SQLException;
    }

    /**
     * What the writes of one transaction share. Preparing a statement costs about as much as running it for a
     * few rows, so {@link #statement} prepares each SQL text once per batch (the writer closes them after the
     * commit; callers must not). {@link #shared} and {@link #atEnd} let writes coalesce (e.g. many updates of
     * one row into one): end work runs once per key, in order of first registration, after every write of the
     * batch and before the commit. A write retried on its own (after its batch failed) gets a batch of its own.
     */
    public static final class Batch {
        private final Connection connection;
        private final Map<String, PreparedStatement> statements = new HashMap<>();
        private final Map<Object, Object> shared = new HashMap<>();
        private final Map<Object, BatchedWrite> atEnd = new LinkedHashMap<>();

        Batch(Connection connection) {
            this.connection = connection;
        }

        public Connection connection() {
            return connection;
        }

        public PreparedStatement statement(String sql) throws SQLException {
            PreparedStatement ps = statements.get(sql);
            if (ps == null) {
                ps = connection.prepareStatement(sql);
                statements.put(sql, ps);
            }
            return ps;
        }

        /** State under {@code key} for the rest of this batch, made by {@code create} on first use. */
        @SuppressWarnings("unchecked")
        public <T> T shared(Object key, Supplier<T> create) {
            return (T) shared.computeIfAbsent(key, k -> create.get());
        }

        /** Runs {@code work} once at the end of the batch, however many writes register it under {@code key}. */
        public void atEnd(Object key, BatchedWrite work) {
            atEnd.putIfAbsent(key, work);
        }

        private void finish() throws SQLException {
            for (BatchedWrite work : atEnd.values()) {
                work.apply(this);
            }
        }

        private void close() {
            for (PreparedStatement ps : statements.values()) {
                try {
                    ps.close();
                } catch (SQLException e) {
                    log.debug("closing a batch statement failed: {}", e.getMessage());
                }
            }
        }
    }

    /** The writer's queue is full. */
    public static final class Overloaded extends RuntimeException {
        Overloaded(String name) {
            super(name + " writer queue is full");
        }
    }

    private record Pending(BatchedWrite write, CompletableFuture<Void> done) {}

    private static final Logger log = LoggerFactory.getLogger(BatchWriter.class);
    private static final Pending STOP = new Pending(b -> {}, new CompletableFuture<>());

    private final Database database;
    private final String name;
    private final int maxBatch;
    private final BlockingQueue<Pending> queue;
    private final List<Pending> batch;
    private final Worker worker;
    private volatile boolean closed;
    /** The reason the latest commit failed; null once a commit succeeds again. Read by the health check. */
    private volatile String lastFailure;
    private volatile long lastFailureAt;
    /** The latest commit failed and that was logged (writer thread only): one WARN when writes start and stop failing. */
    private boolean failing;

    public BatchWriter(Database database, String name, int capacity, int maxBatch) {
        this.database = database;
        this.name = name;
        this.maxBatch = maxBatch;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.batch = new ArrayList<>(maxBatch);
        this.worker = Worker.start(name + "-writer", this::step);
    }

    /** The writer thread, for readiness and tests. */
    public Worker worker() {
        return worker;
    }

    /** Queues a write; the future completes after its transaction committed, or fails with the cause. */
    public CompletableFuture<Void> submit(Write write) {
        return submitBatched(b -> write.apply(b.connection()));
    }

    /** Queues one INSERT, UPDATE or DELETE (see {@link Database#update}); completes as {@link #submit(Write)}. */
    public CompletableFuture<Void> submitUpdate(String sql, Database.Parameters parameters) {
        return submitBatched(b -> {
            // The batch's statement: a burst of one kind of write (a user topic per new subscription) is prepared once.
            PreparedStatement ps = b.statement(sql);
            parameters.bind(ps);
            ps.executeUpdate();
        });
    }

    /** Queues a write that uses its batch (see {@link Batch}); completes as {@link #submit(Write)}. */
    public CompletableFuture<Void> submitBatched(BatchedWrite write) {
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

    /** Why the latest commit failed, or null when it succeeded since, nothing was written yet, or it is older than maxAge. */
    public String recentFailure(long maxAgeMillis) {
        String failure = lastFailure;
        return failure != null && System.currentTimeMillis() - lastFailureAt <= maxAgeMillis ? failure : null;
    }

    /** One transaction: what is queued when it starts (waiting for the first write), up to maxBatch writes. */
    private boolean step() throws InterruptedException {
        batch.add(queue.take());
        queue.drainTo(batch, maxBatch - 1);
        boolean stopping = batch.removeIf(p -> p == STOP); // identity: a record's equals would compare every write
        if (stopping) {
            queue.drainTo(batch); // anything that raced in after STOP still gets written
            batch.remove(STOP);
        }
        try {
            commit(batch);
        } catch (Throwable t) {
            // An Error (out of memory) half-way: no write of the batch may wait for an answer that never comes.
            batch.forEach(p -> p.done.completeExceptionally(t));
            if (stopping) {
                log.error("{} writer: the last batch failed at shutdown: {}", name, t.toString());
                return false;
            }
            throw t;
        } finally {
            batch.clear();
        }
        return !stopping;
    }

    private void commit(List<Pending> batch) {
        if (batch.isEmpty()) {
            return;
        }
        try {
            database.inTransaction(c -> {
                Batch b = new Batch(c);
                try {
                    for (Pending p : batch) {
                        p.write.apply(b);
                    }
                    b.finish();
                } finally {
                    b.close();
                }
                return null;
            });
            lastFailure = null;
            if (failing) {
                failing = false;
                log.warn("{} writer: commits succeed again", name);
            }
            batch.forEach(p -> p.done.complete(null));
        } catch (RuntimeException batchFailure) {
            if (batch.size() == 1 || StoreException.unreachable(batchFailure)) {
                // A store that cannot be reached fails every write alike: retried one by one, each would wait for a
                // connection in turn, and a batch of a thousand would hold the writer for hours.
                lastFailureAt = System.currentTimeMillis();
                lastFailure = batchFailure.getMessage();
                if (!failing) {
                    failing = true;
                    log.warn("{} write failed: {}", name, batchFailure.getMessage()); // once, until commits succeed again
                } else {
                    log.debug("{} write failed: {}", name, batchFailure.getMessage());
                }
                batch.forEach(p -> p.done.completeExceptionally(batchFailure));
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
            worker.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
