package io.stratus.broker;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Cluster mode: the newest claim this node knows of for each client id (docs/cluster.md). Every accepted CONNECT
 * claims its client id in the store and gets an epoch one above the last; of racing connections of one client id, on
 * any nodes, only the one with the highest epoch stays. Called under the session's lock in {@link Sessions}.
 */
final class ClientEpochs {
    /** Beyond this many entries, those of client ids without a session here are dropped. */
    private static final int TIDY_ABOVE = 10_000;
    private final Map<String, Long> newest = new ConcurrentHashMap<>();

    /** Whether a connection with {@code epoch} may bind to the session {@code key}: no newer claim is known here. */
    boolean admit(String key, long epoch) {
        Long known = newest.get(key);
        if (known != null && known > epoch) {
            return false;
        }
        newest.put(key, epoch);
        return true;
    }

    /**
     * A newer claim made on another node. True when it is newer than what this node knows, so that a connection bound
     * here must close; either way a connection of an older epoch still on its way here is refused by {@link #admit}.
     */
    boolean claimedElsewhere(String key, long epoch, Map<String, ?> sessions) {
        Long known = newest.get(key);
        if (known != null && known >= epoch) {
            return false;
        }
        if (newest.size() > TIDY_ABOVE) {
            newest.keySet().removeIf(k -> !sessions.containsKey(k));
        }
        newest.put(key, epoch);
        return true;
    }

    /** The session ended here: returns the epoch of its last claim (0 if none) and forgets it. */
    long release(String key) {
        Long epoch = newest.remove(key);
        return epoch == null ? 0 : epoch;
    }

    int size() {
        return newest.size();
    }
}
