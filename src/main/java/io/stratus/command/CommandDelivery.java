package io.stratus.command;

import io.stratus.broker.Broker;
import io.stratus.broker.Message;
import io.stratus.monitor.Worker;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pushes commands to devices on {@code $creq/{uuid}}: at once when created, and at a device's login, on the {@code
 * command-delivery} thread, its stored open commands, each body read from the store (up to 64 KB, so nothing kept in
 * memory for an open command refers to it). In cluster mode the store says what a login gets ({@link SharedCommands}):
 * every login here is queued, and the logins queued meanwhile are looked up in one query.
 */
final class CommandDelivery {
    /** The commands' one logger, whichever part of them logs. */
    private static final Logger log = LoggerFactory.getLogger(Commands.class);

    private final Broker broker;
    private final OpenCommands open;
    private final CommandStore store;
    /** Devices with a delivery queued: a device that logs in ten times has one delivery in the queue, not ten. */
    private final Set<Long> deliveriesQueued = ConcurrentHashMap.newKeySet();
    private final BlockingQueue<Long> deliveries;
    private final LongAdder dropped = new LongAdder();
    private final Worker deliverer;
    private volatile boolean closed;
    private volatile SharedCommands shared; // cluster mode only

    /**
     * Starts the thread. At most {@code capacity} devices wait for a delivery ({@code commands.max-open}: no more devices
     * can have an open command); a login beyond is counted as dropped, and its device gets its commands at the next.
     */
    CommandDelivery(Broker broker, OpenCommands open, CommandStore store, int capacity) {
        this.deliveries = new ArrayBlockingQueue<>(capacity);
        this.broker = broker;
        this.open = open;
        this.store = store;
        this.deliverer = Worker.start("command-delivery", this::deliverNext);
    }

    /**
     * Pushes the body to the device's live connection. False when the device is not connected; true when the
     * send started, or when there is nothing to send (closed, or a send of it is being written).
     */
    boolean deliver(OpenCommand o, byte[] body) {
        Command cmd;
        synchronized (o) {
            if (o.closed || o.sending) {
                return true;
            }
            o.sending = true;
            o.sendStartedAt = System.currentTimeMillis();
            cmd = o.command;
        }
        // OneNET §4: always QoS 0, whether or not the device subscribed to anything.
        Optional<CompletableFuture<Void>> written = broker.sendToDevice(cmd.productId(), cmd.deviceId(),
                new Message(Commands.REQUEST_PREFIX + cmd.uuid(), body, 0, false));
        if (written.isEmpty()) {
            synchronized (o) {
                o.sending = false;
            }
            return false;
        }
        written.get().whenComplete((v, e) -> {
            synchronized (o) {
                o.sending = false;
            }
            if (e == null) {
                long at = System.currentTimeMillis();
                open.transition(o, c -> c.status() == CommandStatus.CREATED || c.status() == CommandStatus.SENT ? c.sent(at) : null);
            } else {
                log.info("[{}] command {} not written, the connection dropped: {}", cmd.deviceId(), cmd.uuid(), e.toString());
                // An online-only command has failed; a stored one waits for the next login.
                open.transition(o, c -> c.onlineOnly() && c.status() == CommandStatus.CREATED ? c.withStatus(CommandStatus.SEND_FAILED) : null);
            }
        });
        return true;
    }

    /** At a login: queues the delivery of the device's open commands, unless one is queued already. Never blocks. */
    void queue(long deviceId) {
        if (shared == null && !open.hasAny(deviceId) || !deliveriesQueued.add(deviceId)) {
            return;
        }
        if (closed || !deliveries.offer(deviceId)) {
            deliveriesQueued.remove(deviceId);
            dropped.increment();
            log.warn("[{}] open commands not delivered at this login: delivery queue full or stopped", deviceId);
        }
    }

    private boolean deliverNext() throws InterruptedException {
        long first = deliveries.take();
        SharedCommands s = shared;
        if (s == null) {
            deliverOpen(first);
            return true;
        }
        List<Long> batch = new ArrayList<>(List.of(first));
        deliveries.drainTo(batch, 499);
        batch.forEach(deliveriesQueued::remove); // first, so that a login from now on queues another round
        s.deliverPending(batch);
        return true;
    }

    /** Cluster mode: from now on each login asks the store, not this node's memory. */
    void share(SharedCommands s) {
        shared = s;
    }

    /** Logins whose delivery was not queued: the queue (65,536) was full. */
    long droppedCount() {
        return dropped.sum();
    }

    /**
     * At a login: sends, oldest first, the stored commands never sent and the {@code qos=1} ones sent but not
     * answered, while they are valid. Online-only commands are never sent again.
     */
    private void deliverOpen(long deviceId) {
        deliveriesQueued.remove(deviceId); // first, so that a login from now on queues another round
        List<OpenCommand> due = open.ofDevice(deviceId);
        try {
            for (OpenCommand o : due) {
                Command c = o.command;
                boolean wanted = !c.onlineOnly() && c.expireAt() > System.currentTimeMillis()
                        && (c.status() == CommandStatus.CREATED || c.status() == CommandStatus.SENT && c.qos() == 1);
                if (!wanted) {
                    continue;
                }
                Optional<byte[]> body = store.body(c.uuid());
                if (body.isPresent() && !deliver(o, body.get())) {
                    return; // gone again: the next login delivers the rest
                }
            }
        } catch (RuntimeException e) {
            log.warn("[{}] delivering open commands failed: {}", deviceId, e.toString());
        }
    }

    Worker worker() {
        return deliverer;
    }

    /** Tells the thread to end; does not wait (join its {@link #worker}). */
    void stop() {
        closed = true;
        deliverer.stop();
    }
}
