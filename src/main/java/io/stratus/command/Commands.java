package io.stratus.command;

import io.stratus.broker.Broker;
import io.stratus.broker.Publisher;
import io.stratus.device.Device;
import io.stratus.device.DeviceListener;
import io.stratus.device.DeviceRegistry;
import io.stratus.monitor.Worker;
import io.stratus.store.BatchWriter;
import io.stratus.store.Database;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commands to devices (OneNET §4): {@code POST /cmds} stores a command and pushes its body to the device on
 * {@code $creq/{uuid}} (QoS 0, unsubscribed); the device's {@code $crsp/{uuid}} is its response. Commands with
 * {@code timeout > 0} wait for the device's next login; {@code qos=1} ones are sent again at each login until
 * answered. Every command expires after its window (30 s for {@code timeout=0}) without a response.
 *
 * <p>The store is the truth. Open commands (status 1 or 2) are also held in memory without their bodies
 * ({@link OpenCommands}), so that a response ({@link ResponseHandler}) is matched without I/O; every change goes to
 * the store through the command writer, in the order it happened, and a response is acknowledged to the device only
 * after its commit. Deliveries at login run on one thread ({@link CommandDelivery}); expiry on another ({@link
 * ExpiryTimer}). Open commands are bounded per product and in all ({@link OpenLimits}).
 *
 * <p>In cluster mode ({@link #joinCluster}) the store is an open command's only state, and a stored command goes to
 * whichever node its device logs in to: see {@link SharedCommands}.
 *
 * <p>Platform registers {@link #onResponse} for {@link #RESPONSE_PREFIX} and {@link #deviceEvents()} with the
 * registry.
 */
public final class Commands implements AutoCloseable {
    /** OneNET: the body is any bytes under 64 KB. */
    public static final int MAX_BODY_BYTES = 64 * 1024 - 1;
    /** A larger response is not stored; the command ends in status 6. */
    public static final int MAX_RESPONSE_BYTES = 64 * 1024;
    /** OneNET: timeout 0..2678400 s (31 days). */
    public static final int MAX_TIMEOUT_SECONDS = 2_678_400;
    /** How long an online-only command ({@code timeout=0}) waits for its response. */
    static final long ONLINE_RESPONSE_WINDOW_MILLIS = 30_000;
    static final String REQUEST_PREFIX = "$creq/";
    /** The topics of responses, {@code $crsp/{uuid}}, handled by {@link #onResponse}. */
    public static final String RESPONSE_PREFIX = "$crsp/";

    /** A page of a device's command history. */
    public record Page(long total, List<Command> commands) {}

    /**
     * Cluster mode: sends a command through the node the device is connected to. Returns null when it is connected to
     * no other node (the command is then made here); throws what that node's {@link #sendHere} threw.
     */
    public interface Elsewhere {
        Command send(long productId, long deviceId, byte[] body, int qos, int timeoutSeconds);

        /** A command for the device waits in the store: if another node holds the device, that node sends it. */
        void pending(long productId, long deviceId);
    }

    private static final Logger log = LoggerFactory.getLogger(Commands.class);

    private final DeviceRegistry registry;
    private final Broker broker;
    private final CommandStore store;
    private final BatchWriter writer;
    private final OpenLimits limits;
    private final ExpiryTimer timer;
    private final OpenCommands open;
    private final ResponseHandler responses;
    private final CommandDelivery delivery;
    private volatile Elsewhere elsewhere; // cluster mode only
    private volatile SharedCommands shared; // cluster mode only

    /**
     * Restores the open commands of earlier runs, then starts the {@code command-timer} and {@code command-delivery}
     * threads.
     *
     * @param writer            the {@code command} writer: inserts, status updates, deletes
     * @param maxOpen           open commands at most ({@code commands.max-open})
     * @param maxOpenPerProduct open commands of one product at most ({@code commands.max-open-per-product})
     */
    public Commands(Database database, BatchWriter writer, Broker broker, DeviceRegistry registry, int maxOpen,
                    int maxOpenPerProduct) {
        this.registry = registry;
        this.broker = broker;
        this.store = new CommandStore(database);
        this.writer = writer;
        this.limits = new OpenLimits(maxOpen, maxOpenPerProduct);
        this.timer = new ExpiryTimer();
        this.open = new OpenCommands(writer, limits, timer);
        this.responses = new ResponseHandler(open);
        load();
        timer.start(open::expire);
        this.delivery = new CommandDelivery(broker, open, store, maxOpen);
    }

    // ---- sending ----------------------------------------------------------------------------------

    /**
     * Creates a command and sends it now if the device is connected. Blocks until the command is stored, so
     * call it from a thread that may block (an HTTP worker). An online-only command ({@code timeoutSeconds}
     * 0) to a device that is not connected is refused and nothing is stored.
     *
     * @throws CommandException DEVICE_NOT_ONLINE or SYSTEM_LIMIT
     */
    public Command send(long productId, long deviceId, byte[] body, int qos, int timeoutSeconds) {
        Elsewhere e = elsewhere;
        if (e != null && !broker.isConnectedHere(productId, deviceId)) {
            Command there = e.send(productId, deviceId, body, qos, timeoutSeconds);
            if (there != null) {
                return there;
            }
        }
        return sendHere(productId, deviceId, body, qos, timeoutSeconds);
    }

    /** {@link #send} on this node, whether or not the device is connected to another. */
    public Command sendHere(long productId, long deviceId, byte[] body, int qos, int timeoutSeconds) {
        if (timeoutSeconds == 0 && !registry.isOnline(deviceId)) {
            throw new CommandException(CommandException.Reason.DEVICE_NOT_ONLINE, String.valueOf(deviceId));
        }
        SharedCommands s = shared;
        if (s != null) {
            return s.send(created(productId, deviceId, body, qos, timeoutSeconds));
        }
        limits.reserve(productId);
        Command created = created(productId, deviceId, body, qos, timeoutSeconds);
        OpenCommand o;
        try {
            // Stored before it is sent: every later change is an update of this row.
            await(writer.submit(c -> CommandStore.insert(c, created)));
            o = open.track(created);
        } catch (RuntimeException | Error e) {
            limits.release(productId);
            throw e;
        }
        if (!delivery.deliver(o, body) && created.onlineOnly()) {
            // The device went away between the check and the send: as if it had been offline all along.
            if (open.close(o)) {
                open.untrack(o, created);
                await(writer.submit(c -> CommandStore.delete(c, created.uuid())));
            }
            throw new CommandException(CommandException.Reason.DEVICE_NOT_ONLINE, String.valueOf(deviceId));
        }
        return created.withoutBody();
    }

    private static Command created(long productId, long deviceId, byte[] body, int qos, int timeoutSeconds) {
        long now = System.currentTimeMillis();
        long window = timeoutSeconds == 0 ? ONLINE_RESPONSE_WINDOW_MILLIS : timeoutSeconds * 1000L;
        return new Command(UUID.randomUUID().toString(), deviceId, productId, body, qos, timeoutSeconds,
                CommandStatus.CREATED, now, 0, now + window, null, 0);
    }

    // ---- wiring -----------------------------------------------------------------------------------

    /**
     * Cluster mode: commands to devices connected to other nodes go through {@code elsewhere}, and the store alone keeps
     * open commands (the ones restored at start are let go here). Call it before the MQTT server starts.
     */
    public void joinCluster(Elsewhere elsewhere) {
        this.elsewhere = elsewhere;
        SharedCommands s = new SharedCommands(store, writer, broker, limits, elsewhere);
        open.clear();
        shared = s;
        delivery.share(s);
        timer.every(SharedCommands.SWEEP_MILLIS, s::sweep);
    }

    /** Cluster mode: another node stored a command for this device; sends it if the device is connected here. */
    public void deliverStored(long productId, long deviceId) {
        if (shared != null && broker.isConnectedHere(productId, deviceId)) {
            delivery.queue(deviceId);
        }
    }

    /** The system-topic handler of {@link #RESPONSE_PREFIX}: see {@link ResponseHandler#onResponse}. */
    public CompletableFuture<Void> onResponse(Publisher publisher, String topic, byte[] payload, int qos) {
        SharedCommands s = shared;
        if (s != null) {
            return s.respond(publisher, topic.substring(RESPONSE_PREFIX.length()), payload);
        }
        return responses.onResponse(publisher, topic, payload, qos);
    }

    /** Delivers a device's open commands at its login and forgets a deleted device's commands. */
    public DeviceListener deviceEvents() {
        return new DeviceListener() {
            @Override
            public void online(Device device) {
                delivery.queue(device.id());
            }

            @Override
            public void removed(Device device) {
                open.forgetDevice(device.id());
            }
        };
    }

    /** Open commands of earlier runs: expired ones end now, the others wait for their device and timer. */
    private void load() {
        long now = System.currentTimeMillis();
        int expired = 0;
        int waiting = 0;
        for (Command c : store.loadOpen()) {
            if (c.expireAt() <= now) {
                Command ended = c.withStatus(CommandStatus.TIMED_OUT);
                writer.submit(w -> CommandStore.update(w, ended));
                expired++;
            } else {
                limits.count(c.productId());
                open.track(c);
                waiting++;
            }
        }
        if (expired + waiting > 0) {
            log.info("Commands restored: {} open, {} expired while stopped", waiting, expired);
        }
    }

    // ---- queries ----------------------------------------------------------------------------------

    /** A command by id; its body is left out while it is open. */
    public Optional<Command> find(String uuid) {
        OpenCommand o = open.get(uuid);
        return o != null ? Optional.of(o.command) : store.find(uuid);
    }

    /** A device's commands created in [from, to], newest first; {@code page} counts from 1. */
    public Page history(long deviceId, long from, long to, int page, int perPage) {
        Page stored = store.history(deviceId, from, to, (page - 1) * perPage, perPage);
        List<Command> merged = new ArrayList<>(stored.commands().size());
        for (Command row : stored.commands()) {
            OpenCommand o = open.get(row.uuid());
            // The memory is ahead of the store by at most the writes in the queue.
            merged.add(o == null ? row : o.command.withBody(row.body()));
        }
        return new Page(stored.total(), merged);
    }

    /** Commands neither answered, expired nor failed: this node's, or in cluster mode the store's as last counted. */
    public int openCount() {
        SharedCommands s = shared;
        return s != null ? (int) Math.min(Integer.MAX_VALUE, s.openInStore()) : limits.openCount();
    }

    /** Commands this node ended at the end of their window (status 5). */
    public long expiredCount() {
        SharedCommands s = shared;
        return open.expiredCount() + (s == null ? 0 : s.expiredCount());
    }

    /** Logins whose open commands were not looked for: the delivery queue was full. */
    public long deliveriesDroppedCount() {
        return delivery.droppedCount();
    }

    /** Commands refused so far because a bound of open commands was reached. */
    public long refusedCount() {
        return limits.refusedCount();
    }

    /** The timer, delivery and writer threads, for readiness and tests. */
    public List<Worker> workers() {
        return List.of(timer.worker(), delivery.worker(), writer.worker());
    }

    // ---- helpers ----------------------------------------------------------------------------------

    static void await(CompletableFuture<Void> write) {
        try {
            write.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof BatchWriter.Overloaded) {
                throw new CommandException(CommandException.Reason.SYSTEM_LIMIT, "command store queue is full, retry later");
            }
            throw new IllegalStateException("storing the command failed: " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new CommandException(CommandException.Reason.SYSTEM_LIMIT, "command store did not answer in time");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while storing a command", e);
        }
    }

    /**
     * Stops the timer and deliveries. Open commands stay open in the store; the writer's owner closes it after
     * this, which writes what is queued.
     */
    @Override
    public void close() {
        timer.stop();
        delivery.stop();
        timer.worker().join(5_000);
        delivery.worker().join(5_000);
    }
}
