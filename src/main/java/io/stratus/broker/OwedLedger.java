package io.stratus.broker;

/**
 * The accounts one session keeps of its owed messages outside itself: the payload bytes the heap holds
 * ({@code stratus_mqtt_queued_heap_bytes}), the messages dropped, and the stored rows that can go once a message is
 * owed no more. Shared by the session, its {@link InflightWindow} and its {@link OwedQueue}; not thread-safe: only
 * they call it, under the session's lock.
 */
final class OwedLedger {
    private final Session session;
    private final SessionStorage storage;
    private final BrokerStats stats;
    private long dropped;

    OwedLedger(Session session, SessionStorage storage, BrokerStats stats) {
        this.session = session;
        this.storage = storage;
        this.stats = stats;
    }

    /** Messages dropped since the session was created (QoS 0 when not writable, overflow, expiry). */
    long dropped() {
        return dropped;
    }

    void countDrop() {
        dropped++;
        stats.dropped();
    }

    /** The message is owed no more: its payload and its row can go. */
    void finish(Owed owed) {
        owed.done = true;
        release(owed);
        if (owed.seq != 0) {
            storage.settled(session, owed.seq);
        }
    }

    void hold(Owed owed, Message message) {
        owed.message = message;
        stats.heldInHeap(owed.size);
    }

    /** The payload leaves the heap: the message is a stub, read back from the store when due. */
    void release(Owed owed) {
        if (owed.message != null) {
            owed.message = null;
            stats.heldInHeap(-owed.size);
        }
    }

    /** Offline: the payloads of {@code owed} that the store holds leave the heap. */
    void releaseStored(Iterable<Owed> owed) {
        for (Owed o : owed) {
            if (o.stored) {
                release(o);
            }
        }
    }
}
