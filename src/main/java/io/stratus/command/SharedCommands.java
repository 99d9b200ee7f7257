package io.stratus.command;

import io.stratus.broker.Broker;
import io.stratus.broker.Message;
import io.stratus.broker.Publisher;
import io.stratus.store.BatchWriter;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commands in cluster mode (docs/cluster.md, "Commands through any node"): the shared store is an open command's only
 * state, and each change is an update conditional on the state it changes, so that whichever nodes try, one sends a
 * stored command and one ends it. No node holds an open command in memory:
 * <ul>
 *   <li>the node that makes a command sends it at once if the device is connected to it, else leaves it in the store;
 *   <li>the node a device logs in to reads the device's stored commands and sends those whose claim (status 1 to 2) it
 *       won; a send that fails gives the claim back, so the next login sends it;
 *   <li>a response is written by the node that receives it, whichever sent the command;
 *   <li>every node sweeps the commands whose window is over to status 5 each second.
 * </ul>
 */
final class SharedCommands {
    /** What became of a send. */
    enum Outcome { SENT, GONE, TAKEN }

    /** The commands' one logger, whichever part of them logs. */
    private static final Logger log = LoggerFactory.getLogger(Commands.class);
    static final long SWEEP_MILLIS = 1_000;
    private static final int SWEEP_BATCH = 1_000;
    private static final long COUNT_MILLIS = 10_000;

    private final CommandStore store;
    private final BatchWriter writer;
    private final Broker broker;
    private final OpenLimits limits;
    private final Commands.Elsewhere elsewhere;
    private final LongAdder expired = new LongAdder();
    private volatile long openInStore;
    private long countedAt; // on the sweeping thread only
    private boolean sweepFailing; // on the sweeping thread only

    SharedCommands(CommandStore store, BatchWriter writer, Broker broker, OpenLimits limits, Commands.Elsewhere elsewhere) {
        this.store = store;
        this.writer = writer;
        this.broker = broker;
        this.limits = limits;
        this.elsewhere = elsewhere;
    }

    /** {@link Commands#sendHere} in cluster mode: stores {@code created}, then sends it if its device is here. */
    Command send(Command created) {
        long[] counts = store.openCounts(created.productId());
        openInStore = counts[0];
        limits.checkStored(counts[0], counts[1]);
        Commands.await(writer.submit(c -> CommandStore.insert(c, created)));
        if (deliver(created, created.body()) == Outcome.GONE) {
            if (created.onlineOnly()) {
                Commands.await(writer.submit(c -> CommandStore.delete(c, created.uuid())));
                throw new CommandException(CommandException.Reason.DEVICE_NOT_ONLINE, String.valueOf(created.deviceId()));
            }
            nudge(created);
        }
        return created.withoutBody();
    }

    /** The device may have logged in to another node after its node was looked up, and read its commands before. */
    private void nudge(Command c) {
        try {
            elsewhere.pending(c.productId(), c.deviceId());
        } catch (RuntimeException e) {
            log.info("[{}] command {} waits for the next login: {}", c.deviceId(), c.uuid(), e.toString());
        }
    }

    /**
     * Sends a command (status 1: once claimed; status 2, {@code qos=1}: again) on the device's connection here. Blocks on
     * the store: call it from the API's or the delivery's thread.
     */
    Outcome deliver(Command c, byte[] body) {
        if (!broker.isConnectedHere(c.productId(), c.deviceId())) {
            return Outcome.GONE;
        }
        long at = System.currentTimeMillis();
        boolean claimed = c.status() == CommandStatus.CREATED;
        if (claimed && !store.claim(c.uuid(), at)) {
            return Outcome.TAKEN;
        }
        Optional<CompletableFuture<Void>> written = broker.sendToDevice(c.productId(), c.deviceId(),
                new Message(Commands.REQUEST_PREFIX + c.uuid(), body, 0, false));
        if (written.isEmpty()) {
            if (claimed) {
                giveBack(c, at);
            }
            return Outcome.GONE;
        }
        if (claimed) {
            written.get().whenComplete((v, e) -> {
                if (e != null) {
                    log.info("[{}] command {} not written, the connection dropped: {}", c.deviceId(), c.uuid(), e.toString());
                    giveBack(c, at);
                }
            });
        }
        return Outcome.SENT;
    }

    /** A claimed send failed: a stored command waits for the next login again, an online-only one has failed. */
    private void giveBack(Command c, long at) {
        CommandStatus back = c.onlineOnly() ? CommandStatus.SEND_FAILED : CommandStatus.CREATED;
        writer.submit(w -> CommandStore.unclaim(w, c.uuid(), at, back)).whenComplete((v, e) -> {
            if (e != null) {
                log.warn("[{}] command {} stays sent although its send failed: {}", c.deviceId(), c.uuid(), e.toString());
            }
        });
    }

    /** At logins, on the delivery thread: sends, oldest first, what the store holds for these devices. */
    void deliverPending(List<Long> deviceIds) {
        List<Command> due;
        try {
            due = store.pending(deviceIds, System.currentTimeMillis());
        } catch (RuntimeException e) {
            log.warn("{} devices' stored commands not read at their login: {}", deviceIds.size(), e.toString());
            return;
        }
        Set<Long> gone = new HashSet<>();
        for (Command c : due) {
            if (gone.contains(c.deviceId())) {
                continue; // gone again: the next login sends the rest
            }
            try {
                Optional<byte[]> body = store.body(c.uuid());
                if (body.isPresent() && deliver(c, body.get()) == Outcome.GONE) {
                    gone.add(c.deviceId());
                }
            } catch (RuntimeException e) {
                log.warn("[{}] command {} not delivered at this login: {}", c.deviceId(), c.uuid(), e.toString());
            }
        }
    }

    /**
     * {@code $crsp/{uuid}}, on the device's event loop: written through the command writer, whichever node sent the
     * command; the future completes after the commit. A response to no open command of this device is acknowledged.
     */
    CompletableFuture<Void> respond(Publisher publisher, String uuid, byte[] payload) {
        long at = System.currentTimeMillis();
        boolean tooLarge = payload.length > Commands.MAX_RESPONSE_BYTES;
        CommandStatus status = tooLarge ? CommandStatus.RESPONSE_TOO_LARGE : CommandStatus.RESPONDED;
        boolean[] stored = {false};
        return writer.submit(c -> stored[0] = CommandStore.respond(c, uuid, publisher.deviceId(), status,
                tooLarge ? null : payload, at)).thenRun(() -> {
            if (!stored[0]) {
                log.info("[{}] response to {} ignored: no open command of this device with this id", publisher.clientId(), uuid);
            } else if (tooLarge) {
                log.info("[{}] response to {} of {} bytes is over {}: not stored (status 6)", publisher.clientId(), uuid,
                        payload.length, Commands.MAX_RESPONSE_BYTES);
            }
        });
    }

    /** The timer's round: ends the commands whose window is over, whichever node made or sent them. */
    void sweep() {
        long now = System.currentTimeMillis();
        try {
            int n;
            do {
                n = store.expireDue(now, SWEEP_BATCH);
                expired.add(n);
            } while (n == SWEEP_BATCH);
            if (now - countedAt >= COUNT_MILLIS) {
                countedAt = now;
                openInStore = store.openCounts(0)[0];
            }
            sweepFailing = false;
        } catch (RuntimeException e) {
            if (!sweepFailing) {
                log.warn("expiring commands failed, retried each second: {}", e.toString());
            }
            sweepFailing = true;
        }
    }

    /** Open commands in the store, of every node, as last counted. */
    long openInStore() {
        return openInStore;
    }

    /** Commands this node ended at the end of their window. */
    long expiredCount() {
        return expired.sum();
    }
}
