package io.stratus.hook;

import io.stratus.device.Device;
import io.stratus.device.DeviceRegistry;
import io.stratus.telemetry.StoredPoint;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * Decides which points fire which trigger. Runs on the hook dispatcher thread only, so its state needs no locks. State
 * is kept per (trigger, device) for the trigger's stream and lives in memory: after a restart, or after a trigger is
 * changed, it starts afresh. Rules (API §6.4 in docs/decisions.md; Stratus decisions where OneNET says nothing):
 * <ul>
 *   <li>{@code > < >= <=}: every point whose value is a JSON number meeting the condition fires; other values are
 *       ignored.</li>
 *   <li>{@code inout}: fires on a transition only, when a numeric value enters or leaves [lolmt, uplmt] (bounds
 *       inside); the first numeric point a trigger sees of a stream only sets whether it is inside.</li>
 *   <li>{@code change}: fires when a value differs from the previous point of the stream (numbers by value, so
 *       1 and 1.0 are equal; anything else by its JSON text); the first point a trigger sees only sets the
 *       reference.</li>
 *   <li>{@code frozen}: fires once when a watched stream has had no point for {@code threshold} seconds, checked
 *       every {@code hook.frozen-check-millis}; it fires again only after a new point and a new silence.</li>
 *   <li>{@code live}: fires on the first point after at least {@code threshold} seconds without one.</li>
 * </ul>
 * Silence is measured by the server clock when points are stored, not by the points' own times. The clock starts
 * at the stream's last point seen, else at the trigger's last change, or at this server's start if later.
 */
final class TriggerWatch {
    /** What one trigger remembers of one device's stream. */
    private static final class StreamState {
        Boolean inside;
        String lastValue;
        long lastSeen;
        StoredPoint lastPoint;
        boolean frozenFired;
    }

    /** The states of one trigger, valid for one version of its definition. */
    private record TriggerState(Trigger trigger, Map<Long, StreamState> devices) {
    }

    private final Triggers triggers;
    private final DeviceRegistry registry;
    private final TriggerPosts posts;
    private final long startedAt;
    private final Map<Long, TriggerState> states = new HashMap<>();
    private volatile BooleanSupplier reportsUnseen = () -> true;

    TriggerWatch(Triggers triggers, DeviceRegistry registry, TriggerPosts posts, long startedAt) {
        this.triggers = triggers;
        this.registry = registry;
        this.posts = posts;
        this.startedAt = startedAt;
    }

    /** Points of one device, just committed at {@code receivedAt}. */
    void stored(long productId, long deviceId, List<StoredPoint> points, long receivedAt) {
        remember(productId, deviceId, points, receivedAt, true);
    }

    /**
     * Cluster mode: points another node stored (and fired triggers for). Only remembered, so that what a trigger knows
     * of the device (its last value, side of a range, last point) holds if the device moves here; and its silence is the
     * storing node's to report, so this node does not fire a frozen trigger for it until it stores a point itself.
     */
    void storedElsewhere(long productId, long deviceId, List<StoredPoint> points, long receivedAt) {
        remember(productId, deviceId, points, receivedAt, false);
    }

    private void remember(long productId, long deviceId, List<StoredPoint> points, long receivedAt, boolean here) {
        for (Trigger t : triggers.ofProduct(productId)) {
            if (!t.watches(deviceId)) {
                continue;
            }
            StreamState s = null;
            List<StoredPoint> fired = null;
            for (StoredPoint p : points) {
                if (!p.stream().equals(t.dsId())) {
                    continue;
                }
                if (s == null) {
                    s = state(t, deviceId);
                }
                if (fires(t, s, p, receivedAt) && here) { // fires() also moves the state on: called either way
                    if (fired == null) {
                        fired = new ArrayList<>(1);
                    }
                    fired.add(p);
                }
                s.lastSeen = receivedAt;
                s.lastPoint = p;
                s.frozenFired = !here;
            }
            if (fired != null) {
                posts.fire(t, deviceId, fired);
            }
        }
    }

    private boolean fires(Trigger t, StreamState s, StoredPoint p, long receivedAt) {
        switch (t.type()) {
            case GT, LT, GE, LE -> {
                Double v = number(p.valueJson());
                return v != null && t.type().compare(v, t.threshold());
            }
            case INOUT -> {
                Double v = number(p.valueJson());
                if (v == null) {
                    return false;
                }
                boolean inside = v >= t.lolmt() && v <= t.uplmt();
                Boolean before = s.inside;
                s.inside = inside;
                return before != null && before != inside;
            }
            case CHANGE -> {
                String before = s.lastValue;
                s.lastValue = p.valueJson();
                return before != null && !sameValue(before, p.valueJson());
            }
            case LIVE -> {
                long since = s.lastSeen != 0 ? s.lastSeen : clockStart(t);
                return receivedAt - since >= silenceMillis(t);
            }
            case FROZEN -> {
                return false; // fired by checkSilence
            }
            default -> throw new IllegalStateException("unknown trigger type " + t.type());
        }
    }

    /**
     * In cluster mode only one node reports the silence of a stream no node has seen a point of since it started
     * ({@code reportsUnseen}); one seen is reported by the node that stored its last point.
     */
    void reportUnseenSilenceWhen(BooleanSupplier reportsUnseen) {
        this.reportsUnseen = reportsUnseen;
    }

    /** Fires frozen triggers whose streams have been silent long enough; drops state of deleted triggers. */
    void checkSilence(long now) {
        Set<Long> live = triggers.all().stream().map(Trigger::id).collect(Collectors.toSet());
        states.keySet().retainAll(live);
        for (Trigger t : triggers.all()) {
            if (t.type() != TriggerType.FROZEN || triggers.get(t.id()).isEmpty()) {
                continue;
            }
            for (long deviceId : watchedDevices(t)) {
                StreamState s = state(t, deviceId);
                long since = s.lastSeen != 0 ? s.lastSeen : clockStart(t);
                if (!s.frozenFired && now - since >= silenceMillis(t) && (s.lastSeen != 0 || reportsUnseen.getAsBoolean())) {
                    s.frozenFired = true;
                    posts.fireSilent(t, deviceId, s.lastPoint);
                }
            }
        }
    }

    /** A device is gone: forget what every trigger knew of it. */
    void removed(long deviceId) {
        states.values().forEach(ts -> ts.devices.remove(deviceId));
    }

    private List<Long> watchedDevices(Trigger t) {
        if (t.devIds().isEmpty()) {
            return registry.devices(t.productId()).stream().map(Device::id).toList();
        }
        return t.devIds().stream()
                .filter(id -> registry.device(id).map(d -> d.productId() == t.productId()).orElse(false))
                .toList();
    }

    private StreamState state(Trigger t, long deviceId) {
        TriggerState ts = states.get(t.id());
        if (ts == null || ts.trigger != t) { // new, or its definition changed: start afresh
            ts = new TriggerState(t, new HashMap<>());
            states.put(t.id(), ts);
        }
        return ts.devices.computeIfAbsent(deviceId, d -> new StreamState());
    }

    private long clockStart(Trigger t) {
        return Math.max(t.updateTime(), startedAt);
    }

    private static long silenceMillis(Trigger t) {
        return (long) Math.ceil(t.threshold() * 1000);
    }

    /** The value of a JSON number, or null for anything else (strings, objects, booleans, null). */
    static Double number(String valueJson) {
        if (valueJson.isEmpty()) {
            return null;
        }
        char c = valueJson.charAt(0);
        if (c != '-' && (c < '0' || c > '9')) {
            return null;
        }
        try {
            return Double.parseDouble(valueJson);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    static boolean sameValue(String a, String b) {
        Double x = number(a);
        Double y = number(b);
        if (x != null && y != null) {
            return x.doubleValue() == y.doubleValue();
        }
        return a.equals(b);
    }
}
