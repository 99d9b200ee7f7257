package io.stratus.store;

import io.stratus.monitor.Worker;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Several {@link BatchWriter}s of one kind, each write going to the one its key picks: the writes of one key (one
 * device) stay in order on one thread, and the writers commit side by side on their own connections. A database server
 * runs their transactions in parallel; SQLite, which lets one writer in at a time, is given one.
 */
public final class BatchWriters implements AutoCloseable {
    private final BatchWriter[] writers;

    /**
     * @param count    how many writers; one keeps the plain {@code name} (thread {@code name-writer}), more are
     *                 {@code name-0}, {@code name-1}, ...
     * @param capacity the queued writes all of them together may hold, split evenly
     */
    public BatchWriters(Database database, String name, int count, int capacity, int maxBatch) {
        if (count < 1) {
            throw new IllegalArgumentException("at least one writer");
        }
        this.writers = new BatchWriter[count];
        for (int i = 0; i < count; i++) {
            writers[i] = new BatchWriter(database, count == 1 ? name : name + "-" + i, Math.max(1, capacity / count), maxBatch);
        }
    }

    /** The writer of {@code key}: always the same one for the same key. */
    public BatchWriter forKey(long key) {
        return writers[(int) Math.floorMod(key, (long) writers.length)];
    }

    public int queueDepth() {
        int depth = 0;
        for (BatchWriter w : writers) {
            depth += w.queueDepth();
        }
        return depth;
    }

    /** The failure of the first writer whose latest commit failed within {@code maxAgeMillis}, or null. */
    public String recentFailure(long maxAgeMillis) {
        return Arrays.stream(writers).map(w -> w.recentFailure(maxAgeMillis)).filter(Objects::nonNull).findFirst().orElse(null);
    }

    public List<Worker> workers() {
        return Arrays.stream(writers).map(BatchWriter::worker).toList();
    }

    /** Closes every writer, each after writing what it has queued. */
    @Override
    public void close() {
        for (BatchWriter w : writers) {
            w.close();
        }
    }
}
