package io.stratus.broker;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * MQTT 3.1.1 subscriptions (section 4.7) in a trie keyed by topic level.
 *
 * <p>A subscriber is identified by its {@code equals}/{@code hashCode}; each (filter, subscriber) pair has one granted
 * QoS. {@link #match} is lock-free and may run on many threads at once (Netty event loops); {@link #subscribe} and
 * {@link #unsubscribe} are serialised on the tree.
 *
 * @param <S> the subscriber
 */
public final class TopicTree<S> {
    private final Node<S> root = new Node<>(null, "");
    private volatile int size; // written only while holding the lock

    /** Adds the subscription, or replaces the QoS when this subscriber already has this exact filter. */
    public synchronized void subscribe(String filter, S subscriber, int qos) {
        String reason = Topics.checkFilter(filter);
        if (reason != null) {
            throw new IllegalArgumentException(reason + ": " + filter);
        }
        Objects.requireNonNull(subscriber, "subscriber");
        if (qos < 0 || qos > 2) {
            throw new IllegalArgumentException("QoS " + qos);
        }
        Node<S> node = walk(filter, true);
        if (node.subscribersForWrite(filter.endsWith("#")).put(subscriber, qos) == null) {
            size++;
        }
    }

    /** Removes the subscription; returns whether it existed. Nodes left empty are unlinked. */
    public synchronized boolean unsubscribe(String filter, S subscriber) {
        if (subscriber == null || Topics.checkFilter(filter) != null) {
            return false;
        }
        Node<S> node = walk(filter, false);
        Map<S, Integer> subscribers = node == null ? null : filter.endsWith("#") ? node.hashSubscribers : node.subscribers;
        if (subscribers == null || subscribers.remove(subscriber) == null) {
            return false;
        }
        size--;
        // A reader may still be inside a node we unlink; it is empty, so the reader sees nothing, which is what a match
        // ordered just after this unsubscribe would see. Writers always start at the root, so none reuses an unlinked node.
        while (node.parent != null && node.isEmpty()) {
            Node<S> parent = node.parent;
            if (parent.plus == node) {
                parent.plus = null;
            } else {
                parent.children.remove(node.level, node);
            }
            node = parent;
        }
        return true;
    }

    /**
     * Calls {@code visitor} once per (filter, subscriber) pair whose filter matches {@code topic}, with the granted QoS.
     * A subscriber with several matching filters is visited once for each; merging is the caller's business.
     */
    public void match(String topic, BiConsumer<S, Integer> visitor) {
        // [MQTT-4.7.2-1] a filter starting with '+' or '#' does not match a topic starting with '$' ($dp, $SYS, ...)
        descend(root, topic, 0, !Topics.isSystem(topic), visitor);
    }

    /** Number of (filter, subscriber) pairs. */
    public int size() {
        return size;
    }

    /** Nodes below the root, for tests of pruning. */
    int nodeCount() {
        return count(root) - 1;
    }

    /**
     * {@code node} has matched the topic levels before {@code start}; {@code start == topic.length() + 1} once all have
     * matched. Levels are found by index, so a match allocates only one substring per level that has exact children.
     */
    private static <S> void descend(Node<S> node, String topic, int start, boolean wildcards,
            BiConsumer<S, Integer> visitor) {
        Map<S, Integer> hash = node.hashSubscribers;
        if (wildcards && hash != null) {
            // "x/#" matches "x" itself and every level below it [MQTT-4.7.1-2]
            hash.forEach(visitor);
        }
        if (start > topic.length()) {
            Map<S, Integer> exactSubscribers = node.subscribers;
            if (exactSubscribers != null) {
                exactSubscribers.forEach(visitor);
            }
            return;
        }
        int end = topic.indexOf('/', start);
        if (end < 0) {
            end = topic.length();
        }
        Map<String, Node<S>> children = node.children;
        if (children != null && !children.isEmpty()) {
            Node<S> exact = children.get(topic.substring(start, end));
            if (exact != null) {
                descend(exact, topic, end + 1, true, visitor);
            }
        }
        Node<S> plus = node.plus;
        if (wildcards && plus != null) {
            // '+' matches exactly one level, the empty level included ("a/+" matches "a/")
            descend(plus, topic, end + 1, true, visitor);
        }
    }

    /** The node holding {@code filter}: for "x/#" the node of "x", for "#" the root. Null if absent and not creating. */
    private Node<S> walk(String filter, boolean create) {
        boolean multi = filter.endsWith("#"); // a valid filter has '#' only as its whole last level
        if (multi && filter.length() == 1) {
            return root;
        }
        int stop = multi ? filter.length() - 2 : filter.length(); // end of the levels to walk: before "/#"
        Node<S> node = root;
        int start = 0;
        while (true) {
            int end = filter.indexOf('/', start);
            if (end < 0 || end > stop) {
                end = stop;
            }
            String level = filter.substring(start, end);
            boolean plus = level.equals("+");
            Node<S> next = plus ? node.plus : node.child(level);
            if (next == null) {
                if (!create) {
                    return null;
                }
                // Published fully built: through the volatile field or the map, so a reader never sees it half made
                next = new Node<>(node, level);
                if (plus) {
                    node.plus = next;
                } else {
                    node.childrenForWrite().put(level, next);
                }
            }
            node = next;
            if (end == stop) {
                return node;
            }
            start = end + 1;
        }
    }

    private static int count(Node<?> node) {
        int n = 1;
        if (node.children != null) {
            for (Node<?> child : node.children.values()) {
                n += count(child);
            }
        }
        Node<?> plus = node.plus;
        return plus == null ? n : n + count(plus);
    }

    /**
     * One topic level. Exact children, the '+' child and the "#" subscribers are kept apart so a match looks up one
     * exact child and never scans siblings.
     */
    private static final class Node<S> {
        final Node<S> parent;
        final String level;
        // The maps are made when first needed, by a writer (under the tree's lock), and published through volatile
        // fields: a leaf, which is what most nodes are (one per device topic), carries one small map, not three
        // (memory per connection). Readers treat null as empty.
        volatile ConcurrentHashMap<String, Node<S>> children;
        volatile Node<S> plus;
        /** Subscribers whose filter ends at this level. */
        volatile ConcurrentHashMap<S, Integer> subscribers;
        /** Subscribers of this level followed by "/#" (or of "#" at the root). */
        volatile ConcurrentHashMap<S, Integer> hashSubscribers;

        Node(Node<S> parent, String level) {
            this.parent = parent;
            this.level = level;
        }

        Node<S> child(String level) {
            ConcurrentHashMap<String, Node<S>> c = children;
            return c == null ? null : c.get(level);
        }

        ConcurrentHashMap<String, Node<S>> childrenForWrite() {
            if (children == null) {
                children = new ConcurrentHashMap<>(2);
            }
            return children;
        }

        ConcurrentHashMap<S, Integer> subscribersForWrite(boolean hash) {
            if (hash) {
                if (hashSubscribers == null) {
                    hashSubscribers = new ConcurrentHashMap<>(2);
                }
                return hashSubscribers;
            }
            if (subscribers == null) {
                subscribers = new ConcurrentHashMap<>(2);
            }
            return subscribers;
        }

        boolean isEmpty() {
            return empty(subscribers) && empty(hashSubscribers) && empty(children) && plus == null;
        }

        private static boolean empty(Map<?, ?> m) {
            return m == null || m.isEmpty();
        }
    }
}
