package io.stratus.broker;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The sessions one message goes to, each once, at the highest QoS any of its matching filters granted (D11,
 * docs/decisions.md). Filled by {@link TopicTree#match}. Most messages match one subscriber or a few: those are found
 * again by a scan of a small array, and an index is made only past {@link #SCAN_LIMIT}, so a publish allocates no map.
 * Each thread reuses one instance ({@link #borrow}): at millions of publishes a second, garbage is GC pauses.
 */
final class Targets implements BiConsumer<Session, Integer> {
    private static final int SCAN_LIMIT = 8;
    private static final ThreadLocal<Targets> PER_THREAD = ThreadLocal.withInitial(Targets::new);

    private Session[] sessions = new Session[4];
    private int[] qos = new int[4];
    private int size;
    private Map<Session, Integer> index;
    private boolean borrowed;

    /** This thread's instance, empty; a fresh one if it is still in use further up the stack. Give it back with {@link #release}. */
    static Targets borrow() {
        Targets t = PER_THREAD.get();
        if (t.borrowed) {
            return new Targets();
        }
        t.borrowed = true;
        return t;
    }

    /** Empties it (no session is kept reachable) for the next {@link #borrow} on this thread. */
    void release() {
        Arrays.fill(sessions, 0, size, null);
        size = 0;
        index = null;
        borrowed = false;
    }

    @Override
    public void accept(Session s, Integer granted) {
        int at = find(s);
        if (at >= 0) {
            qos[at] = Math.max(qos[at], granted);
            return;
        }
        if (size == sessions.length) {
            sessions = Arrays.copyOf(sessions, size * 2);
            qos = Arrays.copyOf(qos, size * 2);
        }
        sessions[size] = s;
        qos[size] = granted;
        if (index != null) {
            index.put(s, size);
        } else if (size == SCAN_LIMIT) {
            index = new IdentityHashMap<>();
            for (int i = 0; i <= size; i++) {
                index.put(sessions[i], i);
            }
        }
        size++;
    }

    private int find(Session s) {
        if (index != null) {
            Integer at = index.get(s);
            return at == null ? -1 : at;
        }
        for (int i = 0; i < size; i++) {
            if (sessions[i] == s) {
                return i;
            }
        }
        return -1;
    }

    int size() {
        return size;
    }

    Session session(int i) {
        return sessions[i];
    }

    int qos(int i) {
        return qos[i];
    }
}
