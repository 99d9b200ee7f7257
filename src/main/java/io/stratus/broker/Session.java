package io.stratus.broker;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The broker's state of one client: its subscriptions, its outgoing QoS 1/2 messages in flight (a window
 * of packet ids, {@link InflightWindow}) and queued behind the window ({@link OwedQueue}), and the ids of incoming
 * QoS 2 messages awaiting PUBREL. All methods are synchronized: a session is touched by its own connection's event
 * loop, by the threads of publishers routing to it, by the writer committing its messages and by the reader loading
 * them. Its window, queue and {@link OwedLedger} have no lock of their own: only the session calls them, under its lock.
 *
 * <p>Memory does not follow what a session is owed: a message of a persistent session is in the store, so once its
 * row is committed the heap keeps only a stub (sequence number, size, time) while the session is offline, while its
 * queue is longer than one window, and after the message was sent. Stubs are loaded back a window at a time
 * ({@link SessionStorage#load}) when they are due to be sent or resent.
 */
public final class Session {
    /** The limits of every session of a server, from its config. */
    record Rules(int maxInflight, int maxInflightBytes, int maxQueued, long maxQueuedBytes, long ttlMillis, long slowMillis) {}

    final String key;
    final long productId;
    final String clientId;
    final long deviceId;
    private final boolean persistent;
    private final Rules rules;
    private final SessionStorage storage;
    private final BrokerStats stats;
    // Sized small: most sessions hold one subscription, and idle connections are counted in thousands (memory per
    // connection); the map grows when used.
    private final Map<String, Integer> subscriptions = new LinkedHashMap<>(2);
    private final QueueBudget budget;
    // Made together on the first message owed or dropped ({@link #owe}): the sessions of idle devices never need them,
    // and those are counted in thousands (memory per connection). Null means nothing was ever owed.
    private OwedLedger ledger;
    private InflightWindow window;
    private OwedQueue queue;
    private Set<Integer> incomingQos2; // made on the first incoming QoS 2 message
    private Outbox outbox;
    private long logins; // see loggedIn(): two CONNECTs racing on two event loops must not both attach
    private boolean closingSlow; // the connection was told to close as a slow consumer
    private long lastProgress; // when the client last acknowledged something (or attached)
    private boolean loading; // a load of payloads is queued or running
    private boolean resending; // attached, waiting for the payloads of in-flight messages to resend them first
    private Runnable parked; // a read of retained messages waiting for room in the queue

    Session(String key, long productId, String clientId, long deviceId, boolean persistent, Rules rules,
            SessionStorage storage, BrokerStats stats, QueueBudget budget) {
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

    private void owe() {
        if (ledger == null) {
            ledger = new OwedLedger(this, storage, stats);
            window = new InflightWindow(rules, persistent, ledger);
            queue = new OwedQueue(rules, budget, stats, ledger);
        }
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
        return ledger == null ? 0 : ledger.dropped();
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

    synchronized long loggedIn() { // a login bound to it (under its key's lock in Sessions), or its end
        return ++logins;
    }

    /**
     * Binds the session to the connection of login {@code ticket} and resends what it is owed: in-flight messages first,
     * with DUP set and their packet ids [MQTT-4.4.0-1], then the queue. Payloads only in the store are loaded first.
     * False, binding nothing, when a later login or the session's end came after that login.
     */
    public synchronized boolean attach(Outbox newOutbox, long ticket) {
        if (ticket != logins) {
            return false;
        }
        this.outbox = newOutbox;
        this.closingSlow = false;
        this.lastProgress = System.currentTimeMillis();
        resend();
        return true;
    }

    /** Unbinds the connection if it is still this session's; returns whether it was. Stored payloads leave the heap. */
    synchronized boolean detach(Outbox old) {
        if (outbox != old) {
            return false;
        }
        outbox = null;
        resending = false;
        parked = null; // retained messages are sent on SUBSCRIBE only, not on a later attach
        if (ledger != null) {
            queue.releaseStored();
            window.releaseStored();
        }
        return true;
    }

    // ---- outgoing ---------------------------------------------------------------------------------

    /**
     * Delivers or queues one message at its delivery QoS. QoS 0 goes only to a connected, writable client. A QoS 1/2
     * message is queued within the session's and its product's limits, the oldest giving way (D18, docs/decisions.md);
     * returns its entry, or null when it was not queued (QoS 0, or the product's queues are full and this session has
     * nothing queued to give way).
     */
    synchronized Owed deliver(Message message, long seq) {
        if (message.qos() == 0) {
            if (outbox != null && outbox.isWritable()) {
                outbox.publish(message, 0, false);
            } else {
                owe();
                ledger.countDrop();
            }
            return null;
        }
        owe();
        int size = message.payload().length;
        Owed owed = new Owed(seq, message.qos(), size, System.currentTimeMillis(), null, false);
        ledger.hold(owed, message);
        if (outbox != null && !resending && queue.isEmpty() && window.open()) {
            window.send(owed, outbox); // the common case: straight into the window, nothing queued
            return owed;
        }
        if (!makeRoom(size)) {
            ledger.countDrop();
            ledger.finish(owed);
            return null;
        }
        queue.add(owed);
        drain();
        return owed;
    }

    /**
     * The row of a message delivered with a sequence number is committed: its payload leaves the heap unless it is
     * about to be sent (online, within one window of the head of the queue).
     */
    synchronized void stored(Owed owed) {
        owed.stored = true;
        if (!owed.done && (outbox == null || owed.sent || queue.farFromHead(owed))) {
            ledger.release(owed);
        }
    }

    /** Restores a stored message at start-up as a stub, within the same limits as {@link #deliver}. */
    synchronized void restore(long seq, int qos, int size, long enqueuedAt) {
        owe();
        queue.restore(seq, qos, size, enqueuedAt);
    }

    /** The newest row dropped by {@link #restore}, 0 when none (rows up to it are deleted at once). */
    synchronized long restoreDroppedUpTo() {
        return queue == null ? 0 : queue.restoreDroppedUpTo();
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
                ledger.hold(o, m);
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
        if (queue == null || !queue.holdsMoreThanWindow()) {
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
        Owed f = window == null ? null : window.puback(packetId); // null window: nothing was ever sent
        if (f != null) {
            lastProgress = System.currentTimeMillis();
            ledger.finish(f);
            drain();
        }
    }

    public synchronized void onPubrec(int packetId) {
        Owed f = window == null ? null : window.pubrec(packetId);
        if (f != null) {
            lastProgress = System.currentTimeMillis();
            // The client owns the message now; only the PUBREL/PUBCOMP exchange remains [MQTT-4.3.3].
            ledger.finish(f);
        }
    }

    public synchronized void onPubcomp(int packetId) {
        if (window != null && window.pubcomp(packetId)) {
            drain();
        }
    }

    public synchronized int inflightCount() {
        return window == null ? 0 : window.size();
    }

    public synchronized int queuedCount() {
        return queue == null ? 0 : queue.size();
    }

    /** Forgets everything owed, for a session being discarded (its stored rows go with the session's). */
    synchronized void discardAll() {
        if (ledger != null) {
            queue.discard();
            window.discard();
        }
        parked = null;
    }

    // ---- internals ----------------------------------------------------------------------------------

    /**
     * Resends the in-flight messages in their order [MQTT-4.6.0-1], once every payload is in memory (loading those
     * only in the store first), then goes on with the queue.
     */
    private void resend() {
        if (outbox == null || window == null) {
            return; // attached with nothing ever owed: nothing to resend or send
        }
        List<Owed> toLoad = window.stubsToResend();
        if (toLoad != null) {
            resending = true;
            requestLoad(toLoad); // when another load is running, its completion comes back here
            return;
        }
        resending = false;
        window.resend(outbox);
        drain();
    }

    /** Sends from the head of the queue while the window has room, loading stubs a window at a time. */
    private void drain() {
        if (outbox == null || resending || window == null) {
            return;
        }
        long now = System.currentTimeMillis();
        Owed next;
        while (window.open() && (next = queue.liveHead(now)) != null) {
            if (next.message == null) {
                requestLoad(queue.stubsAtHead());
                return;
            }
            window.send(queue.take(), outbox);
        }
        if (parked != null && !queue.holdsMoreThanWindow()) {
            Runnable read = parked;
            parked = null;
            if (!storage.resume(read)) {
                outbox.close("retained messages could not be sent: the store reader is busy");
            }
        }
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

    /**
     * Room in the queue for one more message of {@code size} bytes within the session's and the product's limits,
     * the oldest giving way (D18); false when the product's queues are full and this one has nothing left to give.
     */
    private boolean makeRoom(int size) {
        while (queue.overLimits(size)) {
            closeIfSlow();
            queue.dropOldest(true);
        }
        return queue.reserve(size, true);
    }

    private void closeIfSlow() {
        if (outbox != null && !closingSlow && System.currentTimeMillis() - lastProgress >= rules.slowMillis()) {
            // Connected, queue full, and nothing acknowledged for mqtt.slow-consumer-seconds: a slow consumer.
            // It is disconnected (the connection logs why); a persistent session keeps queueing under D18.
            closingSlow = true;
            stats.slowConsumerDisconnected();
            outbox.close("slow consumer: " + queue.size() + " QoS 1/2 messages queued behind " + window.size()
                    + " unacknowledged (session.max-queued " + rules.maxQueued() + "; " + queue.bytes()
                    + " bytes, session.max-queued-bytes " + rules.maxQueuedBytes() + ")");
        }
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
