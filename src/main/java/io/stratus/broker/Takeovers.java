package io.stratus.broker;

import io.stratus.cluster.NodeRequests;
import io.stratus.store.BatchWriter;
import io.stratus.store.Database;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster mode: one connection per client id across all nodes (docs/cluster.md). Before its CONNACK, an accepted
 * CONNECT claims its client id in the store: this node's incarnation becomes the owner and the epoch goes up by one. The
 * previous owner, when another node, is asked to close its connection; it answers once it has. A node that died cannot
 * answer, and NATS says so at once (no responders), so the CONNACK does not wait for a dead node; a node that does not
 * answer within {@link #KICK_TIMEOUT} is not waited for longer.
 *
 * <p>Claims are written in batches, one transaction each, on one thread: a storm of reconnects costs a commit per
 * batch, not per client. Rows are locked in key order, so batches of two nodes cannot deadlock.
 */
public final class Takeovers implements AutoCloseable {
    static final Duration KICK_TIMEOUT = Duration.ofSeconds(1);
    private static final Logger log = LoggerFactory.getLogger(Takeovers.class);
    private static final int MAX_BATCH = 256;
    private static final String KICK = "kick";

    private record Claim(long productId, String clientId, boolean cleanSession, Message will, CompletableFuture<Long> epoch) {}

    private final ClaimStore store;
    private final NodeRequests requests;
    private final Sessions sessions;
    private final ClusterSessions moves;
    private final LongConsumer seen;
    private final BlockingQueue<Claim> queue;
    private final Thread thread;
    /** Claims whose previous node answered (or not), loading their sessions; at most one task per claim that waits. */
    private final ExecutorService afterKicks;
    private final LongAdder claimed = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private final LongAdder kicksSent = new LongAdder();
    private final LongAdder ownersGone = new LongAdder();
    private final LongAdder closedHere = new LongAdder();
    private volatile boolean closed;
    private volatile Handovers handovers;
    private volatile Moved moved = new Moved() {
        @Override
        public void moved(long productId, String clientId, String incarnation, long epoch) {
        }

        @Override
        public void ownerGone(String incarnation) {
        }
    };

    /** Told of client ids moving between nodes. */
    public interface Moved {
        /** Another node takes over a client id from this one, before this node's connection of it closes. */
        void moved(long productId, String clientId, String incarnation, long epoch);

        /** A claim found that the node holding the client id before is gone (NATS: no responders). */
        void ownerGone(String incarnation);
    }

    public void onMoved(Moved listener) {
        this.moved = listener;
    }

    /**
     * {@code moves} loads a persistent session from the store once its previous node let go of it; {@code seen} is told
     * the highest sequence number of what it loaded.
     */
    Takeovers(Database db, BatchWriter writer, NodeRequests requests, Sessions sessions, int maxPending,
              ClusterSessions moves, LongConsumer seen) {
        this.moves = moves;
        this.seen = seen;
        this.store = new ClaimStore(db, writer);
        this.requests = requests;
        this.sessions = sessions;
        this.queue = new ArrayBlockingQueue<>(maxPending);
        this.afterKicks = new ThreadPoolExecutor(2, 2, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(maxPending), r -> {
            Thread t = new Thread(r, "client-claims-moves");
            t.setDaemon(true);
            return t;
        });
        requests.serve(KICK, this::kicked);
        this.thread = new Thread(this::run, "client-claims");
        thread.setDaemon(true);
        thread.start();
    }

    /** Claims a client id for a connection accepted here; completes with its epoch once older connections were closed. */
    CompletableFuture<Long> claim(long productId, String clientId, boolean cleanSession, Message will) {
        CompletableFuture<Long> epoch = new CompletableFuture<>();
        if (closed || !queue.offer(new Claim(productId, clientId, cleanSession, will, epoch))) {
            refused.increment();
            epoch.completeExceptionally(new IllegalStateException(queue.size() + " client id claims already wait"));
        }
        return epoch;
    }

    ClaimStore claims() {
        return store;
    }

    /** Persistent sessions moving between nodes record what the old node's consumer still owes them here. */
    void handOverThrough(Handovers handovers) {
        this.handovers = handovers;
    }

    /** The incarnation holding a client id now, if another node's: where to reach its connection; else null. */
    public String ownerElsewhere(long productId, String clientId) {
        String owner = store.owner(productId, clientId);
        return owner == null || owner.isEmpty() || owner.equals(requests.incarnation()) ? null : owner;
    }

    /**
     * A connection ended here, publishing or discarding its will itself: a clean session's row goes, a persistent one's
     * keeps no will; unless a newer claim replaced it meanwhile.
     */
    void released(long productId, String clientId, long epoch, boolean clean) {
        if (clean) {
            store.release(productId, clientId, epoch);
        } else {
            store.clearWill(productId, clientId, epoch);
        }
    }

    private void run() {
        List<Claim> batch = new ArrayList<>(MAX_BATCH);
        while (!closed) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                return;
            }
            queue.drainTo(batch, MAX_BATCH - 1);
            batch.sort(Comparator.comparingLong(Claim::productId).thenComparing(Claim::clientId));
            try {
                List<ClaimStore.Written> written = store.claim(
                        batch.stream().map(c -> new ClaimStore.Key(c.productId(), c.clientId(), c.will())).toList(), requests.incarnation());
                for (int i = 0; i < batch.size(); i++) {
                    afterWrite(batch.get(i), written.get(i));
                }
            } catch (RuntimeException e) {
                log.warn("{} client id claims failed: {}", batch.size(), e.toString());
                batch.forEach(c -> c.epoch().completeExceptionally(e));
            }
            batch.clear();
        }
    }

    private void afterWrite(Claim claim, ClaimStore.Written written) {
        String owner = written.previousOwner();
        long epoch = written.epoch();
        claimed.increment();
        if (owner.equals(requests.incarnation())) {
            claim.epoch().complete(epoch); // this node's own claim: the local takeover closes the old connection
            return;
        }
        if (owner.isEmpty()) {
            completeAfterMove(claim, epoch, null, false); // no claim before (or a clean session's, ended): the store may hold one
            return;
        }
        kicksSent.increment();
        requests.ask(owner, KICK, claim.productId() + "\n" + epoch + "\n" + requests.incarnation() + "\n" + claim.clientId(),
                        KICK_TIMEOUT)
                // Off the NATS thread that completed the request: what follows waits for the store and for NATS itself.
                .whenCompleteAsync((reply, failed) -> {
                    if (failed != null) {
                        ownersGone.increment();
                    }
                    completeAfterMove(claim, epoch, owner, failed == null);
                    if (failed != null && NodeRequests.gone(failed)) {
                        // Its other clients need a new home too, without waiting for its lease; after this claim's
                        // handover is recorded, so that the adopter's drain of its consumer knows of it.
                        moved.ownerGone(owner);
                    }
                }, afterKicks);
    }

    /**
     * Before CONNACK, once the previous node has written what it had: a persistent session is loaded from the store here;
     * a clean one ends what the store kept of an earlier persistent session [MQTT-3.1.2-6].
     */
    private void completeAfterMove(Claim claim, long epoch, String previousOwner, boolean previousAlive) {
        try {
            if (claim.cleanSession()) {
                moves.discardStored(claim.productId(), claim.clientId());
            } else if (moves.moveIn(claim.productId(), claim.clientId(), seen) && previousOwner != null && handovers != null) {
                // Before CONNACK: the old node learns where to stop before the client can publish anything new.
                recordHandover(claim, previousOwner, previousAlive);
            }
            claim.epoch().complete(epoch);
        } catch (RuntimeException e) {
            claim.epoch().completeExceptionally(e);
        }
    }

    private void recordHandover(Claim claim, String previousOwner, boolean previousAlive) {
        try {
            handovers.arrived(claim.productId(), claim.clientId(), previousOwner, previousAlive);
        } catch (RuntimeException e) {
            log.warn("the handover of {} from {} was not recorded: {}", claim.clientId(), previousOwner, e.toString());
        }
    }

    /** Another node claimed a client id this node held: product, epoch, the claimer's incarnation, client id. */
    private String kicked(String request) {
        String[] parts = request.split("\n", 4);
        if (parts.length < 4) {
            return "bad request";
        }
        long productId = Long.parseLong(parts[0]);
        long epoch = Long.parseLong(parts[1]);
        // Before the connection here closes: the device is on the claimer's node from now on, never offline between.
        moved.moved(productId, parts[3], parts[2], epoch);
        Session before = sessions.get(productId, parts[3]);
        boolean leaving = before != null && before.persistent() && handovers != null;
        if (leaving) { // before it leaves the topic tree: every message read from now on reaches it, here or there
            handovers.leftHere(productId, parts[3], before.subscriptions(), parts[2]);
        }
        int done = sessions.claimedElsewhere(productId, parts[3], epoch);
        if (leaving && (done & Sessions.LET_GO) == 0) {
            handovers.stayed(productId, parts[3]);
        }
        if ((done & Sessions.LET_GO) != 0) {
            if (handovers != null) {
                handovers.settle(KICK_TIMEOUT); // messages matched before it left: their rows are in before the claimer reads
            }
            try {
                store.flush().get(KICK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS); // the session's rows, for the claimer
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                log.warn("writes of a session moving to {} not confirmed: {}", parts[2], e.toString());
            }
        }
        if ((done & Sessions.CLOSED) != 0) {
            closedHere.increment();
            return "closed";
        }
        return "not here";
    }

    /** Claims written, refused (the queue was full), kicks sent, kicks whose node was gone, connections closed here. */
    public long claimedCount() {
        return claimed.sum();
    }

    public long refusedCount() {
        return refused.sum();
    }

    public long kicksSentCount() {
        return kicksSent.sum();
    }

    public long ownersGoneCount() {
        return ownersGone.sum();
    }

    public long closedHereCount() {
        return closedHere.sum();
    }

    public int queued() {
        return queue.size();
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        afterKicks.shutdownNow();
        requests.close();
    }
}
