package io.stratus.broker;

import io.stratus.Config;
import io.stratus.cluster.LogBus;
import io.stratus.cluster.RouteBus;
import io.stratus.device.Device;
import io.stratus.device.DeviceRegistry;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every session of the server with the per-product topic trees their subscriptions live in: binding clients to
 * sessions (takeover, clean and persistent), ending them, and what a deleted device or product or a revoked login
 * does to them. Changes to one session are serialised by a striped lock on its key.
 */
final class Sessions {
    private static final Logger log = LoggerFactory.getLogger(Sessions.class);

    private final Config config;
    private final BrokerStore store;
    private final DeviceRegistry registry;
    private final BrokerStats stats;
    private final Session.Rules rules;
    private final SessionStorage storage;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final Map<Long, TopicTree<Session>> trees = new ConcurrentHashMap<>();
    private volatile RouteBus bus; // cluster mode only
    private volatile Takeovers takeovers; // cluster mode only
    private volatile LogBus logBus; // cluster mode only
    /** What {@link #claimedElsewhere} did: closed a connection; let go of a persistent session. */
    static final int CLOSED = 1;
    static final int LET_GO = 2;
    private final ClientEpochs epochs = new ClientEpochs();
    private final Map<Long, QueueBudget> budgets = new ConcurrentHashMap<>();
    private final Object[] locks = new Object[64];

    Sessions(Config config, BrokerStore store, DeviceRegistry registry, BrokerStats stats, SessionStorage storage) {
        this.config = config;
        this.store = store;
        this.registry = registry;
        this.stats = stats;
        this.storage = storage;
        Config.TenantLimits limits = config.tenantLimits();
        this.rules = new Session.Rules(config.maxInflight(), limits.maxInflightBytes(), config.maxQueuedMessages(),
                limits.maxQueuedBytes(), config.offlineMessageTtl().toMillis(), config.protection().slowConsumerTimeout().toMillis());
        for (int i = 0; i < locks.length; i++) {
            locks[i] = new Object();
        }
    }

    /**
     * See {@link Broker#connect}. {@code epoch} is the connection's claim of its client id in cluster mode (0 on a single
     * node); null when a newer claim is known here already (the connection lost a race, see {@link ClientEpochs}).
     */
    Broker.Connected connect(long productId, long deviceId, String clientId, boolean cleanSession, long epoch) {
        String key = productId + "/" + clientId;
        synchronized (lockFor(key)) {
            if (epoch != 0 && !epochs.admit(key, epoch)) {
                return null;
            }
            Session existing = sessions.get(key);
            if (existing != null) {
                Outbox previous = existing.outbox();
                if (previous != null) {
                    existing.detach(previous);
                    previous.close("session taken over by a new connection");
                }
                if (cleanSession || !existing.persistent()) {
                    discard(existing);
                    existing = null;
                }
            }
            if (existing != null) {
                return new Broker.Connected(existing, true, existing.loggedIn(), epoch);
            }
            Session s = newSession(key, productId, clientId, deviceId, !cleanSession);
            sessions.put(key, s);
            if (!cleanSession) {
                store.putSession(s, Map.of());
            }
            return new Broker.Connected(s, false, s.loggedIn(), epoch);
        }
    }

    /** The connection of a session ended; a clean session ends with it [MQTT-3.1.2-6]. */
    void disconnect(Session s, Outbox outbox) {
        synchronized (lockFor(s.key)) {
            if (s.detach(outbox)) {
                if (!s.persistent()) {
                    discard(s);
                }
                Takeovers t = takeovers;
                long epoch = t == null ? 0 : epochs.release(s.key);
                if (epoch != 0) {
                    t.released(s.productId, s.clientId, epoch, !s.persistent());
                }
            }
        }
    }

    /**
     * Cluster mode: another node claimed this client id with {@code epoch}. A connection here with an older claim closes
     * (its will is published, as in a takeover on one node); a clean session goes with it, a persistent one leaves this
     * node's memory. What it did: {@link #CLOSED} and/or {@link #LET_GO} (0: nothing here).
     */
    int claimedElsewhere(long productId, String clientId, long epoch) {
        String key = productId + "/" + clientId;
        synchronized (lockFor(key)) {
            if (!epochs.claimedElsewhere(key, epoch, sessions)) {
                return 0;
            }
            Session s = sessions.get(key);
            if (s == null) {
                return 0;
            }
            Outbox outbox = s.outbox();
            if (outbox != null) {
                s.detach(outbox);
                outbox.close("session taken over by a connection on another node");
            }
            if (s.persistent()) {
                forgetLocally(s); // the claimer's node takes it from the store, once this node's writes are in
            } else {
                discard(s);
            }
            return (outbox != null ? CLOSED : 0) | (s.persistent() ? LET_GO : 0);
        }
    }

    /** Whether this node is one of a cluster: other nodes' subscribers may want what is published here. */
    boolean clustered() {
        return bus != null;
    }

    LogBus join(LogBus logBus) {
        this.logBus = logBus;
        return logBus;
    }

    /** Cluster mode: client ids are claimed across nodes through {@code takeovers}. */
    void join(Takeovers takeovers) {
        this.takeovers = takeovers;
    }

    Session get(String key) {
        return sessions.get(key);
    }

    List<Session> all() {
        return List.copyOf(sessions.values());
    }

    Session get(long productId, String clientId) {
        return sessions.get(productId + "/" + clientId);
    }

    int size() {
        return sessions.size();
    }

    /** The devices of a product whose sessions (live, or persistent and offline) hold exactly this filter, by id. */
    List<Long> devicesSubscribedTo(long productId, String filter) {
        return sessions.values().stream()
                .filter(s -> s.productId == productId && s.deviceId != 0 && s.hasSubscription(filter))
                .map(s -> s.deviceId).distinct().sorted().toList();
    }

    /** The product's topic tree, made on its first subscription. */
    TopicTree<Session> tree(long productId) {
        return trees.computeIfAbsent(productId, p -> new TopicTree<>());
    }

    /** The product's topic tree if anything in it ever subscribed; null otherwise (nothing to route to). */
    TopicTree<Session> existingTree(long productId) {
        return trees.get(productId);
    }

    /** Whether anything in the product subscribes now. */
    boolean hasSubscriptions(long productId) {
        TopicTree<Session> tree = trees.get(productId);
        return tree != null && tree.size() > 0;
    }

    void subscribe(Session s, String filter, int qos) {
        tree(s.productId).subscribe(filter, s, qos);
        interestChanged(s.productId);
    }

    void unsubscribe(Session s, String filter) {
        tree(s.productId).unsubscribe(filter, s);
        interestChanged(s.productId);
    }

    // ---- other nodes (cluster mode, docs/cluster.md) ------------------------------------------------

    /** From now on this node's subscriptions decide which products' QoS 0 messages {@code bus} brings from other nodes. */
    RouteBus join(RouteBus bus) {
        this.bus = bus;
        trees.keySet().forEach(this::interestChanged);
        return bus;
    }

    /**
     * A message published on this node, for the other nodes: at QoS 0 over core NATS (null returned); at QoS 1 and 2
     * appended to the cluster's log, completing once it is stored there. Null on a single node.
     */
    CompletableFuture<Void> published(long productId, Message m) {
        if (m.qos() == 0) {
            RouteBus b = bus;
            if (b != null) {
                b.publish(productId, m.topic(), m.payload());
            }
            return null;
        }
        LogBus l = logBus;
        return l == null ? null : l.append(productId, m.topic(), m.payload(), m.qos());
    }

    void interestChanged(long productId) {
        RouteBus b = bus;
        if (b != null) {
            b.interest(productId, () -> hasSubscriptions(productId));
        }
    }

    /**
     * A deleted device loses its connection, without its will (nothing of a deleted device is published, see
     * docs/api-decisions.md), and its session.
     */
    void evict(Device device) {
        String key = device.productId() + "/" + device.id();
        synchronized (lockFor(key)) {
            Session s = sessions.get(key);
            if (s == null) {
                return;
            }
            Outbox outbox = s.outbox();
            if (outbox != null) {
                outbox.close("device " + device.id() + " was deleted", false);
            }
            discard(s);
        }
    }

    /**
     * A disabled device, or one whose login secret stopped working, loses its connection unless that logged in with a
     * secret that still works. The will is published: the server ends the connection without a DISCONNECT
     * [MQTT-3.1.2-8]. A persistent session stays, for when the device logs in again with a valid secret.
     */
    void endLogin(Device device, String reason) {
        Session s = sessions.get(device.productId() + "/" + device.id());
        Outbox outbox = s == null ? null : s.outbox();
        if (outbox != null && !registry.stillValid(device.id(), outbox.credential())) {
            outbox.close(reason, true);
        }
    }

    /** A deleted product: every remaining session (anonymous clients of the default product), its trees and budget. */
    void forgetProduct(long productId) {
        for (Session s : sessions.values()) {
            if (s.productId != productId) {
                continue;
            }
            synchronized (lockFor(s.key)) {
                Outbox outbox = s.outbox();
                if (outbox != null) {
                    outbox.close("product " + productId + " was deleted", false);
                }
                discard(s);
            }
        }
        budgets.remove(productId);
        trees.remove(productId);
        interestChanged(productId);
    }

    /**
     * Start-up: the persistent sessions and stubs of what they are owed, within the limits; returns the highest
     * sequence number stored. No payload is read: a store filled by a hostile tenant starts in the same heap as an
     * empty one. On a single node only: in cluster mode a node reads the sessions it holds one by one ({@link #moveIn}).
     */
    long restore() {
        for (BrokerStore.StoredSession stored : store.loadSessions()) {
            restored(stored);
        }
        long[] maxSeq = {0};
        AtomicReference<Session> current = new AtomicReference<>();
        store.loadMessageStubs((sessionKey, seq, qos, size, createdAt) -> {
            Session s = current.get();
            if (s == null || !s.key.equals(sessionKey)) {
                s = sessions.get(sessionKey);
                current.set(s);
            }
            if (s != null) {
                s.restore(seq, qos, size, createdAt);
            }
            maxSeq[0] = Math.max(maxSeq[0], seq);
        });
        Map<String, Long> dropped = new HashMap<>();
        for (Session s : sessions.values()) {
            if (s.restoreDroppedUpTo() != 0) {
                dropped.put(s.key, s.restoreDroppedUpTo());
            }
        }
        if (!dropped.isEmpty()) {
            store.deleteMessagesUpTo(dropped);
            log.warn("{} persistent sessions had more queued than session.max-queued(-bytes) or product.max-queued(-bytes) "
                    + "allow: their oldest messages were dropped", dropped.size());
        }
        return maxSeq[0];
    }

    Session restored(BrokerStore.StoredSession stored) {
        long deviceId = Device.idOf(stored.clientId()); // a device's session is named by its canonical id
        Session s = newSession(stored.key(), stored.productId(), stored.clientId(), deviceId, true);
        subscribeRestored(s, stored.subscriptions());
        sessions.put(s.key, s);
        return s;
    }

    /** Puts a restored session's stored subscriptions in force: from now on it is matched. */
    void subscribeRestored(Session s, Map<String, Integer> subscriptions) {
        subscriptions.forEach((filter, qos) -> {
            s.putSubscription(filter, qos);
            tree(s.productId).subscribe(filter, s, qos);
        });
    }

    private Session newSession(String key, long productId, String clientId, long deviceId, boolean persistent) {
        QueueBudget budget = budgets.computeIfAbsent(productId, p -> new QueueBudget(
                config.tenantLimits().productMaxQueued(), config.tenantLimits().productMaxQueuedBytes()));
        return new Session(key, productId, clientId, deviceId, persistent, rules, storage, stats, budget);
    }

    void discard(Session s) {
        forgetLocally(s);
        if (s.persistent()) {
            store.deleteSession(s.key);
        }
    }

    /** Drops a session from this node's memory; its rows stay (cluster mode: its client moved to another node). */
    void forgetLocally(Session s) {
        s.loggedIn(); // a login not yet attached to it attaches to nothing
        sessions.remove(s.key, s);
        TopicTree<Session> tree = tree(s.productId);
        for (String filter : s.subscriptions().keySet()) {
            tree.unsubscribe(filter, s);
        }
        interestChanged(s.productId);
        s.discardAll();
    }

    Object lockFor(String key) {
        return locks[Math.floorMod(key.hashCode(), locks.length)];
    }
}
