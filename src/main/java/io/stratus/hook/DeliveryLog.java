package io.stratus.hook;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The last outcomes of the posts to each target (a trigger, a product's data push), for the console: what went out
 * when, and why it did not. Bounded: {@value #PER_TARGET} outcomes per target, {@code hook.recent-targets} targets, the
 * least recently posted to forgotten first. In memory: a restart forgets them.
 */
public final class DeliveryLog {
    static final int PER_TARGET = 20;
    private final int maxTargets;

    DeliveryLog(int maxTargets) {
        this.maxTargets = maxTargets;
    }

    /** One post's end: {@code problem} null when delivered; {@code attempts} tries made. */
    public record Outcome(long at, boolean delivered, String problem, int attempts, boolean test) {
    }

    private final Map<String, Deque<Outcome>> byTarget = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Deque<Outcome>> eldest) {
            return size() > maxTargets;
        }
    };

    /** The key of a trigger's posts, as {@link Delivery} names them. */
    static String trigger(long id) {
        return "trigger " + id;
    }

    static String test(long triggerId) {
        return "test of trigger " + triggerId;
    }

    static String push(long productId) {
        return "push of product " + productId;
    }

    synchronized void record(String what, Outcome outcome) {
        String key = what.startsWith("test of ") ? what.substring("test of ".length()) : what;
        Deque<Outcome> recent = byTarget.computeIfAbsent(key, k -> new ArrayDeque<>());
        recent.addFirst(outcome);
        if (recent.size() > PER_TARGET) {
            recent.removeLast();
        }
    }

    /** Newest first. */
    synchronized List<Outcome> recent(String key) {
        Deque<Outcome> recent = byTarget.get(key);
        return recent == null ? List.of() : new ArrayList<>(recent);
    }

    synchronized int targets() {
        return byTarget.size();
    }
}
