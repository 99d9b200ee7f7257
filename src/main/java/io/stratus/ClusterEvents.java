package io.stratus;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nats.client.Connection;
import io.stratus.cluster.Broadcast;
import io.stratus.telemetry.StoredPoint;
import io.stratus.telemetry.Telemetry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * Cluster mode: {@code /events} data point events of the whole cluster on every node (docs/cluster.md). The node that
 * stored points announces them; every other node hands them to its own {@code /events} streams only, never to triggers
 * or data push, which fire once, on the node that stored the points. At most once, like presence.
 */
final class ClusterEvents implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A batch of points goes out in messages of about this size at most, well under NATS's payload limit (1 MiB). */
    private static final int MAX_MESSAGE_BYTES = 64 * 1024;
    /** Per point, besides its stream and value: its time and the JSON around them. */
    private static final int POINT_OVERHEAD_BYTES = 64;

    private record Announced(long product, long device, List<StoredPoint> points) {}

    private final LongAdder sent = new LongAdder();
    private final LongAdder received = new LongAdder();
    private final LongAdder unsent = new LongAdder();
    private final List<Telemetry.Listener> locals = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Broadcast broadcast;

    /** {@code maxPending}: announcements that may wait for this node ({@code cluster.max-pending-events}). */
    ClusterEvents(Connection nats, String subject, String node, long maxPending) {
        this.broadcast = new Broadcast(nats, subject, node, this::receive);
        broadcast.pendingAtMost(maxPending);
    }

    /** From now on this node's stored points go to the other nodes, and theirs to {@code local} only. */
    void connect(Telemetry telemetry, Telemetry.Listener local) {
        locals.add(local);
        telemetry.addListener(this::announce);
    }

    /** Other nodes' points go to {@code listener} too (triggers' state: it must not fire them again). */
    void alsoTo(Telemetry.Listener listener) {
        locals.add(listener);
    }

    /** On the datapoint writer's thread, after the commit: must not throw (the listeners after it would miss the points). */
    private void announce(long productId, long deviceId, List<StoredPoint> points) {
        for (List<StoredPoint> part : parts(points)) {
            try {
                broadcast.send(JSON.writeValueAsString(new Announced(productId, deviceId, part)));
                sent.increment();
            } catch (JsonProcessingException | RuntimeException e) {
                unsent.increment(); // NATS away and its reconnect buffer full, or one point larger than NATS takes
            }
        }
    }

    private static List<List<StoredPoint>> parts(List<StoredPoint> points) {
        List<List<StoredPoint>> parts = new ArrayList<>();
        List<StoredPoint> part = new ArrayList<>();
        int bytes = 0;
        for (StoredPoint p : points) {
            int size = p.stream().length() + p.valueJson().length() + POINT_OVERHEAD_BYTES;
            if (!part.isEmpty() && bytes + size > MAX_MESSAGE_BYTES) {
                parts.add(part);
                part = new ArrayList<>();
                bytes = 0;
            }
            part.add(p);
            bytes += size;
        }
        if (!part.isEmpty()) {
            parts.add(part);
        }
        return parts;
    }

    /** On the broadcast's own thread. */
    private void receive(String text) {
        Announced a;
        try {
            a = JSON.readValue(text, Announced.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not an announcement of points: " + e.getOriginalMessage(), e);
        }
        received.increment();
        locals.forEach(l -> l.stored(a.product(), a.device(), a.points()));
    }

    long sentCount() {
        return sent.sum();
    }

    long receivedCount() {
        return received.sum();
    }

    /** Announcements lost: not sent by this node, or dropped by NATS because this node took them too slowly. */
    long droppedCount() {
        return unsent.sum() + broadcast.droppedCount();
    }

    @Override
    public void close() {
        broadcast.close();
    }
}
