package io.stratus.broker;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The index of every product's retained messages, and each product's retained budget ({@code
 * retained.max-per-product}, {@code retained.max-bytes-per-product}). The store holds the payloads; the heap holds a
 * topic, a QoS and a size per message, plus the payload itself only when it is small ({@link #INLINE_BYTES}), so
 * what a product's retained messages cost in heap depends on how many there are, not on what they weigh, and a
 * restart reads no large payload.
 *
 * <p>Two views per topic: what is served (updated once the store committed, so that what subscribers see is what
 * survives a restart) and what is accounted (updated when a write is accepted, so that concurrent writes cannot
 * all pass the budget).
 */
final class RetainedMessages {
    /** Payloads up to this size stay in the heap and are delivered without a read: status words, small JSON. */
    static final int INLINE_BYTES = 256;
    /** What {@link #write} returns for a QoS 0 message over the budget: routed, not retained, nothing to wait for. */
    static final CompletableFuture<Void> NOT_RETAINED = CompletableFuture.completedFuture(null);

    /** A retained publish over its product's budget: the publisher gets no acknowledgement and is disconnected. */
    static final class LimitExceeded extends RuntimeException {
        LimitExceeded(String message) {
            super(message, null, false, false);
        }
    }

    /** A served retained message; {@code inline} is its payload when small, else null (read from the store). */
    record Entry(String topic, int qos, int size, byte[] inline) {
        Message message() {
            return new Message(topic, inline, qos, true);
        }
    }

    private static final class Slot {
        Entry served;
        int accounted; // 0: no message counts for the topic
        int pending; // writes accepted and not yet committed or failed
    }

    private static final class Product {
        final Map<String, Slot> slots = new HashMap<>();
        int count;
        long bytes;
    }

    private static final Logger log = LoggerFactory.getLogger(RetainedMessages.class);

    private final BrokerStore store;
    private final PayloadReader reader;
    private final BrokerStats stats;
    private final RepeatedWarning refusals = new RepeatedWarning(log, "retained publish to {} refused: {}");
    private final int maxPerProduct;
    private final long maxBytesPerProduct;
    private final Map<Long, Product> products = new ConcurrentHashMap<>();
    private final AtomicLong count = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong heapBytes = new AtomicLong();
    /** Told of each retained message stored or cleared here (cluster mode: the other nodes are told). */
    private volatile BiConsumer<Long, String> onStored = (productId, topic) -> { };

    RetainedMessages(BrokerStore store, PayloadReader reader, BrokerStats stats, int maxPerProduct, long maxBytesPerProduct) {
        this.store = store;
        this.reader = reader;
        this.stats = stats;
        this.maxPerProduct = maxPerProduct;
        this.maxBytesPerProduct = maxBytesPerProduct;
    }

    /**
     * Stores {@code m} as its topic's retained message within the product's budget; the future completes once the store
     * committed it, and only then is it served (memory follows the store: a message that could not be stored, on a
     * full disk say, is neither acknowledged nor served). A zero-byte message clears the topic [MQTT-3.3.1-10].
     * Over the budget, a QoS 1/2 message gets a failed future ({@link LimitExceeded}): [MQTT-3.3.1-5] it must be
     * stored to be accepted, and 3.1.1 has no other refusal of a PUBLISH than no acknowledgement. A QoS 0 one gets
     * {@link #NOT_RETAINED}: the topic's previous retained message is discarded and the server may discard the new one
     * too [MQTT-3.3.1-7]; it is still routed.
     */
    CompletableFuture<Void> write(long productId, Message m) {
        String refused = reserve(productId, m.topic(), m.payload().length);
        if (refused == null) {
            return store(productId, m);
        }
        stats.retainedRefused();
        refusals.warn(RepeatedWarning.printable(m.topic()), refused);
        if (m.qos() > 0) {
            return CompletableFuture.failedFuture(new LimitExceeded(refused));
        }
        reserve(productId, m.topic(), 0);
        store(productId, new Message(m.topic(), new byte[0], 0, true));
        return NOT_RETAINED;
    }

    private CompletableFuture<Void> store(long productId, Message m) {
        CompletableFuture<Void> stored = m.payload().length == 0 ? store.deleteRetained(productId, m.topic())
                : store.putRetained(productId, m);
        return stored.whenComplete((v, e) -> {
            if (e == null) {
                committed(productId, m);
                onStored.accept(productId, m.topic());
            } else {
                failed(productId, m.topic());
            }
        });
    }

    /**
     * Accepts a write of a retained message of {@code size} bytes to {@code topic} (0: a delete) into the product's
     * budget; returns null, or why it does not fit (nothing then changes). Followed by {@link #committed} or {@link
     * #failed}.
     */
    private String reserve(long productId, String topic, int size) {
        Product p = products.computeIfAbsent(productId, id -> new Product());
        synchronized (p) {
            Slot slot = p.slots.get(topic);
            int old = slot == null ? 0 : slot.accounted;
            if (size > 0 && old == 0 && p.count >= maxPerProduct) {
                return "product " + productId + " has " + p.count + " retained messages, the most retained.max-per-product allows";
            }
            if (size > 0 && p.bytes - old + size > maxBytesPerProduct) {
                return "retained messages of product " + productId + " would take " + (p.bytes - old + size)
                        + " bytes, over retained.max-bytes-per-product (" + maxBytesPerProduct + ")";
            }
            if (slot == null) {
                slot = new Slot();
                p.slots.put(topic, slot);
            }
            account(p, slot, size);
            slot.pending++;
            return null;
        }
    }

    /** The write reserved for {@code m} is committed: it is served from now on (a zero-byte payload clears the topic). */
    private void committed(long productId, Message m) {
        Product p = products.get(productId);
        if (p == null) {
            return; // the product was deleted meanwhile
        }
        synchronized (p) {
            Slot slot = p.slots.get(m.topic());
            if (slot == null) {
                return;
            }
            slot.pending--;
            serve(slot, m.payload().length == 0 ? null
                    : new Entry(m.topic(), m.qos(), m.payload().length, m.payload().length <= INLINE_BYTES ? m.payload() : null));
            if (slot.pending == 0) {
                account(p, slot, m.payload().length); // the last write of the topic decides, whatever raced before
            }
            dropIfEmpty(p, m.topic(), slot);
        }
    }

    /** The write reserved for {@code topic} failed in the store: the accounting goes back to what is served. */
    private void failed(long productId, String topic) {
        Product p = products.get(productId);
        if (p == null) {
            return;
        }
        synchronized (p) {
            Slot slot = p.slots.get(topic);
            if (slot == null) {
                return;
            }
            slot.pending--;
            if (slot.pending == 0) {
                account(p, slot, slot.served == null ? 0 : slot.served.size());
            }
            dropIfEmpty(p, topic, slot);
        }
    }

    /**
     * Start-up: the index from the store, payloads of at most {@link #INLINE_BYTES} only. Past a product's maximum, or
     * with a topic name no longer valid, a message stays in the store and is not served.
     */
    void loadFromStore() {
        int[] notServed = {0};
        store.loadRetainedIndex(INLINE_BYTES, (productId, topic, qos, size, inline) -> {
            if (Topics.checkTopicName(topic) != null || !load(productId, topic, qos, size, inline)) {
                notServed[0]++;
            }
        });
        if (notServed[0] > 0) {
            log.warn("{} retained messages in the store are not served: over retained.max-per-product ({}) or with an "
                    + "invalid topic", notServed[0], maxPerProduct);
        }
    }

    private boolean load(long productId, String topic, int qos, int size, byte[] inline) {
        Product p = products.computeIfAbsent(productId, id -> new Product());
        synchronized (p) {
            if (p.count >= maxPerProduct || p.slots.containsKey(topic)) {
                return false;
            }
            Slot slot = new Slot();
            p.slots.put(topic, slot);
            account(p, slot, size);
            serve(slot, new Entry(topic, qos, size, inline));
            return true;
        }
    }

    /**
     * Sends {@code s} the retained messages {@code filter} matches, at most at {@code grantedQos}: small ones at once,
     * large ones (only in the store) by the reader, one at a time, as the store holds them when read.
     */
    void deliver(Session s, String filter, int grantedQos) {
        List<String> inStore = null;
        for (Entry e : matching(s.productId, filter)) {
            if (e.inline() != null) {
                s.deliver(e.message().forDelivery(Math.min(e.qos(), grantedQos), true), 0);
            } else {
                if (inStore == null) {
                    inStore = new ArrayList<>();
                }
                inStore.add(e.topic());
            }
        }
        if (inStore != null && !reader.readRetained(s, inStore, grantedQos)) {
            for (int i = 0; i < inStore.size(); i++) {
                stats.dropped();
            }
            log.warn("[{}] {} retained messages for '{}' not sent: the store reader is busy", s.clientId, inStore.size(), filter);
        }
    }

    /** The served messages of a product that {@code filter} (a valid topic filter) matches. */
    private List<Entry> matching(long productId, String filter) {
        Product p = products.get(productId);
        if (p == null) {
            return List.of();
        }
        TopicTree<Boolean> single = new TopicTree<>();
        single.subscribe(filter, Boolean.TRUE, 0);
        List<Entry> out = new ArrayList<>();
        boolean[] matched = new boolean[1];
        synchronized (p) {
            for (Slot slot : p.slots.values()) {
                if (slot.served == null) {
                    continue;
                }
                matched[0] = false;
                single.match(slot.served.topic(), (x, q) -> matched[0] = true);
                if (matched[0]) {
                    out.add(slot.served);
                }
            }
        }
        return out;
    }

    void onStored(BiConsumer<Long, String> listener) {
        this.onStored = listener;
    }

    /**
     * Cluster mode: another node stored ({@code m}) or cleared (null) the topic's retained message; it is served from
     * now on, and counts in the product's budget here too.
     */
    void replace(long productId, String topic, Message m) {
        int size = m == null ? 0 : m.payload().length;
        replace(productId, topic, m == null ? null : new Entry(topic, m.qos(), size, size <= INLINE_BYTES ? m.payload() : null));
    }

    private void replace(long productId, String topic, Entry entry) {
        Product p = products.computeIfAbsent(productId, id -> new Product());
        synchronized (p) {
            Slot slot = p.slots.get(topic);
            if (slot == null && entry == null) {
                return;
            }
            if (slot == null) {
                slot = new Slot();
                p.slots.put(topic, slot);
            }
            serve(slot, entry);
            if (slot.pending == 0) {
                account(p, slot, entry == null ? 0 : entry.size());
            }
            dropIfEmpty(p, topic, slot);
        }
    }

    /** Cluster mode, after announcements may have been missed: serves exactly what the store holds. */
    void resync() {
        Map<Long, Set<String>> stored = new HashMap<>();
        store.loadRetainedIndex(INLINE_BYTES, (productId, topic, qos, size, inline) -> {
            stored.computeIfAbsent(productId, id -> new HashSet<>()).add(topic);
            if (Topics.checkTopicName(topic) == null) {
                replace(productId, topic, new Entry(topic, qos, size, inline));
            }
        });
        for (Map.Entry<Long, Product> e : products.entrySet()) {
            Set<String> topics = stored.getOrDefault(e.getKey(), Set.of());
            Product p = e.getValue();
            synchronized (p) {
                for (String topic : List.copyOf(p.slots.keySet())) {
                    Slot slot = p.slots.get(topic);
                    if (!topics.contains(topic) && slot.pending == 0) {
                        serve(slot, null);
                        account(p, slot, 0);
                        dropIfEmpty(p, topic, slot);
                    }
                }
            }
        }
    }

    /** A deleted product: its index goes (its rows went with it). */
    void forget(long productId) {
        Product p = products.remove(productId);
        if (p == null) {
            return;
        }
        synchronized (p) {
            for (Slot slot : p.slots.values()) {
                serve(slot, null);
            }
            count.addAndGet(-p.count);
            bytes.addAndGet(-p.bytes);
        }
    }

    int productCount() {
        return products.size();
    }

    /** Retained messages of all products (as accounted: served, or accepted and being stored). */
    long count() {
        return count.get();
    }

    /** Their payload bytes, wherever they are. */
    long bytes() {
        return bytes.get();
    }

    /** The payload bytes the heap holds (small messages only). */
    long heapBytes() {
        return heapBytes.get();
    }

    private void account(Product p, Slot slot, int size) {
        int old = slot.accounted;
        int countDelta = (size > 0 ? 1 : 0) - (old > 0 ? 1 : 0);
        p.count += countDelta;
        p.bytes += size - old;
        count.addAndGet(countDelta);
        bytes.addAndGet(size - old);
        slot.accounted = size;
    }

    private void serve(Slot slot, Entry entry) {
        if (slot.served != null && slot.served.inline() != null) {
            heapBytes.addAndGet(-slot.served.size());
        }
        slot.served = entry;
        if (entry != null && entry.inline() != null) {
            heapBytes.addAndGet(entry.size());
        }
    }

    private static void dropIfEmpty(Product p, String topic, Slot slot) {
        if (slot.pending == 0 && slot.served == null && slot.accounted == 0) {
            p.slots.remove(topic);
        }
    }
}
