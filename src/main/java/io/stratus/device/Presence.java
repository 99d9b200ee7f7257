package io.stratus.device;

import io.stratus.store.BatchWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live presence: which devices have an open MQTT login, and their login and logout times. A time goes into the
 * registry's device cache at once and into the store through the state writer, so that marking a device on its event
 * loop does no I/O. Each login gets a token, so that the end of a connection taken over by a newer one leaves the
 * device online.
 */
final class Presence {
    // The registry's logger: these lines were the registry's before presence had a class of its own.
    private static final Logger log = LoggerFactory.getLogger(DeviceRegistry.class);

    private final Map<Long, Device> devices;
    private final List<DeviceListener> listeners;
    private final BatchWriter writer;
    /** A login of a device: its token here, and its claim's epoch in cluster mode (0 on a single node). */
    private record Online(long token, long epoch) {}

    private final Map<Long, Online> onlineTokens = new ConcurrentHashMap<>();
    private final AtomicLong tokens = new AtomicLong();
    private volatile RegistrySync cluster; // cluster mode only

    /** {@code devices} and {@code listeners} are the registry's own: its cache, updated here, and whom to tell. */
    Presence(Map<Long, Device> devices, List<DeviceListener> listeners, BatchWriter writer) {
        this.devices = devices;
        this.listeners = listeners;
        this.writer = writer;
    }

    /** Online here, or (cluster mode) on another node. */
    boolean isOnline(long deviceId) {
        RegistrySync c = cluster;
        return onlineTokens.containsKey(deviceId) || c != null && c.onlineElsewhere(deviceId);
    }

    boolean isOnlineHere(long deviceId) {
        return onlineTokens.containsKey(deviceId);
    }

    void joinCluster(RegistrySync cluster) {
        this.cluster = cluster;
        cluster.localPresence(this);
    }

    /** The devices online here with their claims' epochs, for a node that joined the cluster. */
    void forEachOnline(BiConsumer<Long, Long> each) {
        onlineTokens.forEach((id, online) -> each.accept(id, online.epoch()));
    }

    long markOnline(long deviceId, long epoch) {
        long token = tokens.incrementAndGet();
        onlineTokens.put(deviceId, new Online(token, epoch));
        RegistrySync c = cluster;
        if (c != null) {
            c.announcePresence(deviceId, true, epoch);
        }
        Device d = devices.computeIfPresent(deviceId, (id, old) -> old.withLogin(System.currentTimeMillis()));
        if (d != null) {
            persist(d);
            listeners.forEach(l -> l.online(d));
        }
        return token;
    }

    void markOffline(long deviceId, long token) {
        Online online = onlineTokens.get(deviceId);
        if (online == null || online.token() != token || !onlineTokens.remove(deviceId, online)) {
            return;
        }
        RegistrySync c = cluster;
        if (c != null) {
            c.announcePresence(deviceId, false, online.epoch());
        }
        Device d = devices.computeIfPresent(deviceId, (id, old) -> old.withLogout(System.currentTimeMillis()));
        if (d != null) {
            persist(d);
            if (c == null || !c.onlineElsewhere(deviceId)) { // a device that moved to another node did not go offline
                listeners.forEach(l -> l.offline(d));
            }
        }
    }

    private void persist(Device d) {
        writer.submit(c -> DeviceStore.writePresence(c, d.id(), d.lastLogin(), d.lastLogout()))
                .exceptionally(e -> {
                    log.warn("[{}] presence not stored: {}", d.id(), e.getMessage());
                    return null;
                });
    }
}
