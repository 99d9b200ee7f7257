package io.stratus.broker;

import io.stratus.store.BatchWriter;
import io.stratus.store.Database;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The user topics of each product, as the {@code /mqtt/topic} API shows them (D26, docs/decisions.md): created through
 * that API, or recorded when a client subscribes to an exact topic name (wildcard filters record nothing). Deleting one
 * does not touch subscriptions; a later exact subscription records it again. Table {@code mqtt_topic}
 * ({@link UserTopicStore}) is the truth, written through the state writer in call order (each write is queued under the
 * product's lock), and this map is its cache, so that a SUBSCRIBE is handled on the event loop without I/O.
 */
public final class UserTopics {
    /** What {@link #create} did. */
    public enum Outcome { CREATED, EXISTS, LIMIT }

    private static final Logger log = LoggerFactory.getLogger(UserTopics.class);

    private final UserTopicStore store;
    private final int maxPerProduct;
    /** Product id -> topic name -> creation time (epoch ms). */
    private final Map<Long, Map<String, Long>> topics = new ConcurrentHashMap<>();

    UserTopics(Database db, BatchWriter writer, int maxPerProduct) {
        this.store = new UserTopicStore(db, writer);
        this.maxPerProduct = maxPerProduct;
        // At most the limit per product, the oldest first: a store holding more (written under a higher limit, or none)
        // must not fill the heap at start-up. The others stay in the table, unlisted, and count for nothing.
        int[] skipped = {0};
        store.load((productId, name, createTime) -> {
            Map<String, Long> m = of(productId);
            if (full(m)) {
                skipped[0]++;
            } else {
                m.put(name, createTime);
            }
        });
        if (skipped[0] > 0) {
            log.warn("{} user topics in the store are over topics.max-per-product ({}) and not loaded", skipped[0], maxPerProduct);
        }
    }

    /** The limit of topics per product ({@code topics.max-per-product}); 0 = none. */
    public int maxPerProduct() {
        return maxPerProduct;
    }

    /** The product's topics, sorted. */
    public List<String> list(long productId) {
        Map<String, Long> m = topics.get(productId);
        return m == null ? List.of() : m.keySet().stream().sorted().toList();
    }

    public boolean contains(long productId, String name) {
        Map<String, Long> m = topics.get(productId);
        return m != null && m.containsKey(name);
    }

    /**
     * {@code POST /mqtt/topic}: the future completes once the topic is stored (at once for EXISTS and LIMIT), or
     * fails as the writer does ({@link BatchWriter.Overloaded} when its queue is full; the topic is then forgotten).
     * The name must already be valid (not checked here).
     */
    public CompletableFuture<Outcome> create(long productId, String name) {
        Map<String, Long> m = of(productId);
        long now = System.currentTimeMillis();
        CompletableFuture<Void> stored;
        synchronized (m) {
            if (m.containsKey(name)) {
                return CompletableFuture.completedFuture(Outcome.EXISTS);
            }
            if (full(m)) {
                return CompletableFuture.completedFuture(Outcome.LIMIT);
            }
            m.put(name, now);
            stored = store.insert(productId, name, now);
        }
        return stored.handle((ok, e) -> {
            if (e != null) {
                m.remove(name, now);
                throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
            }
            return Outcome.CREATED;
        });
    }

    /** {@code DELETE /mqtt/topic}: false when the product has no such topic; otherwise completes once stored. */
    public CompletableFuture<Boolean> delete(long productId, String name) {
        Map<String, Long> m = topics.get(productId);
        if (m == null) {
            return CompletableFuture.completedFuture(false);
        }
        synchronized (m) {
            if (m.remove(name) == null) {
                return CompletableFuture.completedFuture(false);
            }
            return store.delete(productId, name).thenApply(v -> true);
        }
    }

    /**
     * Records the exact topic of a granted subscription (D26); runs on an event loop, so the write is only queued.
     * False when the topic is new and the product is at its limit: the subscription is then refused.
     */
    boolean record(long productId, String name) {
        Map<String, Long> m = of(productId);
        synchronized (m) {
            if (m.containsKey(name)) {
                return true;
            }
            if (full(m)) {
                return false;
            }
            long now = System.currentTimeMillis();
            m.put(name, now);
            store.insert(productId, name, now).exceptionally(e -> {
                log.warn("topic '{}' of product {} not stored: {}", name, productId, e.getMessage());
                return null;
            });
            return true;
        }
    }

    /** Drops the cached topics of a deleted product (its rows went with it). */
    void forget(long productId) {
        topics.remove(productId);
    }

    private boolean full(Map<String, Long> m) {
        return maxPerProduct > 0 && m.size() >= maxPerProduct;
    }

    private Map<String, Long> of(long productId) {
        return topics.computeIfAbsent(productId, p -> new ConcurrentHashMap<>());
    }
}
