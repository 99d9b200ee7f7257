package io.stratus.command;

import io.stratus.broker.Broker;
import io.stratus.broker.Message;
import io.stratus.broker.Publisher;
import io.stratus.device.Device;
import io.stratus.device.DeviceListener;
import io.stratus.device.DeviceRegistry;
import io.stratus.monitor.Worker;
import io.stratus.store.BatchWriter;
import io.stratus.store.Database;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commands to devices (OneNET §4): {@code POST /cmds} stores a command and pushes its body to the device on
 * {@code $creq/{uuid}} (QoS 0, unsubscribed); the device's {@code $crsp/{uuid}} is its response. Commands with
 * {@code timeout > 0} wait for the device's next login; {@code qos=1} ones are sent again at each login until
 * answered. Every command expires after its window (30 s for {@code timeout=0}) without a response.
 *
 * <p>The store is the truth. Open commands (status 1 or 2) are also held in memory without their bodies,
 * so that a response, which arrives on a Netty event loop, is matched without I/O; every change goes to the
 * store through a writer queue, in the order it happened, and a response is acknowledged to the device only
 * after its commit. Deliveries at login run on one thread; expiry on another, which walks one ordered set of
 * (expiry time, id) rather than holding a scheduled task per command. Nothing kept for an open command refers to
 * its body (up to 64 KB, read from the store when it is sent at a login).
 *
 * <p>Open commands are bounded twice ({@code commands.max-open-per-product}, {@code commands.max-open}): a
 * product at its bound is refused with errno 13 while other products keep sending, and no product can take the
 * whole server's allowance.
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
    static final String RESPONSE_PREFIX = "$crsp/";

    /** A page of a device's command history. */
    public record Page(long total, List<Command> commands) {}

    /** When an open command expires; ordered by time, then id. Holds nothing else of the command. */
    private record Expiry(long at, String uuid) implements Comparable<Expiry> {
        @Override
        public int compareTo(Expiry o) {
            int byTime = Long.compare(at, o.at);
            return byTime != 0 ? byTime : uuid.compareTo(o.uuid);
        }
    }

    /** The live state of one open command. */
    private static final class Open {
        /** Written under the monitor, read without it; never with a body. */
        volatile Command command;
        /** Its entry in the expiry set (the expiry time never changes). */
        final Expiry expiry;
        /** A send is being written; another would only duplicate it. */
        boolean sending;
        /** When the last send started: the send time of a command answered before its write completed. */
        long sendStartedAt;
        /** Final or deleted: nothing may change it or write it any more. */
        boolean closed;

        Open(Command command) {
            this.command = command;
            this.expiry = new Expiry(command.expireAt(), command.uuid());
        }
    }

    private static final Logger log = LoggerFactory.getLogger(Commands.class);

    private final Broker broker;
    private final DeviceRegistry registry;
    private final CommandStore store;
    private final BatchWriter writer;
    private final Map<String, Open> open = new ConcurrentHashMap<>();
    private final Map<Long, Set<String>> openByDevice = new ConcurrentHashMap<>();
    /** Open commands per product, counted against {@link #maxOpenPerProduct}; a product with none has no entry. */
    private final Map<Long, Integer> openByProduct = new ConcurrentHashMap<>();
    /** Open commands in all, counted against {@link #maxOpen} (reserved before the insert, so never over it). */
    private final AtomicInteger openTotal = new AtomicInteger();
    private final LongAdder refused = new LongAdder();
    private final int maxOpen;
    private final int maxOpenPerProduct;
    /** Devices with a delivery queued: a device that logs in ten times has one delivery in the queue, not ten. */
    private final Set<Long> deliveriesQueued = ConcurrentHashMap.newKeySet();
    private final BlockingQueue<Long> deliveries = new ArrayBlockingQueue<>(65_536);
    private final ConcurrentSkipListSet<Expiry> expiries = new ConcurrentSkipListSet<>();
    /** The timer's wake-up: set when an expiry earlier than the one it waits for is added. */
    private final Object timerSignal = new Object();
    private boolean timerWakeup;
    private final Worker timer;
    private final Worker deliverer;
    private volatile boolean closed;

    /**
     * @param maxOpen           open commands at most ({@code commands.max-open})
     * @param maxOpenPerProduct open commands of one product at most ({@code commands.max-open-per-product})
     */
    public Commands(Database database, Broker broker, DeviceRegistry registry, int maxOpen, int maxOpenPerProduct) {
        this.broker = broker;
        this.registry = registry;
        this.maxOpen = maxOpen;
        this.maxOpenPerProduct = maxOpenPerProduct;
        this.store = new CommandStore(database);
        this.writer = new BatchWriter(database, "command", 16_384, 500);
        load();
        this.timer = Worker.start("command-timer", this::expireDue);
        this.deliverer = Worker.start("command-delivery", this::deliverNext);
        broker.registerSystemPrefix(RESPONSE_PREFIX, this::onResponse);
        registry.addListener(new DeviceListener() {
            @Override
            public void online(Device device) {
                queueDelivery(device.id());
            }

            @Override
            public void removed(Device device) {
                forgetDevice(device.id());
            }
        });
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
        if (timeoutSeconds == 0 && !registry.isOnline(deviceId)) {
            throw new CommandException(CommandException.Reason.DEVICE_NOT_ONLINE, String.valueOf(deviceId));
        }
        reserve(productId);
        long now = System.currentTimeMillis();
        long window = timeoutSeconds == 0 ? ONLINE_RESPONSE_WINDOW_MILLIS : timeoutSeconds * 1000L;
        Command created = new Command(UUID.randomUUID().toString(), deviceId, productId, body, qos, timeoutSeconds,
                CommandStatus.CREATED, now, 0, now + window, null, 0);
        Open o;
        try {
            // Stored before it is sent: every later change is an update of this row.
            await(writer.submit(c -> CommandStore.insert(c, created)));
            o = track(created);
        } catch (RuntimeException | Error e) {
            release(productId);
            throw e;
        }
        if (!deliver(o, body) && created.onlineOnly()) {
            // The device went away between the check and the send: as if it had been offline all along.
            if (close(o)) {
                untrack(o, created);
                await(writer.submit(c -> CommandStore.delete(c, created.uuid())));
            }
            throw new CommandException(CommandException.Reason.DEVICE_NOT_ONLINE, String.valueOf(deviceId));
        }
        return created.withoutBody();
    }

    /**
     * Pushes the body to the device's live connection. False when the device is not connected; true when the
     * send started, or when there is nothing to send (closed, or a send of it is being written).
     */
    private boolean deliver(Open o, byte[] body) {
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
                new Message(REQUEST_PREFIX + cmd.uuid(), body, 0, false));
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
                transition(o, c -> c.status() == CommandStatus.CREATED || c.status() == CommandStatus.SENT ? c.sent(at) : null);
            } else {
                log.info("[{}] command {} not written, the connection dropped: {}", cmd.deviceId(), cmd.uuid(), e.toString());
                // An online-only command has failed; a stored one waits for the next login.
                transition(o, c -> c.onlineOnly() && c.status() == CommandStatus.CREATED ? c.withStatus(CommandStatus.SEND_FAILED) : null);
            }
        });
        return true;
    }

    private void queueDelivery(long deviceId) {
        if (!openByDevice.containsKey(deviceId) || !deliveriesQueued.add(deviceId)) {
            return;
        }
        if (closed || !deliveries.offer(deviceId)) {
            deliveriesQueued.remove(deviceId);
            log.warn("[{}] open commands not delivered at this login: delivery queue full or stopped", deviceId);
        }
    }

    private boolean deliverNext() throws InterruptedException {
        deliverOpen(deliveries.take());
        return true;
    }

    /**
     * At a login: sends, oldest first, the stored commands never sent and the {@code qos=1} ones sent but not
     * answered, while they are valid. Online-only commands are never sent again.
     */
    private void deliverOpen(long deviceId) {
        deliveriesQueued.remove(deviceId); // first, so that a login from now on queues another round
        Set<String> uuids = openByDevice.get(deviceId);
        if (uuids == null) {
            return;
        }
        List<Open> due = new ArrayList<>();
        for (String uuid : uuids) {
            Open o = open.get(uuid);
            if (o != null) {
                due.add(o);
            }
        }
        due.sort(Comparator.comparingLong((Open o) -> o.command.createdAt()).thenComparing(o -> o.command.uuid()));
        try {
            for (Open o : due) {
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

    // ---- responses and expiry ---------------------------------------------------------------------

    /**
     * {@code $crsp/{uuid}} from a device, on its event loop. The future completes after the response is
     * committed, so the PUBACK follows the commit. A response nobody waits for (unknown id, answered or
     * expired already, another device's command) is logged and acknowledged: the device keeps its connection.
     */
    private CompletableFuture<Void> onResponse(Publisher publisher, String topic, byte[] payload, int qos) {
        String uuid = topic.substring(RESPONSE_PREFIX.length());
        Open o = open.get(uuid);
        if (o == null) {
            log.info("[{}] response to {} ignored: no open command with this id", publisher.clientId(), uuid);
            return CompletableFuture.completedFuture(null);
        }
        if (o.command.deviceId() != publisher.deviceId()) {
            log.warn("[{}] response to {} ignored: the command is for device {}", publisher.clientId(), uuid,
                    o.command.deviceId());
            return CompletableFuture.completedFuture(null);
        }
        long at = System.currentTimeMillis();
        boolean tooLarge = payload.length > MAX_RESPONSE_BYTES;
        CompletableFuture<Void> stored = transition(o, c -> {
            // A device may answer before the write of the command has completed here: it was sent all the same.
            Command sent = c.sentAt() == 0 ? c.sent(o.sendStartedAt == 0 ? at : o.sendStartedAt) : c;
            return tooLarge ? sent.responded(CommandStatus.RESPONSE_TOO_LARGE, null, at)
                    : sent.responded(CommandStatus.RESPONDED, payload, at);
        });
        if (stored == null) {
            log.info("[{}] response to {} ignored: the command has ended", publisher.clientId(), uuid);
            return CompletableFuture.completedFuture(null);
        }
        if (tooLarge) {
            log.info("[{}] response to {} of {} bytes is over {}: not stored (status 6)", publisher.clientId(), uuid,
                    payload.length, MAX_RESPONSE_BYTES);
        }
        return stored;
    }

    private void expire(String uuid) {
        Open o = open.get(uuid);
        if (o != null && transition(o, c -> c.withStatus(CommandStatus.TIMED_OUT)) != null) {
            log.debug("[{}] command {} timed out", o.command.deviceId(), uuid);
        }
    }

    /** The timer's round: expires what is due, then waits for the next expiry or an earlier one to be added. */
    private boolean expireDue() throws InterruptedException {
        long now = System.currentTimeMillis();
        Expiry next;
        while ((next = first()) != null && next.at() <= now) {
            expire(next.uuid()); // removed after: a failure here leaves it for the next round
            expiries.remove(next);
        }
        // At most a minute: the wall clock may be set forward meanwhile.
        long wait = next == null ? 60_000 : Math.min(60_000, next.at() - now);
        synchronized (timerSignal) {
            if (!timerWakeup && !closed) {
                timerSignal.wait(Math.max(1, wait));
            }
            timerWakeup = false;
        }
        return !closed;
    }

    private Expiry first() {
        try {
            return expiries.first();
        } catch (java.util.NoSuchElementException empty) {
            return null;
        }
    }

    private void schedule(Expiry e) {
        expiries.add(e);
        if (first() == e) {
            synchronized (timerSignal) {
                timerWakeup = true;
                timerSignal.notifyAll();
            }
        }
    }

    /**
     * Applies a change to an open command and queues its write, under the command's lock so that writes
     * reach the store in the order the changes happened. Null when {@code change} returns null (nothing to
     * do) or the command is closed. A final status closes the command; it leaves memory once written.
     */
    private CompletableFuture<Void> transition(Open o, UnaryOperator<Command> change) {
        synchronized (o) {
            if (o.closed) {
                return null;
            }
            Command next = change.apply(o.command);
            if (next == null) {
                return null;
            }
            o.command = next;
            CompletableFuture<Void> written = writer.submit(c -> CommandStore.update(c, next));
            written.whenComplete((v, e) -> {
                if (e != null) {
                    log.warn("[{}] command {} status {} not stored: {}", next.deviceId(), next.uuid(), next.status().code,
                            e.toString());
                }
            });
            if (next.status().isFinal()) {
                close(o);
                // Kept until written, so that readers never see an older state in the store.
                written.whenComplete((v, e) -> untrack(o, next));
            }
            return written;
        }
    }

    // ---- bookkeeping ------------------------------------------------------------------------------

    private Open track(Command cmd) {
        Open o = new Open(cmd.withoutBody());
        open.put(cmd.uuid(), o);
        openByDevice.compute(cmd.deviceId(), (id, set) -> {
            Set<String> s = set == null ? ConcurrentHashMap.newKeySet() : set;
            s.add(cmd.uuid());
            return s;
        });
        schedule(o.expiry);
        return o;
    }

    /** Closes an open command; false when it was closed already. */
    private boolean close(Open o) {
        synchronized (o) {
            if (o.closed) {
                return false;
            }
            o.closed = true;
            expiries.remove(o.expiry); // an answered command's expiry must not linger for up to 31 days
            return true;
        }
    }

    private void untrack(Open o, Command cmd) {
        if (open.remove(cmd.uuid(), o)) {
            release(cmd.productId());
        }
        openByDevice.computeIfPresent(cmd.deviceId(), (id, set) -> {
            set.remove(cmd.uuid());
            return set.isEmpty() ? null : set;
        });
    }

    /** Counts a new command against both bounds, or refuses it with errno 13 (counted in {@link #refusedCount}). */
    private void reserve(long productId) {
        boolean[] reserved = {false};
        openByProduct.compute(productId, (id, n) -> {
            int count = n == null ? 0 : n;
            if (count >= maxOpenPerProduct) {
                return n;
            }
            reserved[0] = true;
            return count + 1;
        });
        if (!reserved[0]) {
            refused.increment();
            throw new CommandException(CommandException.Reason.SYSTEM_LIMIT, "too many open commands in this product (at most "
                    + maxOpenPerProduct + ", commands.max-open-per-product)");
        }
        if (openTotal.incrementAndGet() > maxOpen) {
            release(productId);
            refused.increment();
            throw new CommandException(CommandException.Reason.SYSTEM_LIMIT, "too many open commands on this server (at most "
                    + maxOpen + ", commands.max-open)");
        }
    }

    /** Counts a command of an earlier run, which was accepted under the bounds of its day. */
    private void count(long productId) {
        openByProduct.merge(productId, 1, Integer::sum);
        openTotal.incrementAndGet();
    }

    private void release(long productId) {
        openByProduct.computeIfPresent(productId, (id, n) -> n <= 1 ? null : n - 1);
        openTotal.decrementAndGet();
    }

    /** A deleted device's commands go with it; called on the deleting thread, so nothing here blocks. */
    private void forgetDevice(long deviceId) {
        Set<String> uuids = openByDevice.remove(deviceId);
        if (uuids != null) {
            for (String uuid : uuids) {
                Open o = open.remove(uuid);
                if (o != null) {
                    close(o);
                    release(o.command.productId());
                }
            }
        }
        writer.submit(c -> CommandStore.deleteDevice(c, deviceId)).whenComplete((v, e) -> {
            if (e != null) {
                log.warn("[{}] commands of the deleted device not removed: {}", deviceId, e.toString());
            }
        });
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
                count(c.productId());
                track(c);
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
        Open o = open.get(uuid);
        return o != null ? Optional.of(o.command) : store.find(uuid);
    }

    /** A device's commands created in [from, to], newest first; {@code page} counts from 1. */
    public Page history(long deviceId, long from, long to, int page, int perPage) {
        Page stored = store.history(deviceId, from, to, (page - 1) * perPage, perPage);
        List<Command> merged = new ArrayList<>(stored.commands().size());
        for (Command row : stored.commands()) {
            Open o = open.get(row.uuid());
            // The memory is ahead of the store by at most the writes in the queue.
            merged.add(o == null ? row : o.command.withBody(row.body()));
        }
        return new Page(stored.total(), merged);
    }

    /** Commands neither answered, expired nor failed. */
    public int openCount() {
        return openTotal.get();
    }

    /** Commands refused so far because a bound of open commands was reached. */
    public long refusedCount() {
        return refused.sum();
    }

    /** The timer, delivery and writer threads, for readiness and tests. */
    public List<Worker> workers() {
        return List.of(timer, deliverer, writer.worker());
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private static void await(CompletableFuture<Void> write) {
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

    /** Stops the timer and deliveries, then writes what is queued. Open commands stay open in the store. */
    @Override
    public void close() {
        closed = true;
        timer.stop();
        deliverer.stop();
        timer.join(5_000);
        deliverer.join(5_000);
        writer.close();
    }
}
