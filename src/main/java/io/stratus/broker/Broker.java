package io.stratus.broker;

import io.stratus.Config;
import io.stratus.device.Credential;
import io.stratus.device.Device;
import io.stratus.device.DeviceListener;
import io.stratus.device.DeviceRegistry;
import io.stratus.device.Product;
import io.stratus.monitor.Worker;
import io.stratus.store.BatchWriter;
import io.stratus.store.Database;
import io.stratus.store.ProductCleanup;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routing between sessions, scoped by product: each product has its own topic tree and retained messages,
 * so nothing published in one product can reach a subscriber of another, wildcards included. The sessions are in
 * {@link Sessions}, the system topics ({@code $dp}, {@code $crsp/}, registered by {@code Platform}) in {@link
 * SystemTopics}, and what the broker keeps of each logged-in client in {@link Client}. Netty-free: connections reach
 * it through {@link Outbox}.
 *
 * <p>What a product can make it hold is bounded (docs/reliability.md, "Limits per tenant"): retained messages per
 * product ({@link RetainedMessages}), queued messages per session and per product ({@link Session}, {@link
 * QueueBudget}); payloads the heap does not need stay in the store and are read when due ({@link PayloadReader}).
 */
public final class Broker implements AutoCloseable {
    /**
     * A session bound to a new connection; {@code sessionPresent} as in CONNACK; {@code ticket} for
     * {@link Session#attach}.
     */
    public record Connected(Session session, boolean sessionPresent, long ticket, long epoch) {}

    /** One topic filter of a SUBSCRIBE with its requested QoS. */
    public record SubscriptionRequest(String filter, int qos) {}

    public static final int SUBACK_FAILURE = 0x80;
    private static final Logger log = LoggerFactory.getLogger(Broker.class);
    /** Reads queued at once: a session queues one at a time, so this is many sessions catching up together. */
    private static final int READER_QUEUE = 16_384;
    /** What {@link #publish} returns when nothing had to be stored: one shared instance, no garbage per message. */
    private static final CompletableFuture<Void> NOTHING_TO_STORE = CompletableFuture.completedFuture(null);

    private final Config config;
    private final BrokerStore store;
    private final Sessions sessions;
    private final RetainedMessages retained;
    private final PayloadReader reader;
    private final RepeatedWarning invalidTopicWarning = new RepeatedWarning(log, "message to invalid topic dropped (product {}): {}");
    private final SystemTopics systemTopics = new SystemTopics();
    private final AtomicLong seqs = new AtomicLong();
    private final LongAdder published = new LongAdder();
    private final BrokerStats stats = new BrokerStats();
    private final UserTopics userTopics;
    private final DeviceRegistry registry;
    private final LocalRoute route;
    private final ClusterLink cluster;

    public Broker(Config config, Database database, BatchWriter writer, DeviceRegistry registry) {
        this.config = config;
        this.registry = registry;
        this.store = new BrokerStore(database, writer);
        this.reader = new PayloadReader(store, READER_QUEUE, this::invalidTopic);
        Config.TenantLimits limits = config.tenantLimits();
        this.retained = new RetainedMessages(store, reader, stats, limits.retainedMaxPerProduct(), limits.retainedMaxBytesPerProduct());
        this.userTopics = new UserTopics(database, writer, config.topicsMaxPerProduct());
        this.sessions = new Sessions(config, store, registry, stats, SessionStorage.of(store, reader));
        this.route = new LocalRoute(sessions, store, seqs);
        this.cluster = new ClusterLink(sessions, route, retained, store, this::publish);
        load();
    }

    /** What a deleted, disabled or revoked device or a deleted product does to sessions, connections and caches. */
    public DeviceListener deviceEvents() {
        return new DeviceEvents(sessions, retained, userTopics);
    }

    /** The broker's rows of a product (sessions, owed and retained messages, user topics), in its deletion. */
    public ProductCleanup productCleanup() {
        return BrokerStore::deleteProduct;
    }

    // ---- system topics ----------------------------------------------------------------------------

    /** Routes PUBLISHes to exactly {@code topic} (e.g. {@code $dp}) to {@code handler}. */
    public void registerSystemTopic(String topic, SystemTopicHandler handler) {
        systemTopics.route(topic, handler);
    }

    /** Routes PUBLISHes to topics starting with {@code prefix} (e.g. {@code $crsp/}) to {@code handler}. */
    public void registerSystemPrefix(String prefix, SystemTopicHandler handler) {
        systemTopics.routePrefix(prefix, handler);
    }

    /** The handler of a system topic a client may publish to; empty for any other {@code $} topic. */
    public Optional<SystemTopicHandler> systemHandler(String topic) {
        return systemTopics.handler(topic);
    }

    // ---- sessions ---------------------------------------------------------------------------------

    /**
     * A client whose CONNECT was accepted (from address {@code remote}): binds it to its session ({@link #connect}) and
     * returns what the broker keeps of it for its connection. The connection sends CONNACK, then {@link Client#attach}.
     */
    public Client login(long productId, long deviceId, String clientId, boolean cleanSession, Message will,
                        Credential credential, Object remote) {
        return login(productId, deviceId, clientId, cleanSession, will, credential, remote, 0);
    }

    /**
     * {@link #login} in cluster mode, with the connection's claim of its client id ({@link #claim}); null when a newer
     * claim is known here already: the connection lost a race with another of its client id and must close.
     */
    public Client login(long productId, long deviceId, String clientId, boolean cleanSession, Message will,
                        Credential credential, Object remote, long epoch) {
        Connected connected = sessions.connect(productId, deviceId, clientId, cleanSession, epoch);
        return connected == null ? null
                : new Client(this, registry, new Publisher(productId, deviceId, clientId), connected, will, credential, remote);
    }

    /**
     * Cluster mode: claims a client id for a connection accepted on this node, completing with the claim's epoch once
     * the connection of an older claim on another node was closed (or its node is gone); null on a single node.
     */
    public CompletableFuture<Long> claim(long productId, String clientId, boolean cleanSession, Message will) {
        Takeovers t = cluster.takeovers();
        return t == null ? null : t.claim(productId, clientId, cleanSession, will);
    }

    /**
     * Binds a client to its session. An older connection with the same client id is closed (takeover);
     * clean session 1 discards any stored state [MQTT-3.1.2-6], clean session 0 resumes it [MQTT-3.1.2-4].
     * The caller sends CONNACK and then calls {@link Session#attach}.
     */
    public Connected connect(long productId, long deviceId, String clientId, boolean cleanSession) {
        return sessions.connect(productId, deviceId, clientId, cleanSession, 0);
    }

    /** The connection of a session ended; a clean session ends with it [MQTT-3.1.2-6]. */
    public void disconnect(Session s, Outbox outbox) {
        sessions.disconnect(s, outbox);
    }

    /** Grants or refuses each filter: SUBACK codes 0-2 or 0x80. */
    public List<Integer> subscribe(Session s, List<SubscriptionRequest> requests) {
        List<Integer> codes = new ArrayList<>(requests.size());
        boolean changed = false;
        int refused = 0;
        String firstRefused = null;
        for (SubscriptionRequest r : requests) {
            String problem = Topics.checkFilter(r.filter());
            if (problem == null && Topics.isSystem(r.filter())) {
                problem = "system topics cannot be subscribed"; // D9 (docs/decisions.md)
            }
            if (problem == null && !s.hasSubscription(r.filter()) && s.subscriptionCount() >= config.maxSubscriptions()) {
                problem = "too many subscriptions (max " + config.maxSubscriptions() + ")"; // D8
            }
            if (problem == null && Topics.isExact(r.filter()) && !userTopics.record(s.productId, r.filter())) {
                problem = "the product has its maximum of " + userTopics.maxPerProduct() + " topics (topics.max-per-product)"; // D26
                stats.topicRefused();
            }
            if (problem != null) {
                if (refused++ == 0) {
                    firstRefused = "'" + r.filter() + "': " + problem;
                }
                codes.add(SUBACK_FAILURE);
                continue;
            }
            int granted = Math.min(r.qos(), 2);
            s.putSubscription(r.filter(), granted);
            sessions.subscribe(s, r.filter(), granted);
            codes.add(granted);
            changed = true;
        }
        if (refused > 0) {
            // One line per SUBSCRIBE, however many filters it refuses: a packet of 20,000 bad filters is one event.
            log.info("[{}] {} of {} subscriptions refused; the first, {}", s.clientId, refused, requests.size(), firstRefused);
        }
        if (changed && s.persistent()) {
            store.putSession(s, s.subscriptions());
        }
        return codes;
    }

    /** Sends the retained messages matching a just-granted filter [MQTT-3.3.1-6] (see RetainedMessages#deliver). */
    public void deliverRetained(Session s, String filter, int grantedQos) {
        retained.deliver(s, filter, grantedQos);
    }

    public void unsubscribe(Session s, List<String> filters) {
        boolean changed = false;
        for (String f : filters) {
            if (s.removeSubscription(f)) {
                sessions.unsubscribe(s, f);
                changed = true;
            }
        }
        if (changed && s.persistent()) {
            store.putSession(s, s.subscriptions());
        }
    }

    // ---- publish ----------------------------------------------------------------------------------

    /**
     * Routes a message to the subscribers of its product, at min(publish QoS, granted QoS) (D11), once per
     * subscriber even when several of its filters match. The future completes when everything that must be
     * durable is stored (retained message, messages owed to persistent sessions, D25): only then may the
     * publisher be acknowledged.
     */
    public CompletableFuture<Void> publish(long productId, Message m) {
        published.increment();
        String problem = Topics.checkTopicName(m.topic());
        if (problem != null) {
            // Nothing the MQTT encoder would refuse is ever queued or sent: such a message would close every
            // connection it is sent to, and a persistent session holding it at every reconnect.
            invalidTopic(productId, m.topic(), problem);
            return NOTHING_TO_STORE;
        }
        List<CompletableFuture<Void>> durable = null; // made only when something must be stored: rarely
        if (m.retain() && registry.product(productId).isEmpty()) {
            // A retained message (a will) of a product being deleted: its rows are gone, none may come back.
            m = m.forDelivery(m.qos(), false);
        }
        if (m.retain()) {
            CompletableFuture<Void> stored = retained.write(productId, m);
            if (stored.isCompletedExceptionally()) {
                return stored; // refused: not acknowledged, not routed
            }
            if (stored != RetainedMessages.NOT_RETAINED) {
                durable = new ArrayList<>(2);
                durable.add(stored);
            }
        }
        durable = route.deliver(productId, m, durable);
        CompletableFuture<Void> logged = sessions.published(productId, m); // cluster mode: to the other nodes
        if (logged != null) {
            durable = durable == null ? new ArrayList<>(1) : durable;
            durable.add(logged);
        }
        return LocalRoute.allStored(durable);
    }

    /**
     * Sends a message to a device's live connection whether or not it subscribed (OneNET pushes
     * {@code $creq/...} unsubscribed). Empty when the device is not connected.
     */
    public Optional<CompletableFuture<Void>> sendToDevice(long productId, long deviceId, Message message) {
        String problem = Topics.checkTopicName(message.topic());
        if (problem != null) {
            invalidTopic(productId, message.topic(), problem);
            return Optional.of(CompletableFuture.failedFuture(new IllegalArgumentException("invalid topic: " + problem)));
        }
        Session s = sessions.get(productId, String.valueOf(deviceId));
        Outbox outbox = s == null ? null : s.outbox();
        if (outbox != null && !outbox.isWritable()) {
            // A device that does not read its socket: what it has not read yet is the bound (the send buffer), not
            // every command an API caller sends it. The command fails or waits for the next login, as for a drop.
            stats.dropped();
            return Optional.of(CompletableFuture.failedFuture(new IllegalStateException("the device is not reading")));
        }
        return outbox == null ? Optional.empty() : Optional.of(outbox.sendDirect(message));
    }

    /** Whether the device has a live connection to this node (in cluster mode it may be online on another). */
    public boolean isConnectedHere(long productId, long deviceId) {
        Session s = sessions.get(productId, String.valueOf(deviceId));
        return s != null && s.outbox() != null;
    }

    public long publishedCount() {
        return published.sum();
    }

    /**
     * Whether anything in the product may subscribe (here, or on another node in cluster mode); lets a caller skip
     * building messages nobody can receive.
     */
    public boolean hasSubscriptions(long productId) {
        return sessions.hasSubscriptions(productId) || sessions.clustered(); // another node's subscribers may want it
    }

    /** Cluster mode's hooks into this broker (docs/cluster.md). */
    public ClusterLink cluster() {
        return cluster;
    }

    /** The products' user topics for the {@code /mqtt/topic} API (D26). */
    public UserTopics userTopics() {
        return userTopics;
    }

    /** The topic filters a client's session holds, live or persistent and offline; empty without a session. */
    public Map<String, Integer> subscriptionsOf(long productId, String clientId) {
        Session s = sessions.get(productId, clientId);
        return s == null ? Map.of() : s.subscriptions();
    }

    /** The devices of a product whose sessions (live, or persistent and offline) hold exactly this filter, by id. */
    public List<Long> devicesSubscribedTo(long productId, String filter) {
        return sessions.devicesSubscribedTo(productId, filter);
    }

    /** Message counters for {@code /metrics}. */
    public BrokerStats stats() {
        return stats;
    }

    public int sessionCount() {
        return sessions.size();
    }

    /** Retained messages of all products: count, payload bytes (store), and payload bytes the heap holds. */
    public long retainedCount() {
        return retained.count();
    }

    public long retainedBytes() {
        return retained.bytes();
    }

    public long retainedHeapBytes() {
        return retained.heapBytes();
    }

    /** The thread that reads stored payloads (retained and queued messages), for readiness. */
    public Worker readerWorker() {
        return reader.worker();
    }

    /** Reads of payloads from the store waiting for the reader. */
    public int readerQueueDepth() {
        return reader.queueDepth();
    }

    private void invalidTopic(long productId, String topic, String problem) {
        stats.invalidTopicDropped();
        invalidTopicWarning.warn(productId, problem + " in '" + RepeatedWarning.printable(topic) + "'");
    }

    // ---- start-up ---------------------------------------------------------------------------------

    /**
     * The retained index, the persistent sessions and stubs of what they are owed, within the limits. No large payload
     * is read: a store filled by a hostile tenant starts in the same heap as an empty one.
     */
    private void load() {
        retained.loadFromStore();
        // In cluster mode a node restores its sessions once it has joined (ClusterLink#restoreOwned).
        long maxSeq = config.cluster().enabled() ? 0 : sessions.restore();
        seqs.set(Math.max(maxSeq, System.currentTimeMillis() * 1000));
        if (sessions.size() > 0 || retained.count() > 0) {
            log.info("Restored {} persistent sessions ({} queued messages) and {} retained messages of {} products",
                    sessions.size(), stats.queuedMessageCount(), retained.count(), retained.productCount());
        }
    }

    @Override
    public void close() {
        // Everything the broker must remember was written as it changed; reads still queued are of no use now.
        reader.close();
    }
}
