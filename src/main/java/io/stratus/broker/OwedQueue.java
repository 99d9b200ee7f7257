package io.stratus.broker;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The QoS 1/2 messages owed to one session behind its in-flight window, oldest first, bounded by {@code
 * session.max-queued} and {@code session.max-queued-bytes} and by its product's {@link QueueBudget}; the oldest gives
 * way (D18, docs/decisions.md), and one queued longer than {@code session.message-ttl-seconds} expires when it reaches
 * the head. A message whose payload is only in the store is a stub here, read back a window at a time when due
 * ({@link #stubsAtHead}). Not thread-safe: only its session calls it, under the session's lock.
 */
final class OwedQueue {
    private final Session.Rules rules;
    private final QueueBudget budget;
    private final BrokerStats stats;
    private final OwedLedger ledger;
    // Made on the first message queued: most sessions never queue one, and idle connections are counted in thousands
    // (memory per connection).
    private ArrayDeque<Owed> queue;
    private long bytes;
    private long enqueuedBytes; // ever queued, and ever taken from the head: their difference is bytes
    private long dequeuedBytes;
    private long restoreDroppedUpTo; // the newest stored row dropped while restoring (rows up to it are deleted)

    OwedQueue(Session.Rules rules, QueueBudget budget, BrokerStats stats, OwedLedger ledger) {
        this.rules = rules;
        this.budget = budget;
        this.stats = stats;
        this.ledger = ledger;
    }

    boolean isEmpty() {
        return queue == null || queue.isEmpty();
    }

    int size() {
        return queue == null ? 0 : queue.size();
    }

    long bytes() {
        return bytes;
    }

    /** More than one window's bytes queued ({@code mqtt.max-inflight-bytes}). */
    boolean holdsMoreThanWindow() {
        return bytes > rules.maxInflightBytes();
    }

    /** More than one window's bytes queued ahead of {@code owed}: its payload is not needed soon. */
    boolean farFromHead(Owed owed) {
        return owed.queueOffset - dequeuedBytes > rules.maxInflightBytes();
    }

    /** One more message of {@code size} bytes would pass the session's limits while something can give way. */
    boolean overLimits(int size) {
        return !isEmpty() && (queue.size() >= rules.maxQueued() || bytes + size > rules.maxQueuedBytes());
    }

    /**
     * Takes room for one more message of {@code size} bytes from the product's budget, the oldest giving way (D18);
     * false when the product's queues are full and this one has nothing left to give. {@code live} false while
     * restoring: not counted as the product's queues being full, and the rows go in one delete later.
     */
    boolean reserve(int size, boolean live) {
        while (!budget.reserve(size)) {
            if (live) {
                stats.productQueueFull();
            }
            if (isEmpty()) {
                return false;
            }
            dropOldest(live);
        }
        return true;
    }

    /** Queues a message whose room was made ({@link #overLimits}, {@link #reserve}). */
    void add(Owed owed) {
        owed.queueOffset = enqueuedBytes;
        enqueuedBytes += owed.size;
        if (queue == null) {
            queue = new ArrayDeque<>(1);
        }
        queue.addLast(owed);
        bytes += owed.size;
        stats.queued(1, owed.size);
    }

    /**
     * Restores a stored message at start-up as a stub (its payload stays in the store), within the same limits as a
     * live one; what gives way is remembered in {@link #restoreDroppedUpTo} (always a prefix of the session's rows,
     * as they come in order), for one delete instead of one per row.
     */
    void restore(long seq, int qos, int size, long enqueuedAt) {
        while (overLimits(size)) {
            dropOldest(false);
        }
        if (!reserve(size, false)) {
            restoreDroppedUpTo = seq;
            ledger.countDrop();
            return;
        }
        add(new Owed(seq, qos, size, enqueuedAt, null, true));
    }

    /** The newest row dropped by {@link #restore}, 0 when none. */
    long restoreDroppedUpTo() {
        return restoreDroppedUpTo;
    }

    /**
     * The message at the head once those there that expired ({@code session.message-ttl-seconds} from when they were
     * queued) or whose row was not found are dropped; null when the queue is empty.
     */
    Owed liveHead(long now) {
        while (!isEmpty()) {
            Owed next = queue.peekFirst();
            if (!next.missing && now - next.enqueuedAt <= rules.ttlMillis()) {
                return next;
            }
            dropOldest(true);
        }
        return null;
    }

    /** Takes the message at the head, to be sent. */
    Owed take() {
        Owed o = queue.pollFirst();
        unqueued(o);
        return o;
    }

    /** Drops the head of the queue; {@code settle} false while restoring (the rows go in one delete). */
    void dropOldest(boolean settle) {
        Owed o = queue.pollFirst();
        unqueued(o);
        if (settle) {
            ledger.finish(o);
        } else {
            o.done = true;
            restoreDroppedUpTo = o.seq;
        }
        ledger.countDrop();
    }

    /** The stubs at the head of the queue, up to one window (count and bytes, at least one). */
    List<Owed> stubsAtHead() {
        List<Owed> batch = new ArrayList<>();
        long batchBytes = 0;
        int scanned = 0;
        for (Owed o : messages()) {
            if (batch.size() >= rules.maxInflight() || scanned++ >= rules.maxQueued()) {
                break;
            }
            if (o.message != null || o.missing) {
                continue;
            }
            if (!batch.isEmpty() && batchBytes + o.size > rules.maxInflightBytes()) {
                break;
            }
            batch.add(o);
            batchBytes += o.size;
        }
        return batch;
    }

    /** Offline: the payloads the store holds leave the heap. */
    void releaseStored() {
        ledger.releaseStored(messages());
    }

    /** Forgets every message, for a session being discarded (its stored rows go with the session's). */
    void discard() {
        for (Owed o : messages()) {
            unqueued(o);
            o.done = true;
            ledger.release(o);
        }
        if (queue != null) {
            queue.clear();
        }
    }

    private Collection<Owed> messages() {
        return queue == null ? List.of() : queue;
    }

    private void unqueued(Owed owed) {
        dequeuedBytes += owed.size;
        bytes -= owed.size;
        budget.release(owed.size);
        stats.queued(-1, -owed.size);
    }
}
