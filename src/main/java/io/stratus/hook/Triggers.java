package io.stratus.hook;

import io.stratus.device.DeviceRegistry;
import io.stratus.store.Database;
import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;

/**
 * The trigger definitions: stored in {@code hook_trigger}, cached here by id and by product so that matching a
 * batch of points reads memory only. Mutations are serialised on this object; reads are lock-free. A trigger of a
 * deleted product is gone (its row went with the product; the cache entry is dropped when next seen). In cluster mode a
 * change made here is announced by id, and one made on another node is read back from the store ({@link #refresh}).
 */
public final class Triggers {
    private final TriggerStore store;
    private final DeviceRegistry registry;
    private final NetworkPolicy networks;
    private final Map<Long, Trigger> byId = new ConcurrentHashMap<>();
    private volatile Map<Long, List<Trigger>> byProduct = Map.of();
    private volatile LongConsumer announce = id -> { };

    Triggers(Database db, DeviceRegistry registry, NetworkPolicy networks) {
        this.store = new TriggerStore(db);
        this.registry = registry;
        this.networks = networks;
        store.loadAll().forEach(t -> byId.put(t.id(), t));
        reindex();
    }

    /**
     * The URL a trigger may POST to: well formed ({@link HookUrl}) and, when its host is an IP literal or a loopback
     * name, outside {@code hook.deny-networks} (other names are checked on every delivery, after resolution).
     */
    public URI checkUrl(String url) throws HookException {
        URI uri = HookUrl.parse(url);
        networks.check(uri);
        return uri;
    }

    public synchronized Trigger create(Trigger draft) {
        long now = System.currentTimeMillis();
        Trigger stored = draft.stored(0, now);
        Trigger t = stored.stored(store.insert(stored), now);
        byId.put(t.id(), t);
        reindex();
        announce.accept(t.id());
        return t;
    }

    /** Replaces the definition of {@code id} with {@code changed} (its id, product and creation time are kept). */
    public synchronized Trigger update(long id, Trigger changed) {
        Trigger old = get(id).orElseThrow(() -> new IllegalArgumentException("no trigger " + id));
        Trigger t = changed.replacing(old, System.currentTimeMillis());
        store.update(t);
        byId.put(id, t);
        reindex();
        announce.accept(id);
        return t;
    }

    public synchronized boolean delete(long id) {
        if (byId.remove(id) == null) {
            return false;
        }
        store.delete(id);
        reindex();
        announce.accept(id);
        return true;
    }

    /** Cluster mode: {@code announce} tells the other nodes of each trigger created, changed or deleted here. */
    void announceTo(LongConsumer announce) {
        this.announce = announce;
    }

    /** Another node created, changed or deleted trigger {@code id}: its row, or its absence, replaces the copy here. */
    synchronized void refresh(long id) {
        Trigger t = store.load(id);
        if (t == null ? byId.remove(id) != null : !t.equals(byId.get(id))) {
            if (t != null) {
                byId.put(id, t);
            }
            reindex();
        }
    }

    /** Replaces every trigger that differs from its row, and drops those without one (announcements may have been lost). */
    synchronized void reload() {
        Map<Long, Trigger> stored = new HashMap<>();
        store.loadAll().forEach(t -> stored.put(t.id(), t));
        boolean changed = byId.keySet().retainAll(stored.keySet());
        for (Trigger t : stored.values()) {
            if (!t.equals(byId.get(t.id()))) {
                byId.put(t.id(), t); // an equal one stays: the watch keeps a definition's state while it is the same object
                changed = true;
            }
        }
        if (changed) {
            reindex();
        }
    }

    public Optional<Trigger> get(long id) {
        Trigger t = byId.get(id);
        if (t != null && registry.product(t.productId()).isEmpty()) {
            forget(t);
            return Optional.empty();
        }
        return Optional.ofNullable(t);
    }

    /** The triggers of a product, by id. */
    public List<Trigger> ofProduct(long productId) {
        return byProduct.getOrDefault(productId, List.of());
    }

    /** Every trigger, for the silence checks. */
    List<Trigger> all() {
        List<Trigger> out = new ArrayList<>();
        byProduct.values().forEach(out::addAll);
        return out;
    }

    private synchronized void forget(Trigger t) {
        if (byId.remove(t.id(), t)) {
            reindex();
        }
    }

    /** Rebuilds the by-product index; called under the lock after each change. */
    private void reindex() {
        Map<Long, List<Trigger>> index = new ConcurrentHashMap<>();
        byId.values().stream().sorted(Comparator.comparingLong(Trigger::id))
                .forEach(t -> index.computeIfAbsent(t.productId(), p -> new ArrayList<>()).add(t));
        index.replaceAll((p, list) -> List.copyOf(list));
        byProduct = index;
    }
}
