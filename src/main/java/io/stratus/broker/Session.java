package io.stratus.broker;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The broker's state of one client: its subscriptions, its outgoing QoS 1/2 messages in flight (a window
 * of packet ids) and queued behind the window, and the ids of incoming QoS 2 messages awaiting PUBREL.
 * All methods are synchronized: a session is touched by its own connection's event loop, by the threads of
 * publishers routing to it, by the writer committing its messages and by the reader loading them.
 *
 * <p>Memory does not follow what a session is owed: a message of a persistent session is in the store, so once its
 * row is committed the heap keeps only a stub (sequence number, size, time) while the session is offline, while its
 * queue is longer than one window, and after the message was sent. Stubs are loaded back a window at a time
 * ({@link Storage#load}) when they are due to be sent or resent.
 */
public final class Session {
    /** The limits of every session of a server, from its config. */
    record Rules(int maxInflight, int maxInflightBytes, int maxQueued, long maxQueuedBytes, long ttlMillis, long slowMillis) {}

    /** Where owed messages are kept: told when one is no longer owed, asked for payloads that are only there. */
    interface Storage {
        /** A stored message is no longer owed (acknowledged, dropped or expired): its row can go. */
        void settled(Session session, long seq);

        /**
         * Reads the payloads of {@code owed} (all stored) and hands them to {@link #loaded}, on another thread; false
         * when that cannot be queued now.
         */
        boolean load(Session session, List<Owed> owed);

        /** Hands back a read that waited for room in this session's queue ({@link #parkWhileFull}); false when full. */
        boolean resume(Runnable read);
    }

    final String key;
    final long productId;
    final String clientId;
    final long deviceId;
    private final boolean persistent;
    private final Rules rules;
    private final Storage storage;
    private final BrokerStats stats;
    private final QueueBudget budget;
    // Sized small: most sessions hold one subscription and nothing owed, and idle connections are counted in
    // thousands (memory per connection); the collections grow when used.
    private final Map<String, Integer> subscriptions = new LinkedHashMap<>(2);
    private final Map<Integer, Owed> inflight = new LinkedHashMap<>();
    private final ArrayDeque<Owed> queue = new ArrayDeque<>(1);
    private long queuedBytes;
    private long inflightBytes;
    private long enqueuedBytes; // ever queued, and ever taken from the head: their difference is queuedBytes
    private long dequeuedBytes;
    private Set<Integer> incomingQos2; // made on the first incoming QoS 2 message
    private Outbox outbox;
    private int lastPacketId;
    private long dropped;
    private boolean closingSlow; // the connection was told to close as a slow consumer
    private long lastProgress; // when the client last acknowledged something (or attached)
    private boolean loading; // a load of payloads is queued or running
    private boolean resending; // attached, waiting for the payloads of in-flight messages to resend them first
    private long restoreDroppedUpTo; // the newest stored row dropped while restoring (rows up to it are deleted)
    private Runnable parked; // a read of retained messages waiting for room in the queue

    Session(String key, long productId, String clientId, long deviceId, boolean persistent, Rules rules,
            Storage storage, BrokerStats stats, QueueBudget budget) {
        this.key = key;
        this.productId = productId;
        this.clientId = clientId;
        this.deviceId = deviceId;
        this.persistent = persistent;
        this.rules = rules;
        this.storage = storage;
        this.stats = stats;
        this.budget = budget;
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
     * DUP set and their packet ids [MQTT-4.4.0-1], then the queue. Payloads only in the store are loaded first.
     */
    public synchronized void attach(Outbox newOutbox) {
        this.outbox = newOutbox;
        this.closingSlow = false;
        this.lastProgress = System.currentTimeMillis();
        resend();
    }

    /** Unbinds the connection if it is still this session's; returns whether it was. Stored payloads leave the heap. */
    synchronized boolean detach(Outbox old) {
        if (outbox != old) {
            return false;
        }
        outbox = null;
        resending = false;
        parked = null; // retained messages are sent on SUBSCRIBE only, not on a later attach
        for (Owed o : queue) {
            if (o.stored) {
                release(o);
            }
        }
        for (Owed f : inflight.values()) {
            if (f.stored) {
                release(f);
            }
        }
        return true;
    }

    // ---- outgoing ---------------------------------------------------------------------------------

    /**
     * Delivers or queues one message at its delivery QoS. QoS 0 goes only to a connected, writable client. A QoS 1/2
     * message is queued within the session's and its product's limits, the oldest giving way (D18); returns its
     * entry, or null when it was not queued (QoS 0, or the product's queues are full and this session has nothing
     * queued to give way).
     */
    synchronized Owed deliver(Message message, long seq) {
        if (message.qos() == 0) {
            if (outbox != null && outbox.isWritable()) {
                outbox.publish(message, 0, false);
            } else {
                countDrop();
            }
            return null;
        }
        int size = message.payload().length;
        Owed owed = new Owed(seq, message.qos(), size, System.currentTimeMillis(), null, false);
        hold(owed, message);
        if (outbox != null && !resending && queue.isEmpty() && windowOpen()) {
            send(owed); // the common case: straight into the window, nothing queued
            return owed;
        }
        if (!makeRoom(size, true)) {
            countDrop();
            finish(owed);
            return null;
        }
        enqueue(owed);
        drain();
        return owed;
    }

    /**
     * The row of a message delivered with a sequence number is committed: its payload leaves the heap unless it is
     * about to be sent (online, within one window of the head of the queue).
     */
    synchronized void stored(Owed owed) {
        owed.stored = true;
        if (!owed.done && (outbox == null || owed.sent || owed.queueOffset - dequeuedBytes > rules.maxInflightBytes())) {
            release(owed);
        }
    }

    /**
     * Restores a stored message at start-up as a stub (its payload stays in the store), within the same limits as
     * {@link #deliver}; what gives way is remembered in {@link #restoreDroppedUpTo} (always a prefix of the
     * session's rows, as they come in order), for one delete instead of one per row.
     */
    synchronized void restore(long seq, int qos, int size, long enqueuedAt) {
        if (!makeRoom(size, false)) {
            restoreDroppedUpTo = seq;
            countDrop();
            return;
        }
        enqueue(new Owed(seq, qos, size, enqueuedAt, null, true));
    }

    /** The newest row dropped by {@link #restore}, 0 when none. */
    synchronized long restoreDroppedUpTo() {
        return restoreDroppedUpTo;
    }

    /**
     * Payloads read from the store for {@code batch}, by sequence number (an absent one is gone or unusable). Offline
     * by now, the session keeps stubs; otherwise it sends what is due.
     */
    synchronized void loaded(List<Owed> batch, Map<Long, Message> payloads) {
        loading = false;
        if (outbox == null) {
            return;
        }
        for (Owed o : batch) {
            if (o.done || o.message != null) {
                continue;
            }
            Message m = payloads.get(o.seq);
            if (m == null) {
                o.missing = true;
            } else {
                hold(o, m);
            }
        }
        if (resending) {
            resend();
        } else {
            drain();
        }
    }

    /**
     * True when the queue holds more than one window, and {@code read} then waits with the session, to be handed back to
     * the reader once the queue drains: large retained messages go at the client's pace, not into the heap at once.
     */
    synchronized boolean parkWhileFull(Runnable read) {
        if (queuedBytes <= rules.maxInflightBytes()) {
            return false;
        }
        parked = read;
        return true;
    }

    /** A load could not be read or queued: the connection is closed, and the next attach tries again. */
    synchronized void loadFailed(String reason) {
        loading = false;
        if (outbox != null) {
            outbox.close("queued messages could not be read: " + reason);
        }
    }

    public synchronized void onPuback(int packetId) {
        Owed f = inflight.get(packetId);
        if (f != null && f.qos == 1) {
            inflight.remove(packetId);
            inflightBytes -= f.size;
            lastProgress = System.currentTimeMillis();
            finish(f);
            drain();
        }
    }

    public synchronized void onPubrec(int packetId) {
        Owed f = inflight.get(packetId);
        if (f != null && f.qos == 2 && !f.released) {
            f.released = true;
            inflightBytes -= f.size;
            lastProgress = System.currentTimeMillis();
            // The client owns the message now; only the PUBREL/PUBCOMP exchange remains [MQTT-4.3.3].
            finish(f);
        }
    }

    public synchronized void onPubcomp(int packetId) {
        Owed f = inflight.get(packetId);
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

    /** Forgets everything owed, for a session being discarded (its stored rows go with the session's). */
    synchronized void discardAll() {
        for (Owed o : queue) {
            unqueued(o);
            o.done = true;
            release(o);
        }
        queue.clear();
        for (Owed f : inflight.values()) {
            f.done = true;
            release(f);
        }
        inflight.clear();
        inflightBytes = 0;
        parked = null;
    }

    // ---- internals ----------------------------------------------------------------------------------

    /**
     * Resends the in-flight messages in their order [MQTT-4.6.0-1], once every payload is in memory (loading those
     * only in the store first), then goes on with the queue.
     */
    private void resend() {
        if (outbox == null) {
            return;
        }
        List<Owed> toLoad = null;
        for (Owed f : inflight.values()) {
            if (!f.released && f.message == null && !f.missing) {
                if (toLoad == null) {
                    toLoad = new ArrayList<>();
                }
                toLoad.add(f);
            }
        }
        if (toLoad != null) {
            resending = true;
            requestLoad(toLoad); // when another load is running, its completion comes back here
            return;
        }
        resending = false;
        for (Iterator<Map.Entry<Integer, Owed>> it = inflight.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Integer, Owed> e = it.next();
            Owed f = e.getValue();
            if (f.released) {
                outbox.pubrel(e.getKey());
            } else if (f.missing) {
                it.remove();
                inflightBytes -= f.size;
                finish(f);
                countDrop();
            } else {
                outbox.publish(f.message, e.getKey(), true);
                afterSend(f);
            }
        }
        drain();
    }

    private void drain() {
        if (outbox == null || resending) {
            return;
        }
        long now = System.currentTimeMillis();
        while (!queue.isEmpty() && windowOpen()) {
            Owed next = queue.peekFirst();
            if (next.missing || now - next.enqueuedAt > rules.ttlMillis()) {
                dropOldest(true);
                continue;
            }
            if (next.message == null) {
                requestLoad(windowToLoad());
                return;
            }
            queue.pollFirst();
            unqueued(next);
            send(next);
        }
        if (parked != null && queuedBytes <= rules.maxInflightBytes()) {
            Runnable read = parked;
            parked = null;
            if (!storage.resume(read)) {
                outbox.close("retained messages could not be sent: the store reader is busy");
            }
        }
    }

    /** Room in the in-flight window: under mqtt.max-inflight messages and mqtt.max-inflight-bytes (one always fits). */
    private boolean windowOpen() {
        return inflight.size() < rules.maxInflight() && (inflight.isEmpty() || inflightBytes < rules.maxInflightBytes());
    }

    private void send(Owed owed) {
        int id = nextPacketId();
        inflight.put(id, owed);
        inflightBytes += owed.size;
        outbox.publish(owed.message, id, false);
        afterSend(owed);
    }

    /** The stubs at the head of the queue, up to one window (count and bytes, at least one). */
    private List<Owed> windowToLoad() {
        List<Owed> batch = new ArrayList<>();
        long bytes = 0;
        int scanned = 0;
        for (Owed o : queue) {
            if (batch.size() >= rules.maxInflight() || scanned++ >= rules.maxQueued()) {
                break;
            }
            if (o.message != null || o.missing) {
                continue;
            }
            if (!batch.isEmpty() && bytes + o.size > rules.maxInflightBytes()) {
                break;
            }
            batch.add(o);
            bytes += o.size;
        }
        return batch;
    }

    private void requestLoad(List<Owed> batch) {
        if (loading) {
            return;
        }
        loading = true;
        if (!storage.load(this, batch)) {
            loadFailed("the store reader is busy");
        }
    }

    /** A sent message keeps its payload only if it may have to be resent and cannot be read back. */
    private void afterSend(Owed owed) {
        owed.sent = true;
        if (owed.stored || !persistent) {
            release(owed);
        }
    }

    private void closeIfSlow() {
        if (outbox != null && !closingSlow && System.currentTimeMillis() - lastProgress >= rules.slowMillis()) {
            // Connected, queue full, and nothing acknowledged for mqtt.slow-consumer-seconds: a slow consumer.
            // It is disconnected (the connection logs why); a persistent session keeps queueing under D18.
            closingSlow = true;
            stats.slowConsumerDisconnected();
            outbox.close("slow consumer: " + queue.size() + " QoS 1/2 messages queued behind " + inflight.size()
                    + " unacknowledged (session.max-queued " + rules.maxQueued() + "; " + queuedBytes
                    + " bytes, session.max-queued-bytes " + rules.maxQueuedBytes() + ")");
        }
    }

    /**
     * Room in the queue for one more message of {@code size} bytes within the session's and the product's limits,
     * the oldest giving way (D18); false when the product's queues are full and this one has nothing left to give.
     * {@code live} false while restoring: no slow-consumer check, and the rows go in one delete later.
     */
    private boolean makeRoom(int size, boolean live) {
        while (!queue.isEmpty() && (queue.size() >= rules.maxQueued() || queuedBytes + size > rules.maxQueuedBytes())) {
            if (live) {
                closeIfSlow();
            }
            dropOldest(live);
        }
        while (!budget.reserve(size)) {
            if (live) {
                stats.productQueueFull();
            }
            if (queue.isEmpty()) {
                return false;
            }
            dropOldest(live);
        }
        return true;
    }

    private void enqueue(Owed owed) {
        owed.queueOffset = enqueuedBytes;
        enqueuedBytes += owed.size;
        queue.addLast(owed);
        queuedBytes += owed.size;
        stats.queued(1, owed.size);
    }

    private void unqueued(Owed owed) {
        dequeuedBytes += owed.size;
        queuedBytes -= owed.size;
        budget.release(owed.size);
        stats.queued(-1, -owed.size);
    }

    /** Drops the head of the queue; {@code settle} false while restoring (the rows go in one delete). */
    private void dropOldest(boolean settle) {
        Owed o = queue.pollFirst();
        unqueued(o);
        if (settle) {
            finish(o);
        } else {
            o.done = true;
            restoreDroppedUpTo = o.seq;
        }
        countDrop();
    }

    /** The message is owed no more: its payload and its row can go. */
    private void finish(Owed owed) {
        owed.done = true;
        release(owed);
        if (owed.seq != 0) {
            storage.settled(this, owed.seq);
        }
    }

    private void hold(Owed owed, Message message) {
        owed.message = message;
        stats.heldInHeap(owed.size);
    }

    private void release(Owed owed) {
        if (owed.message != null) {
            owed.message = null;
            stats.heldInHeap(-owed.size);
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

    // ---- incoming QoS 2 ---------------------------------------------------------------------------

    /** Records an incoming QoS 2 packet id; false when it is a redelivery of one already routed. */
    public synchronized boolean beginIncomingQos2(int packetId) {
        if (incomingQos2 == null) {
            incomingQos2 = new HashSet<>();
        }
        return incomingQos2.add(packetId);
    }

    public synchronized void endIncomingQos2(int packetId) {
        if (incomingQos2 == null) {
            return;
        }
        incomingQos2.remove(packetId);
    }
}
