package io.stratus.broker;

import io.stratus.cluster.LogBus;
import io.stratus.cluster.NodeRequests;
import io.stratus.store.Database;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster mode: what a node's consumer of the message stream still owes persistent sessions that left the node
 * (docs/cluster.md, "Handovers"). A session that arrives on a new node is matched there from the moment it is loaded;
 * the new node then reads the stream's last sequence, M, and records "left incarnation I, up to M". Whoever reads the
 * old node's consumer next (the old node itself, alive or back after a crash, or a survivor draining it) matches each
 * message of sequence at most M against the session's subscriptions and sends it to the node that holds the session now,
 * which queues it like any other. A message both nodes matched comes twice, as QoS 1 allows; none is lost in between.
 */
public final class Handovers implements LogBus.Handovers {
    static final String OWED = "owed";
    static final String HANDED = "handed";
    private static final Logger log = LoggerFactory.getLogger(Handovers.class);
    private static final Duration ASK_TIMEOUT = Duration.ofSeconds(2);
    /** A forward whose session is not found where the store says it is, tried again for this long (it may be moving). */
    private static final int ATTEMPTS = 20;
    private static final long RETRY_MILLIS = 500;
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    /** A session as a node that no longer holds it still matches it, for the messages of its consumer up to {@link #until}. */
    private static final class Ghost {
        final long productId;
        final String clientId;
        final Map<String, Integer> subscriptions;
        final List<HandoverStore.Row> rows = new ArrayList<>(1);
        final long createdAt = System.currentTimeMillis();
        volatile long until;
        volatile String owner; // where the session is now, if known
        volatile long passedAt; // when the consumer first read past until (0: not yet)
        volatile long since = System.currentTimeMillis(); // of the latest handover

        synchronized boolean has(HandoverStore.Row row) {
            return rows.contains(row);
        }

        Ghost(long productId, String clientId, Map<String, Integer> subscriptions, long until, String owner) {
            this.productId = productId;
            this.clientId = clientId;
            this.subscriptions = new ConcurrentHashMap<>(subscriptions);
            this.until = until;
            this.owner = owner;
        }
    }

    /** The ghosts matched against one node's consumer, and the highest sequence read from it. */
    private static final class Owing {
        final Map<String, Ghost> bySession = new ConcurrentHashMap<>();
        final Map<Long, TopicTree<Ghost>> trees = new ConcurrentHashMap<>();
        final AtomicLong highestRead = new AtomicLong();
    }

    private final String node;
    private final Sessions sessions;
    private final LocalRoute route;
    private final BrokerStore sessionStore;
    private final HandoverStore store;
    private final ClaimStore claims;
    private final NodeRequests requests;
    private final LongSupplier lastSeq;
    private final Duration linger;
    private final Duration maxAge;
    private final Map<String, Owing> byNode = new ConcurrentHashMap<>();
    private final Executor later = CompletableFuture.delayedExecutor(RETRY_MILLIS, TimeUnit.MILLISECONDS);
    private final LongAdder forwarded = new LongAdder();
    private final LongAdder givenUp = new LongAdder();
    private volatile Supplier<CompletableFuture<Void>> settled = () -> DONE;

    /**
     * {@code lastSeq}: the stream's last sequence now; {@code linger}: how long a ghost stays after its node's consumer
     * read past its sequence (a message read before and not acknowledged comes again within the ack wait);
     * {@code maxAge}: how long the stream keeps a message, beyond which no ghost is of use.
     */
    Handovers(String node, Sessions sessions, LocalRoute route, BrokerStore sessionStore, Database db, ClaimStore claims,
              NodeRequests requests, LongSupplier lastSeq, Duration linger, Duration maxAge) {
        this.node = node;
        this.sessions = sessions;
        this.route = route;
        this.sessionStore = sessionStore;
        this.store = new HandoverStore(db);
        this.claims = claims;
        this.requests = requests;
        this.lastSeq = lastSeq;
        this.linger = linger;
        this.maxAge = maxAge;
        requests.serve(OWED, this::owedHere);
        requests.serve(HANDED, this::handed);
    }

    /** Another node asked this one to close its connection of a persistent session with {@code subscriptions}: it moves. */
    void leftHere(long productId, String clientId, Map<String, Integer> subscriptions, String claimer) {
        add(node, productId, clientId, subscriptions, Long.MAX_VALUE, claimer, null); // until the claimer says M
    }

    /** A session {@link #leftHere} did not leave after all (a newer claim here won). */
    void stayed(long productId, String clientId) {
        Owing owing = byNode.get(node);
        Ghost g = owing == null ? null : owing.bySession.get(productId + "/" + clientId);
        if (g != null) {
            remove(owing, g, false);
        }
    }

    /** Tells where to wait for the messages this node's consumer is handling ({@link #settle}). */
    void readsSettleWith(Supplier<CompletableFuture<Void>> settled) {
        this.settled = settled;
    }

    /** Waits, at most {@code timeout}, until the messages this node's consumer began to handle are handled. */
    void settle(Duration timeout) {
        try {
            settled.get().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.warn("messages being handled when a session left were not handled within {}: {}", timeout, e.toString());
        }
    }

    /**
     * A persistent session was loaded here from the store after incarnation {@code from} held it (and answered the kick
     * when {@code fromAlive}): this node matches it from now on, so {@code from}'s consumer owes it up to the stream's
     * last sequence now.
     */
    void arrived(long productId, String clientId, String from, boolean fromAlive) {
        long until = Long.MAX_VALUE;
        for (int attempt = 1; attempt <= 3 && until == Long.MAX_VALUE; attempt++) {
            try {
                until = lastSeq.getAsLong();
            } catch (RuntimeException e) {
                log.warn("the stream's last sequence is unknown ({}, attempt {} of 3)", e.toString(), attempt);
                sleep(RETRY_MILLIS);
            }
        } // still unknown: the old node forwards for a while ({@link #sweep})
        store.put(new HandoverStore.Row(productId, clientId, from, until));
        if (fromAlive) {
            try {
                requests.ask(from, HANDED, productId + "\n" + until + "\n" + clientId, ASK_TIMEOUT)
                        .get(ASK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                // the row stays: the old node's ghost stops by itself, or whoever reads that consumer next finds it
            }
        }
    }

    /** The claimer of a session that left here says up to which sequence this node's consumer owes it. */
    private String handed(String request) {
        String[] p = request.split("\n", 3);
        long productId = Long.parseLong(p[0]);
        long until = Long.parseLong(p[1]);
        Owing owing = byNode.get(node);
        Ghost g = owing == null ? null : owing.bySession.get(productId + "/" + p[2]);
        if (g != null) {
            synchronized (g) {
                g.until = g.until == Long.MAX_VALUE ? until : Math.max(g.until, until);
                g.rows.add(new HandoverStore.Row(productId, p[2], requests.incarnation(), until));
            }
        }
        return "ok";
    }

    /**
     * Reads the recorded handovers from the incarnations of node {@code from} (this node, after a start or a fence; or
     * a dead node whose consumer this node drains), so that messages of that node's consumer reach those sessions.
     * Returns how many.
     */
    public int load(String from) {
        List<HandoverStore.Row> rows = store.fromNode(from);
        Owing known = byNode.get(from);
        for (HandoverStore.Row row : rows) {
            Ghost g = known == null ? null : known.bySession.get(row.productId() + "/" + row.clientId());
            if (g != null && g.has(row)) {
                continue; // read before (a drain reads them again before each batch)
            }
            BrokerStore.StoredSession s = sessionStore.loadSession(row.productId() + "/" + row.clientId());
            if (s == null) {
                store.delete(row); // the session ended
                continue;
            }
            add(from, row.productId(), row.clientId(), s.subscriptions(), row.untilSeq(), null, row);
        }
        return rows.size();
    }

    private void add(String consumerNode, long productId, String clientId, Map<String, Integer> subscriptions, long until,
                     String owner, HandoverStore.Row row) {
        Owing owing = byNode.computeIfAbsent(consumerNode, n -> new Owing());
        Ghost g = owing.bySession.compute(productId + "/" + clientId, (k, old) -> {
            if (old == null) {
                return new Ghost(productId, clientId, subscriptions, until, owner);
            }
            // Long.MAX_VALUE: until the claimer says where it began matching; a larger sequence covers the smaller.
            old.until = until == Long.MAX_VALUE || old.until == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(old.until, until);
            old.owner = owner;
            old.passedAt = 0;
            old.since = System.currentTimeMillis();
            old.subscriptions.putAll(subscriptions);
            return old;
        });
        if (row != null) {
            synchronized (g) {
                g.rows.add(row);
            }
        }
        TopicTree<Ghost> tree = owing.trees.computeIfAbsent(productId, p -> new TopicTree<>());
        subscriptions.forEach((filter, qos) -> tree.subscribe(filter, g, qos));
    }

    @Override
    public CompletableFuture<Void> owed(String consumerNode, long productId, String topic, byte[] payload, int qos, long seq) {
        Owing owing = byNode.get(consumerNode);
        if (owing == null) {
            return DONE;
        }
        owing.highestRead.accumulateAndGet(seq, Math::max);
        TopicTree<Ghost> tree = owing.trees.get(productId);
        if (tree == null) {
            return DONE;
        }
        Map<Ghost, Integer> matched = new HashMap<>(2); // once per session, at its highest granted QoS
        tree.match(topic, (g, granted) -> {
            if (seq <= g.until) {
                matched.merge(g, granted, Math::max);
            }
        });
        List<CompletableFuture<Void>> sent = new ArrayList<>(matched.size());
        matched.forEach((g, granted) -> sent.add(forward(g, new Message(topic, payload, Math.min(qos, granted), false), ATTEMPTS)));
        return sent.isEmpty() ? DONE : CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new));
    }

    /** Sends {@code m} to the node holding the ghost's session now; completes once it is queued there, or given up. */
    private CompletableFuture<Void> forward(Ghost g, Message m, int attemptsLeft) {
        String owner;
        try {
            owner = g.owner != null ? g.owner : claims.owner(g.productId, g.clientId);
        } catch (RuntimeException e) {
            owner = null; // the store is away (restarting): tried again below
        }
        if (owner != null && owner.isEmpty()) {
            return DONE; // no claim: a clean session replaced it, and what it was owed went with it [MQTT-3.1.2-6]
        }
        CompletableFuture<String> reply = owner == null ? CompletableFuture.completedFuture("owner unknown")
                : owner.equals(requests.incarnation())
                ? CompletableFuture.completedFuture(queueHere(g.productId, g.clientId, m))
                : requests.ask(owner, OWED, g.productId + "\n" + m.qos() + "\n" + encode(m.topic().getBytes(StandardCharsets.UTF_8))
                        + "\n" + encode(m.payload()) + "\n" + g.clientId, ASK_TIMEOUT);
        return reply.exceptionally(failed -> "unreachable").thenCompose(answer -> {
            if (answer.equals("stored") || answer.equals("ended")) {
                forwarded.increment();
                return DONE;
            }
            g.owner = null; // look it up again: it may have moved on, or its node died and a survivor adopted it
            if (attemptsLeft <= 1) {
                givenUp.increment();
                log.warn("a message for {} could not be handed to its session's node ({})", g.clientId, answer);
                return DONE;
            }
            return CompletableFuture.supplyAsync(() -> null, later).thenCompose(x -> forward(g, m, attemptsLeft - 1));
        });
    }

    private String owedHere(String request) {
        String[] p = request.split("\n", 5);
        Message m = new Message(new String(Base64.getDecoder().decode(p[2]), StandardCharsets.UTF_8),
                Base64.getDecoder().decode(p[3]), Integer.parseInt(p[1]), false);
        return queueHere(Long.parseLong(p[0]), p[4], m);
    }

    /** Queues a forwarded message for a persistent session held here: "stored", "ended" or "not here". */
    private String queueHere(long productId, String clientId, Message m) {
        Session s = sessions.get(productId, clientId);
        if (s == null) {
            return "not here";
        }
        if (!s.persistent()) {
            return "ended";
        }
        try {
            route.queue(s, m).get(ASK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return "stored";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } catch (Exception e) {
            return "not stored: " + e;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String encode(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    /**
     * Every heartbeat: a ghost goes once its node's consumer read past its sequence a while ago, or when it is older than
     * the stream keeps messages; its rows go with it. One whose claimer never said its sequence (NATS was away) stops
     * at what was read after {@code linger}.
     */
    public void sweep() {
        long now = System.currentTimeMillis();
        byNode.forEach((consumerNode, owing) -> owing.bySession.values().forEach(g -> {
            if (g.until == Long.MAX_VALUE && now - g.since > linger.toMillis()) {
                g.until = owing.highestRead.get(); // its claimer never said where it began matching: stop here
            }
            if (g.until < owing.highestRead.get() && g.passedAt == 0) {
                g.passedAt = now;
            }
            boolean passed = g.passedAt != 0 && now - g.passedAt > linger.toMillis();
            if (passed || now - g.createdAt > maxAge.toMillis()) {
                remove(owing, g, true);
            }
        }));
    }

    /** A drain of node {@code from}'s consumer ended; when {@code complete}, what it owed was sent and the rows go. */
    public void drained(String from, boolean complete) {
        Owing owing = byNode.remove(from);
        if (owing != null) {
            owing.bySession.values().forEach(g -> remove(owing, g, complete));
        }
    }

    private void remove(Owing owing, Ghost g, boolean deleteRows) {
        owing.bySession.remove(g.productId + "/" + g.clientId, g);
        TopicTree<Ghost> tree = owing.trees.get(g.productId);
        if (tree != null) {
            g.subscriptions.keySet().forEach(filter -> tree.unsubscribe(filter, g));
        }
        if (deleteRows) {
            List<HandoverStore.Row> rows;
            synchronized (g) {
                rows = List.copyOf(g.rows);
            }
            try {
                rows.forEach(store::delete);
            } catch (RuntimeException e) {
                log.warn("handover rows of {} not deleted ({}): read again later, at worst a duplicate", g.clientId, e.toString());
            }
        }
    }

    /** Sessions this node still matches for other nodes' or its own earlier consumer reads; messages sent on; given up. */
    public int openCount() {
        return byNode.values().stream().mapToInt(o -> o.bySession.size()).sum();
    }

    public long forwardedCount() {
        return forwarded.sum();
    }

    public long givenUpCount() {
        return givenUp.sum();
    }
}
