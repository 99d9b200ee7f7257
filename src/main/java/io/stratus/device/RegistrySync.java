package io.stratus.device;

import io.stratus.store.Database;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster mode: keeps this node's registry cache in step with the other nodes' (docs/cluster.md). A change made here is
 * announced as its kind and id, never its data, since the store is the truth; a change another node announces is read
 * back from the store. A CONNECT naming a device this node has not heard of is looked up in the store before it is
 * refused: a device made through one node may connect through another before the announcement arrives.
 *
 * <p>Other parts that cache rows of the store (triggers, data push) announce and follow their changes the same way,
 * under kinds of their own ({@link #follow}).
 *
 * <p>Announcements travel at most once. After NATS was away, {@link #resyncAll} compares the whole cache with the store.
 */
public final class RegistrySync implements AutoCloseable {
    static final char PRODUCT = 'p';
    static final char DEVICE = 'd';
    static final char KEYS = 'k';
    private static final char ONLINE = 'o';
    private static final char OFFLINE = 'f';
    private static final char HEARTBEAT = 'h';
    private static final char LEFT = 'l';
    private static final String OWN_KINDS = "" + PRODUCT + DEVICE + KEYS + ONLINE + OFFLINE + HEARTBEAT + LEFT;
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
    private final String incarnation;
    private final ClusterPresence remote = new ClusterPresence();
    private final List<DeviceListener> remoteListeners = new CopyOnWriteArrayList<>();
    private final Map<Character, Follower> followers = new ConcurrentHashMap<>();
    private volatile Presence local;
    private volatile Consumer<String> dead = incarnation -> { };

    /**
     * {@code send} carries an announcement to the other nodes; {@code maxLookups} ({@code cluster.max-device-lookups});
     * {@code incarnation} names this node and this start of it in presence announcements.
     */
    public RegistrySync(Database db, DeviceRegistry registry, Consumer<String> send, int maxLookups, String incarnation) {
        this.registry = registry;
        this.incarnation = incarnation;
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

    /** What another part does with a change of its kind announced by another node, and at each {@link #resyncAll}. */
    private record Follower(LongConsumer refresh, Runnable reload) {
    }

    /**
     * Another part's cache of the store joins the announcements under {@code kind}: {@code refresh} reads back the row(s)
     * of an id another node announced, {@code reload} compares the whole cache with the store after NATS was away. Both
     * run on the announcements' thread or the resync's. Returns what announces a change of an id made on this node.
     */
    public LongConsumer follow(char kind, LongConsumer refresh, Runnable reload) {
        if (OWN_KINDS.indexOf(kind) >= 0 || followers.putIfAbsent(kind, new Follower(refresh, reload)) != null) {
            throw new IllegalArgumentException("registry announcements of kind " + kind + " are taken");
        }
        return id -> announce(kind, id);
    }

    /** A change announced by another node (on the caller's thread: it reads the store). Unknown text is ignored. */
    public void received(String change) {
        if (change.length() < 3) {
            return;
        }
        char kind = change.charAt(0);
        if (kind == ONLINE || kind == OFFLINE) {
            String[] parts = change.split(":", 4);
            long deviceId = Long.parseLong(parts[1]);
            long epoch = Long.parseLong(parts[2]);
            if (kind == ONLINE ? remote.on(deviceId, parts[3], epoch) : remote.off(deviceId, parts[3], epoch)) {
                tell(deviceId, kind == ONLINE);
            }
            return;
        }
        if (kind == HEARTBEAT) {
            if (!remote.heartbeat(change.substring(2))) {
                announceAllOnline(); // a node that joined: it learns who is online here
            }
            return;
        }
        if (kind == LEFT) {
            remote.left(change.substring(2)).forEach(id -> tell(id, false));
            dead.accept(change.substring(2));
            return;
        }
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
                Follower f = followers.get(kind);
                if (f == null) {
                    return;
                }
                f.refresh.accept(id);
            }
        }
        applied.increment();
    }

    // ---- presence across nodes ----------------------------------------------------------------------

    void localPresence(Presence presence) {
        this.local = presence;
    }

    boolean onlineElsewhere(long deviceId) {
        return remote.isOnline(deviceId);
    }

    void announcePresence(long deviceId, boolean online, long epoch) {
        send.accept((online ? ONLINE : OFFLINE) + ":" + deviceId + ":" + epoch + ":" + incarnation);
    }

    /**
     * Another node took over a device's connection from this one: it is shown online there at once, before this node's
     * connection closes, so that the move never shows it offline.
     */
    public void movedElsewhere(long deviceId, String incarnation, long epoch) {
        remote.on(deviceId, incarnation, epoch);
    }

    /** Told when a device comes online or goes offline on another node (for {@code /events}; triggers fire where it is). */
    public void addRemoteListener(DeviceListener listener) {
        remoteListeners.add(listener);
    }

    /**
     * Every heartbeat period: tells the other nodes this one is alive, and takes offline the devices of nodes not heard
     * from for {@code leaseMillis} (a node that died: its devices are offline within the lease); those incarnations
     * go to {@code dead}, as do those of nodes that said they stop.
     */
    public void tick(long leaseMillis, Consumer<String> dead) {
        this.dead = dead;
        send.accept(HEARTBEAT + ":" + incarnation);
        remote.expire(leaseMillis, dead).forEach(id -> tell(id, false));
    }

    /** Whether an incarnation of the node called {@code name} is heard from. */
    public boolean aliveByName(String name) {
        return remote.aliveByName(name);
    }

    /** Whether node {@code name} sorts first among the nodes alive (the one to do what only one node should). */
    public boolean firstAlive(String name) {
        return remote.firstByName(name);
    }

    /** This node stops: the others take its devices offline at once. */
    public void leaving() {
        send.accept(LEFT + ":" + incarnation);
    }

    /** Devices this node shows online because another node announced them. */
    public int onlineElsewhereCount() {
        return remote.size();
    }

    private void announceAllOnline() {
        Presence p = local;
        if (p != null) {
            p.forEachOnline((deviceId, epoch) -> announcePresence(deviceId, true, epoch));
        }
    }

    private void tell(long deviceId, boolean online) {
        Presence p = local;
        if (p != null && p.isOnlineHere(deviceId)) {
            return; // what this node shows did not change
        }
        registry.device(deviceId).ifPresent(d -> remoteListeners.forEach(l -> {
            if (online) {
                l.online(d);
            } else {
                l.offline(d);
            }
        }));
    }

    /**
     * Compares every product, device and key in the cache with the store, then has each {@link #follow follower} do the
     * same (after announcements may have been missed).
     */
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
        followers.values().forEach(f -> f.reload.run());
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
