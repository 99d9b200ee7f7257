package io.stratus.broker;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Delivers a message to the sessions of this node whose subscriptions match it, each at most once, at the lower of the
 * message's and the subscription's QoS; a QoS 1/2 message owed to a persistent session is queued in the store first.
 */
final class LocalRoute {
    private final Sessions sessions;
    private final BrokerStore store;
    /** The sequence of queued messages, shared with the broker (set past the stored ones at start). */
    private final AtomicLong seqs;

    LocalRoute(Sessions sessions, BrokerStore store, AtomicLong seqs) {
        this.sessions = sessions;
        this.store = store;
        this.seqs = seqs;
    }

    private static final CompletableFuture<Void> NOTHING_TO_STORE = CompletableFuture.completedFuture(null);

    /** One future for the writes {@link #deliver} collected (null: none), done when all are. */
    static CompletableFuture<Void> allStored(List<CompletableFuture<Void>> durable) {
        return durable == null ? NOTHING_TO_STORE
                : durable.size() == 1 ? durable.get(0) : CompletableFuture.allOf(durable.toArray(CompletableFuture[]::new));
    }

    /** Moves the sequence past {@code seq} (a session loaded from another node's rows). */
    void seqAtLeast(long seq) {
        seqs.accumulateAndGet(seq, Math::max);
    }

    /** Queues a QoS 1/2 message for persistent session {@code s}, stored first; completes once its row is committed. */
    CompletableFuture<Void> queue(Session s, Message out) {
        long seq = seqs.incrementAndGet();
        CompletableFuture<Void> stored = store.putMessage(s.key, seq, out);
        Owed owed = s.deliver(out, seq);
        if (owed != null) {
            stored.thenRun(() -> s.stored(owed)); // from now on the payload may leave the heap
        }
        return stored;
    }

    /**
     * Delivers {@code m} of product {@code productId}. Adds the store writes that must complete before the message may
     * be acknowledged to {@code durable}, made when null (rarely: only for persistent sessions); returns it.
     */
    List<CompletableFuture<Void>> deliver(long productId, Message m, List<CompletableFuture<Void>> durable) {
        TopicTree<Session> tree = sessions.existingTree(productId);
        if (tree == null) {
            return durable;
        }
        Targets targets = Targets.borrow();
        try {
            tree.match(m.topic(), targets);
            for (int i = 0; i < targets.size(); i++) {
                Session s = targets.session(i);
                // [MQTT-3.3.1-9] a message sent because of a live subscription goes out with retain 0.
                Message out = m.forDelivery(Math.min(m.qos(), targets.qos(i)), false);
                if (s.persistent() && out.qos() > 0) {
                    if (durable == null) {
                        durable = new ArrayList<>(2);
                    }
                    durable.add(queue(s, out));
                } else {
                    s.deliver(out, 0);
                }
            }
        } finally {
            targets.release();
        }
        return durable;
    }
}
