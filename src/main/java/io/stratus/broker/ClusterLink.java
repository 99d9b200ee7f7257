package io.stratus.broker;

import io.stratus.cluster.LogBus;
import io.stratus.cluster.NodeRequests;
import io.stratus.cluster.RouteBus;
import io.stratus.store.BatchWriter;
import io.stratus.store.Database;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.LongSupplier;

/** Cluster mode's hooks into a broker (docs/cluster.md): messages, claims and retained messages to and from other nodes. */
public final class ClusterLink {
    private static final CompletableFuture<Void> NOTHING_TO_STORE = CompletableFuture.completedFuture(null);

    private final Sessions sessions;
    private final LocalRoute route;
    private final RetainedMessages retained;
    private final BrokerStore store;
    private final ClusterSessions moves;
    private volatile Takeovers takeovers;
    private volatile Handovers handovers;
    private final LongAdder wills = new LongAdder();
    private final BiFunction<Long, Message, CompletableFuture<Void>> publish;

    ClusterLink(Sessions sessions, LocalRoute route, RetainedMessages retained, BrokerStore store,
                BiFunction<Long, Message, CompletableFuture<Void>> publish) {
        this.publish = publish;
        this.sessions = sessions;
        this.route = route;
        this.retained = retained;
        this.store = store;
        this.moves = new ClusterSessions(sessions, store);
    }

    /** QoS 0 messages to and from the other nodes go through the bus {@code open} makes. */
    public RouteBus joinRoutes(Function<RouteBus.Receiver, RouteBus> open) {
        return sessions.join(open.apply((productId, topic, payload) -> fromPeer(productId, new Message(topic, payload, 0, false))));
    }

    /** QoS 1 and 2 messages to and from the other nodes go through the log {@code open} makes. */
    public LogBus joinLog(Function<LogBus.Receiver, LogBus> open) {
        LogBus log = sessions.join(open.apply((productId, topic, payload, qos) -> fromPeer(productId, new Message(topic, payload, qos, false))));
        if (handovers != null) {
            handovers.readsSettleWith(log::settled);
        }
        return log;
    }

    /**
     * One connection per client id across the nodes ({@link Takeovers}), claimed in {@code database}
     * ({@code maxPendingClaims}: {@code cluster.max-pending-claims}) and enforced through {@code requests}.
     */
    public Takeovers claimClientIds(Database database, BatchWriter writer, NodeRequests requests, int maxPendingClaims) {
        Takeovers t = new Takeovers(database, writer, requests, sessions, maxPendingClaims, moves, route::seqAtLeast);
        sessions.join(t);
        this.takeovers = t;
        return t;
    }

    Takeovers takeovers() {
        return takeovers;
    }

    /**
     * Persistent sessions that move between nodes are handed over through the stream ({@link Handovers}): {@code lastSeq}
     * reads the stream's last sequence, {@code linger} and {@code maxAge} bound how long a node matches a session that
     * left it. Call after {@link #claimClientIds}.
     */
    public Handovers handOver(Database database, NodeRequests requests, String node, LongSupplier lastSeq, Duration linger,
                              Duration maxAge) {
        Handovers h = new Handovers(node, sessions, route, store, database, takeovers.claims(), requests, lastSeq, linger, maxAge);
        takeovers.handOverThrough(h);
        this.handovers = h;
        return h;
    }

    /**
     * A node that starts in cluster mode takes back the persistent sessions of its earlier starts that no survivor
     * adopted, and reads them from the store; returns how many.
     */
    public int restoreOwned(String node, String incarnation) {
        return moveIn(takeovers.claims().reclaim(node, incarnation));
    }

    /**
     * A survivor takes over the client ids of a dead node's incarnation, publishes the wills their connections had
     * there, and reads their persistent sessions from the store, so that what arrives for them from now on is queued
     * here; returns how many client ids it took.
     */
    public int adopt(String deadIncarnation, String incarnation) {
        List<ClaimStore.Adopted> adopted = takeovers.claims().adopt(deadIncarnation, incarnation);
        for (ClaimStore.Adopted a : adopted) {
            if (a.will() != null) {
                publish.apply(a.productId(), a.will());
                wills.increment();
            }
        }
        for (ClaimStore.Adopted a : adopted) {
            if (moves.moveIn(a.productId(), a.clientId(), route::seqAtLeast)) {
                handovers.arrived(a.productId(), a.clientId(), deadIncarnation, false); // drained next, up to here
            }
        }
        return adopted.size();
    }

    /** Wills of dead nodes' connections published here. */
    public long willsPublishedCount() {
        return wills.sum();
    }

    private int moveIn(List<ClaimStore.Key> keys) {
        for (ClaimStore.Key k : keys) {
            moves.moveIn(k.productId(), k.clientId(), route::seqAtLeast);
        }
        return keys.size();
    }

    /**
     * This node lost the cluster for longer than its lease (frozen, or cut off from NATS): others may have adopted its
     * clients, so it closes every connection and lets go of its persistent sessions (their rows stay).
     */
    public void fence(String reason) {
        moves.fence(reason);
    }

    /**
     * Retained messages written here are announced through {@code announce} once stored ("product topic"); those
     * announced by other nodes come to {@link #retainedChangedElsewhere}.
     */
    public void announceRetained(Consumer<String> announce) {
        retained.onStored((productId, topic) -> announce.accept(productId + " " + topic));
    }

    /** Another node stored or cleared a retained message: this node serves what the store holds now. */
    public void retainedChangedElsewhere(String change) {
        int space = change.indexOf(' ');
        if (space > 0) {
            long productId = Long.parseLong(change.substring(0, space));
            String topic = change.substring(space + 1);
            retained.replace(productId, topic, store.loadRetained(productId, topic));
        }
    }

    /** After announcements may have been missed: serves exactly what the store holds. */
    public void resyncRetained() {
        retained.resync();
    }

    /**
     * A message of another node: this node's subscribers get it as they would a local one, matched here (so product
     * isolation and the {@code $} rules hold whatever the subject said). Completes once what it owes persistent
     * sessions is stored.
     */
    private CompletableFuture<Void> fromPeer(long productId, Message m) {
        if (Topics.checkTopicName(m.topic()) != null) {
            return NOTHING_TO_STORE;
        }
        return LocalRoute.allStored(route.deliver(productId, m, null));
    }
}
