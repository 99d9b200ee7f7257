package io.stratus.broker;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The broker's state of one client: its subscriptions, its outgoing QoS 1/2 messages in flight (a window
 * of packet ids) and queued behind the window, and the ids of incoming QoS 2 messages awaiting PUBREL.
 * All methods are synchronized: a session is touched by its own connection's event loop and by the
 * threads of publishers routing to it.
 */
public final class Session {
    /** A QoS 1/2 message owed to the client; {@code seq} is its row in the store (0 when not stored). */
    record Owed(Message message, long seq, long enqueuedAt) {}

    private static final class InFlight {
        final Owed owed;
        boolean released; // PUBREC received, PUBREL sent: only PUBCOMP is missing

        InFlight(Owed owed) {
            this.owed = owed;
        }
    }

    /** Told when a stored message is no longer owed (acknowledged, dropped or expired). */
    interface Settled {
        void settled(Session session, long seq);
    }

    final String key;
    final long productId;
    final String clientId;
    final long deviceId;
    private final boolean persistent;
    private final int maxInflight;
    private final int maxQueued;
    private final long ttlMillis;
    private final Settled settled;
    private final BrokerStats stats;
    // Sized small: most sessions hold one subscription and nothing owed, and idle connections are counted in
    // thousands (memory per connection); the collections grow when used.
    private final Map<String, Integer> subscriptions = new LinkedHashMap<>(2);
    private final Map<Integer, InFlight> inflight = new LinkedHashMap<>();
    private final ArrayDeque<Owed> queue = new ArrayDeque<>(1);
    private Set<Integer> incomingQos2; // made on the first incoming QoS 2 message
    private Outbox outbox;
    private int lastPacketId;
    private long dropped;
    private boolean closingSlow; // the connection was told to close as a slow consumer
    private long lastProgress; // when the client last acknowledged something (or attached)
    private final long slowMillis;

    Session(String key, long productId, String clientId, long deviceId, boolean persistent,
            int maxInflight, int maxQueued, long ttlMillis, Settled settled, BrokerStats stats, long slowMillis) {
        this.key = key;
        this.productId = productId;
        this.clientId = clientId;
        this.deviceId = deviceId;
        this.persistent = persistent;
        this.maxInflight = maxInflight;
        this.maxQueued = maxQueued;
        this.ttlMillis = ttlMillis;
        this.settled = settled;
        this.stats = stats;
        this.slowMillis = slowMillis;
    }

    public boolean persistent() {
        return persistent;
    }

    public String clientId() {
        return clientId;
    }

    public long productId() {
        return productId;
    }

    public long deviceId() {
        return deviceId;
    }

    public synchronized boolean isOnline() {
        return outbox != null;
    }

    synchronized Outbox outbox() {
        return outbox;
    }

    /** Messages dropped from this session's queue since it was created (QoS 0 when not writable, overflow, expiry). */
    synchronized long dropped() {
        return dropped;
    }

    // ---- subscriptions ----------------------------------------------------------------------------

    public synchronized Map<String, Integer> subscriptions() {
        return Map.copyOf(subscriptions);
    }

    synchronized int subscriptionCount() {
        return subscriptions.size();
    }

    synchronized boolean hasSubscription(String filter) {
        return subscriptions.containsKey(filter);
    }

    synchronized void putSubscription(String filter, int qos) {
        subscriptions.put(filter, qos);
    }

    synchronized boolean removeSubscription(String filter) {
        return subscriptions.remove(filter) != null;
    }

    // ---- connection -------------------------------------------------------------------------------

    /**
     * Binds the session to a new connection and resends what it is owed: in-flight messages first, with
     * DUP set and their packet ids [MQTT-4.4.0-1], then the queue.
     */
    public synchronized void attach(Outbox newOutbox) {
        this.outbox = newOutbox;
        this.closingSlow = false;
        this.lastProgress = System.currentTimeMillis();
        for (Map.Entry<Integer, InFlight> e : inflight.entrySet()) {
            if (e.getValue().released) {
                newOutbox.pubrel(e.getKey());
            } else {
                newOutbox.publish(e.getValue().owed.message, e.getKey(), true);
            }
        }
        drain();
    }

    /** Unbinds the connection if it is still this session's; returns whether it was. */
    synchronized boolean detach(Outbox old) {
        if (outbox != old) {
            return false;
        }
        outbox = null;
        return true;
    }

    // ---- outgoing ---------------------------------------------------------------------------------

    /** Delivers or queues one message at its delivery QoS. QoS 0 goes only to a connected, writable client. */
    synchronized void deliver(Message message, long seq) {
        if (message.qos() == 0) {
            if (outbox != null && outbox.isWritable()) {
                outbox.publish(message, 0, false);
            } else {
                countDrop();
            }
            return;
        }
        if (queue.size() >= maxQueued) {
            if (outbox != null && !closingSlow && System.currentTimeMillis() - lastProgress >= slowMillis) {
                // Connected, queue full, and nothing acknowledged for mqtt.slow-consumer-seconds: a slow consumer.
                // It is disconnected (the connection logs why); a persistent session keeps queueing under D18.
                closingSlow = true;
                stats.slowConsumerDisconnected();
                outbox.close("slow consumer: " + queue.size() + " QoS 1/2 messages queued behind " + inflight.size()
                        + " unacknowledged (session.max-queued " + maxQueued + ")");
            }
            // D18: the oldest queued message gives way.
            settle(queue.pollFirst());
            countDrop();
        }
        queue.addLast(new Owed(message, seq, System.currentTimeMillis()));
        drain();
    }

    /** Restores a stored message at start-up. */
    synchronized void restore(Message message, long seq, long enqueuedAt) {
        queue.addLast(new Owed(message, seq, enqueuedAt));
    }

    public synchronized void onPuback(int packetId) {
        InFlight f = inflight.get(packetId);
        if (f != null && f.owed.message.qos() == 1) {
            inflight.remove(packetId);
            lastProgress = System.currentTimeMillis();
            settle(f.owed);
            drain();
        }
    }

    public synchronized void onPubrec(int packetId) {
        InFlight f = inflight.get(packetId);
        if (f != null && f.owed.message.qos() == 2 && !f.released) {
            f.released = true;
            lastProgress = System.currentTimeMillis();
            // The client owns the message now; only the PUBREL/PUBCOMP exchange remains [MQTT-4.3.3].
            settle(f.owed);
        }
    }

    public synchronized void onPubcomp(int packetId) {
        InFlight f = inflight.get(packetId);
        if (f != null && f.released) {
            inflight.remove(packetId);
            drain();
        }
    }

    public synchronized int inflightCount() {
        return inflight.size();
    }

    public synchronized int queuedCount() {
        return queue.size();
    }

    private void drain() {
        if (outbox == null) {
            return;
        }
        long now = System.currentTimeMillis();
        while (inflight.size() < maxInflight && !queue.isEmpty()) {
            Owed next = queue.pollFirst();
            if (now - next.enqueuedAt() > ttlMillis) {
                settle(next);
                countDrop();
                continue;
            }
            int id = nextPacketId();
            inflight.put(id, new InFlight(next));
            outbox.publish(next.message(), id, false);
        }
    }

    private void countDrop() {
        dropped++;
        stats.dropped();
    }

    private int nextPacketId() {
        // Ids of messages still in flight are skipped; the window is far smaller than 65535.
        do {
            lastPacketId = lastPacketId % 65535 + 1;
        } while (inflight.containsKey(lastPacketId));
        return lastPacketId;
    }

    private void settle(Owed owed) {
        if (owed != null && owed.seq() != 0) {
            settled.settled(this, owed.seq());
        }
    }

    /** Forgets everything owed, for a session being discarded (its stored rows go with the session's). */
    synchronized void discardAll() {
        inflight.clear();
        queue.clear();
    }

    // ---- incoming QoS 2 ---------------------------------------------------------------------------

    /** Records an incoming QoS 2 packet id; false when it is a redelivery of one already routed. */
    public synchronized boolean beginIncomingQos2(int packetId) {
        if (incomingQos2 == null) {
            incomingQos2 = new HashSet<>();
        }
        return incomingQos2.add(packetId);
    }

    public synchronized void endIncomingQos2(int packetId) {
        if (incomingQos2 != null) {
            incomingQos2.remove(packetId);
        }
    }
}
