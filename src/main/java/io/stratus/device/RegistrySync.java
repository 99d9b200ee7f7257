package io.stratus.device;

import io.stratus.store.Database;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster mode: keeps this node's registry cache in step with the other nodes' (docs/cluster.md). A change made here is
 * announced as its kind and id, never its data, since the store is the truth; a change another node announces is read
 * back from the store. A CONNECT naming a device this node has not heard of is looked up in the store before it is
 * refused: a device made through one node may connect through another before the announcement arrives.
 *
 * <p>Announcements travel at most once. After NATS was away, {@link #resyncAll} compares the whole cache with the store.
 */
public final class RegistrySync implements AutoCloseable {
    static final char PRODUCT = 'p';
    static final char DEVICE = 'd';
    static final char KEYS = 'k';
    private static final Logger log = LoggerFactory.getLogger(RegistrySync.class);
    /** A device looked up and found absent is not looked up again for this long: a flood of wrong ids costs one query each. */
    private static final long ABSENT_MILLIS = 2_000;

    private final DeviceRegistry registry;
    private final DeviceStore store;
    private final Consumer<String> send;
    private final int maxLookups;
    /** One thread for the store reads of CONNECTs, with at most {@code maxLookups} waiting. */
    private final ThreadPoolExecutor lookupThread;
    private final Map<Long, CompletableFuture<Void>> lookups = new ConcurrentHashMap<>();
    private final Map<Long, Long> absentSince = new ConcurrentHashMap<>();
    private final LongAdder announced = new LongAdder();
    private final LongAdder applied = new LongAdder();
    private final LongAdder lookedUp = new LongAdder();
    private final LongAdder lookupsRefused = new LongAdder();

    /** {@code send} carries an announcement to the other nodes; {@code maxLookups} ({@code cluster.max-device-lookups}). */
    public RegistrySync(Database db, DeviceRegistry registry, Consumer<String> send, int maxLookups) {
        this.registry = registry;
        this.store = new DeviceStore(db);
        this.send = send;
        this.maxLookups = maxLookups;
        this.lookupThread = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(maxLookups),
                r -> {
                    Thread t = new Thread(r, "device-lookup");
                    t.setDaemon(true);
                    return t;
                });
        registry.joinCluster(this);
    }

    void announce(char kind, long id) {
        send.accept(kind + ":" + id);
        announced.increment();
    }

    /** A change announced by another node (on the caller's thread: it reads the store). Unknown text is ignored. */
    public void received(String change) {
        int colon = change.indexOf(':');
        long id;
        try {
            id = colon != 1 ? -1 : Long.parseLong(change.substring(2));
        } catch (NumberFormatException e) {
            return;
        }
        switch (change.charAt(0)) {
            case PRODUCT -> registry.refreshProduct(id, store.loadProduct(id));
            case DEVICE -> refreshDevice(id);
            case KEYS -> registry.keys().refresh(id);
            default -> {
                return;
            }
        }
        applied.increment();
    }

    /** Compares every product, device and key in the cache with the store (after announcements may have been missed). */
    public void resyncAll() {
        long started = System.nanoTime();
        Set<Long> storedProducts = new HashSet<>();
        for (Product p : store.loadProducts()) {
            storedProducts.add(p.id());
            if (!p.equals(registry.product(p.id()).orElse(null))) {
                registry.refreshProduct(p.id(), p);
            }
        }
        for (Product p : registry.products()) {
            if (!storedProducts.contains(p.id())) {
                registry.refreshProduct(p.id(), null);
            }
        }
        Set<Long> storedDevices = new HashSet<>();
        for (Device d : store.loadDevices()) {
            storedDevices.add(d.id());
            Device cached = registry.device(d.id()).orElse(null);
            if (cached == null || !d.withPresenceOf(cached).equals(cached)) {
                registry.refreshDevice(d.id(), d);
            }
        }
        for (Product p : registry.products()) {
            for (Device d : registry.devices(p.id())) {
                if (!storedDevices.contains(d.id())) {
                    registry.refreshDevice(d.id(), null);
                }
            }
            registry.keys().refresh(p.id());
        }
        log.info("Registry compared with the store in {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }

    /**
     * The store read for a CONNECT naming a device not in the cache, completing once the device is cached or known
     * absent; null when it was found absent within the last {@value #ABSENT_MILLIS} ms. Fails at once when
     * {@code maxLookups} are already waiting (the CONNECT gets 3, server unavailable).
     */
    CompletableFuture<Void> lookUp(long deviceId) {
        Long absent = absentSince.get(deviceId);
        if (absent != null && System.currentTimeMillis() - absent < ABSENT_MILLIS) {
            return null;
        }
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> running = lookups.putIfAbsent(deviceId, mine);
        if (running != null) {
            return running;
        }
        try {
            lookupThread.execute(() -> {
                try {
                    refreshDevice(deviceId);
                    lookedUp.increment();
                    mine.complete(null);
                } catch (RuntimeException e) {
                    mine.completeExceptionally(e);
                } finally {
                    lookups.remove(deviceId);
                }
            });
        } catch (RejectedExecutionException e) {
            lookups.remove(deviceId);
            lookupsRefused.increment();
            mine.completeExceptionally(new IllegalStateException(maxLookups + " device look-ups already wait"));
        }
        return mine;
    }

    private void refreshDevice(long id) {
        Device fresh = store.loadDevice(id);
        if (fresh != null && registry.product(fresh.productId()).isEmpty()) {
            registry.refreshProduct(fresh.productId(), store.loadProduct(fresh.productId())); // made moments ago too
        }
        if (fresh == null) {
            if (absentSince.size() >= 10_000) {
                absentSince.clear(); // bounded: at worst an id is looked up once more
            }
            absentSince.put(id, System.currentTimeMillis());
        } else {
            absentSince.remove(id);
        }
        registry.refreshDevice(id, fresh);
    }

    /** Changes announced to other nodes, and changes of other nodes applied here. */
    public long announcedCount() {
        return announced.sum();
    }

    public long appliedCount() {
        return applied.sum();
    }

    /** Devices looked up in the store for a CONNECT, and look-ups refused because {@code maxLookups} already waited. */
    public long lookedUpCount() {
        return lookedUp.sum();
    }

    public long lookupsRefusedCount() {
        return lookupsRefused.sum();
    }

    @Override
    public void close() {
        lookupThread.shutdownNow();
    }
}
