package io.stratus.broker;

import java.util.Map;
import java.util.function.LongConsumer;

/** Cluster mode's moves of sessions between nodes (docs/cluster.md), on {@link Sessions} and under its locks. */
final class ClusterSessions {
    private final Sessions sessions;
    private final BrokerStore store;

    ClusterSessions(Sessions sessions, BrokerStore store) {
        this.sessions = sessions;
        this.store = store;
    }

    /**
     * Cluster mode: a persistent session whose client connected here after another node held it: a copy in memory from
     * before it moved away gives way to what the store holds now. Tells {@code maxSeq} the highest sequence number
     * loaded; returns whether a session was loaded.
     */
    boolean moveIn(long productId, String clientId, LongConsumer maxSeq) {
        String key = productId + "/" + clientId;
        long[] max = {0};
        synchronized (sessions.lockFor(key)) {
            Session old = sessions.get(key);
            if (old != null && old.outbox() != null) {
                return false; // connected here: this node's copy is the current one
            }
            if (old != null) {
                sessions.forgetLocally(old);
            }
            BrokerStore.StoredSession stored = store.loadSession(key);
            if (stored == null) {
                return false;
            }
            // Matched only once its queue is loaded and this node's sequence is past the stored rows': what arrives from
            // then on queues behind them, under sequence numbers of its own.
            Session s = sessions.restored(new BrokerStore.StoredSession(key, productId, clientId, Map.of()));
            store.loadMessageStubs(key, (k, seq, qos, size, createdAt) -> {
                s.restore(seq, qos, size, createdAt);
                max[0] = Math.max(max[0], seq);
            });
            if (s.restoreDroppedUpTo() != 0) {
                store.deleteMessagesUpTo(Map.of(key, s.restoreDroppedUpTo()));
            }
            maxSeq.accept(max[0]);
            sessions.subscribeRestored(s, stored.subscriptions());
        }
        sessions.interestChanged(productId);
        return true;
    }

    /** Cluster mode, a node that lost the cluster: every connection closes, every session leaves memory (rows stay). */
    void fence(String reason) {
        for (Session s : sessions.all()) {
            synchronized (sessions.lockFor(s.key)) {
                Outbox outbox = s.outbox();
                if (outbox != null) {
                    s.detach(outbox);
                    outbox.close(reason);
                }
                if (s.persistent()) {
                    sessions.forgetLocally(s);
                } else {
                    sessions.discard(s);
                }
            }
        }
    }

    /** Cluster mode: a clean session starts here; a persistent one stored by another node ends [MQTT-3.1.2-6]. */
    void discardStored(long productId, String clientId) {
        String key = productId + "/" + clientId;
        synchronized (sessions.lockFor(key)) {
            if (sessions.get(key) == null) {
                store.deleteSession(key);
            }
        }
    }
}
