package io.stratus.broker;

import java.util.Map;

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
     * before it moved away gives way to what the store holds now. Returns the highest sequence number loaded.
     */
    long moveIn(long productId, String clientId) {
        String key = productId + "/" + clientId;
        long[] maxSeq = {0};
        synchronized (sessions.lockFor(key)) {
            Session old = sessions.get(key);
            if (old != null && old.outbox() != null) {
                return 0; // connected here: this node's copy is the current one
            }
            if (old != null) {
                sessions.forgetLocally(old);
            }
            BrokerStore.StoredSession stored = store.loadSession(key);
            if (stored == null) {
                return 0;
            }
            Session s = sessions.restored(stored);
            store.loadMessageStubs(key, (k, seq, qos, size, createdAt) -> {
                s.restore(seq, qos, size, createdAt);
                maxSeq[0] = Math.max(maxSeq[0], seq);
            });
            if (s.restoreDroppedUpTo() != 0) {
                store.deleteMessagesUpTo(Map.of(key, s.restoreDroppedUpTo()));
            }
        }
        sessions.interestChanged(productId);
        return maxSeq[0];
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
