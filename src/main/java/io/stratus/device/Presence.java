package io.stratus.device;

import io.stratus.store.BatchWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
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
    private final Map<Long, Long> onlineTokens = new ConcurrentHashMap<>();
    private final AtomicLong tokens = new AtomicLong();

    /** {@code devices} and {@code listeners} are the registry's own: its cache, updated here, and whom to tell. */
    Presence(Map<Long, Device> devices, List<DeviceListener> listeners, BatchWriter writer) {
        this.devices = devices;
        this.listeners = listeners;
        this.writer = writer;
    }

    boolean isOnline(long deviceId) {
        return onlineTokens.containsKey(deviceId);
    }

    long markOnline(long deviceId) {
        long token = tokens.incrementAndGet();
        onlineTokens.put(deviceId, token);
        Device d = devices.computeIfPresent(deviceId, (id, old) -> old.withLogin(System.currentTimeMillis()));
        if (d != null) {
            persist(d);
            listeners.forEach(l -> l.online(d));
        }
        return token;
    }

    void markOffline(long deviceId, long token) {
        if (!onlineTokens.remove(deviceId, token)) {
            return;
        }
        Device d = devices.computeIfPresent(deviceId, (id, old) -> old.withLogout(System.currentTimeMillis()));
        if (d != null) {
            persist(d);
            listeners.forEach(l -> l.offline(d));
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
