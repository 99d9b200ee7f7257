package io.stratus.device;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Cluster mode: the devices connected to other nodes, as those nodes announce them (docs/cluster.md). Each entry
 * names the node incarnation holding the device and the epoch of its claim; an announcement older than the entry is
 * ignored, so that of a device that moved, a late "offline" from its old node cannot hide it. A node that stops
 * sending heartbeats for the lease time takes its devices with it.
 */
final class ClusterPresence {
    private record Holder(String incarnation, long epoch) {}

    private final Map<Long, Holder> online = new ConcurrentHashMap<>();
    private final Map<String, Long> heardAt = new ConcurrentHashMap<>();

    boolean isOnline(long deviceId) {
        return online.containsKey(deviceId);
    }

    /** The device logged in on {@code incarnation}; true when this changed what the node shows. */
    boolean on(long deviceId, String incarnation, long epoch) {
        heardAt.put(incarnation, System.currentTimeMillis());
        boolean[] changed = {false};
        online.compute(deviceId, (id, old) -> {
            if (old != null && old.epoch() > epoch) {
                return old;
            }
            changed[0] = old == null;
            return new Holder(incarnation, epoch);
        });
        return changed[0];
    }

    /** The device's connection on {@code incarnation} ended; true when the device is no longer shown online. */
    boolean off(long deviceId, String incarnation, long epoch) {
        Holder h = online.get(deviceId);
        return h != null && h.incarnation().equals(incarnation) && h.epoch() <= epoch && online.remove(deviceId, h);
    }

    /** Whether {@code incarnation} was heard from before; records that it was now. */
    boolean heartbeat(String incarnation) {
        return heardAt.put(incarnation, System.currentTimeMillis()) != null;
    }

    /**
     * The devices of incarnations silent for {@code leaseMillis}, removed; the incarnations are forgotten and handed to
     * {@code dead}.
     */
    List<Long> expire(long leaseMillis, Consumer<String> dead) {
        long now = System.currentTimeMillis();
        List<Long> gone = new ArrayList<>();
        for (Map.Entry<String, Long> e : heardAt.entrySet()) {
            if (now - e.getValue() > leaseMillis && heardAt.remove(e.getKey(), e.getValue())) {
                dead.accept(e.getKey());
                online.entrySet().removeIf(d -> {
                    boolean theirs = d.getValue().incarnation().equals(e.getKey());
                    if (theirs) {
                        gone.add(d.getKey());
                    }
                    return theirs;
                });
            }
        }
        return gone;
    }

    /** Forgets a node that said it is stopping; returns its devices. */
    List<Long> left(String incarnation) {
        heardAt.remove(incarnation);
        List<Long> gone = new ArrayList<>();
        online.entrySet().removeIf(d -> {
            boolean theirs = d.getValue().incarnation().equals(incarnation);
            if (theirs) {
                gone.add(d.getKey());
            }
            return theirs;
        });
        return gone;
    }

    /** Whether no other node alive has a name that sorts before {@code name}. */
    boolean firstByName(String name) {
        return heardAt.keySet().stream().noneMatch(i -> i.substring(0, Math.max(0, i.lastIndexOf('/'))).compareTo(name) < 0);
    }

    /** Whether an incarnation of the node called {@code name} is alive (a node that restarted has a new one). */
    boolean aliveByName(String name) {
        return heardAt.keySet().stream().anyMatch(i -> i.startsWith(name + "/"));
    }

    int size() {
        return online.size();
    }
}
