package io.stratus.command;

import io.stratus.store.BatchWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The open commands (status 1 or 2), held in memory without their bodies so that a response, which arrives on a Netty
 * event loop, is matched without I/O. Every change goes to the store through the command writer, in the order it
 * happened. Each open command is counted in {@link OpenLimits} and has its expiry in the {@link ExpiryTimer} until it
 * ends.
 */
final class OpenCommands {
    /** The commands' one logger, whichever part of them logs. */
    private static final Logger log = LoggerFactory.getLogger(Commands.class);

    private final BatchWriter writer;
    private final OpenLimits limits;
    private final ExpiryTimer timer;
    private final Map<String, OpenCommand> open = new ConcurrentHashMap<>();
    private final Map<Long, Set<String>> openByDevice = new ConcurrentHashMap<>();
    private final LongAdder expired = new LongAdder();

    OpenCommands(BatchWriter writer, OpenLimits limits, ExpiryTimer timer) {
        this.writer = writer;
        this.limits = limits;
        this.timer = timer;
    }

    /** The open command with this id, or null. */
    OpenCommand get(String uuid) {
        return open.get(uuid);
    }

    /** Whether the device has open commands. */
    boolean hasAny(long deviceId) {
        return openByDevice.containsKey(deviceId);
    }

    /** The device's open commands, oldest first. */
    List<OpenCommand> ofDevice(long deviceId) {
        Set<String> uuids = openByDevice.get(deviceId);
        if (uuids == null) {
            return List.of();
        }
        List<OpenCommand> found = new ArrayList<>();
        for (String uuid : uuids) {
            OpenCommand o = open.get(uuid);
            if (o != null) {
                found.add(o);
            }
        }
        found.sort(Comparator.comparingLong((OpenCommand o) -> o.command.createdAt())
                .thenComparing(o -> o.command.uuid()));
        return found;
    }

    /** Holds a command (counted in the limits already) without its body, and schedules its expiry. */
    OpenCommand track(Command cmd) {
        OpenCommand o = new OpenCommand(cmd.withoutBody());
        open.put(cmd.uuid(), o);
        openByDevice.compute(cmd.deviceId(), (id, set) -> {
            Set<String> s = set == null ? ConcurrentHashMap.newKeySet() : set;
            s.add(cmd.uuid());
            return s;
        });
        timer.schedule(o.expiry);
        return o;
    }

    /** Closes an open command; false when it was closed already. */
    boolean close(OpenCommand o) {
        synchronized (o) {
            if (o.closed) {
                return false;
            }
            o.closed = true;
            timer.cancel(o.expiry); // an answered command's expiry must not linger for up to 31 days
            return true;
        }
    }

    void untrack(OpenCommand o, Command cmd) {
        if (open.remove(cmd.uuid(), o)) {
            limits.release(cmd.productId());
        }
        openByDevice.computeIfPresent(cmd.deviceId(), (id, set) -> {
            set.remove(cmd.uuid());
            return set.isEmpty() ? null : set;
        });
    }

    /**
     * Applies a change to an open command and queues its write, under the command's lock so that writes
     * reach the store in the order the changes happened. Null when {@code change} returns null (nothing to
     * do) or the command is closed. A final status closes the command; it leaves memory once written.
     */
    CompletableFuture<Void> transition(OpenCommand o, UnaryOperator<Command> change) {
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

    /** The timer's action when a command's window ends without a response. */
    void expire(String uuid) {
        OpenCommand o = open.get(uuid);
        if (o != null && transition(o, c -> c.withStatus(CommandStatus.TIMED_OUT)) != null) {
            expired.increment();
            log.debug("[{}] command {} timed out", o.command.deviceId(), uuid);
        }
    }

    /** Commands this node ended at the end of their window. */
    long expiredCount() {
        return expired.sum();
    }

    /** Cluster mode: lets go of every command held (the store keeps them), before any is sent. */
    void clear() {
        for (OpenCommand o : open.values()) {
            if (close(o)) {
                untrack(o, o.command);
            }
        }
    }

    /** A deleted device's commands go with it; called on the deleting thread, so nothing here blocks. */
    void forgetDevice(long deviceId) {
        Set<String> uuids = openByDevice.remove(deviceId);
        if (uuids != null) {
            for (String uuid : uuids) {
                OpenCommand o = open.remove(uuid);
                if (o != null) {
                    close(o);
                    limits.release(o.command.productId());
                }
            }
        }
        writer.submit(c -> CommandStore.deleteDevice(c, deviceId)).whenComplete((v, e) -> {
            if (e != null) {
                log.warn("[{}] commands of the deleted device not removed: {}", deviceId, e.toString());
            }
        });
    }
}
