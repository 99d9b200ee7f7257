package io.stratus.hook;

import io.stratus.device.Device;
import io.stratus.device.DeviceListener;
import io.stratus.monitor.Worker;
import io.stratus.telemetry.StoredPoint;
import io.stratus.telemetry.Telemetry;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hook thread. Listeners of telemetry (called on the datapoint writer thread after each commit) and of device
 * presence (called on MQTT event loops) only put an event on a bounded queue; this one thread takes them, matches
 * triggers, collects push batches, and on a timer checks frozen streams and sends due batches. When the queue is
 * full an event is dropped and counted (logged at most once per {@value Delivery#DROP_LOG_EVERY}): ingest never
 * waits for hooks. The thread is a {@link Worker}: whatever a round throws (an OutOfMemoryError included) loses that
 * round's event, and triggers and push go on with the next.
 */
final class Dispatcher implements Telemetry.Listener, DeviceListener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

    private interface Event {
    }

    private record Points(long productId, long deviceId, List<StoredPoint> points, long at) implements Event {
    }

    private record Presence(long productId, long deviceId, boolean online, long at) implements Event {
    }

    private record PointsElsewhere(long productId, long deviceId, List<StoredPoint> points, long at) implements Event {
    }

    private record Removed(long deviceId) implements Event {
    }

    private record Stop() implements Event {
    }

    private final TriggerWatch watch;
    private final PushBatches batches;
    private final long silenceCheckMillis;
    private final BlockingQueue<Event> queue;
    private final Worker worker;
    private final LongAdder dropped = new LongAdder();
    private long nextSilenceCheck;
    private volatile boolean closed;

    Dispatcher(TriggerWatch watch, PushBatches batches, int capacity, long silenceCheckMillis) {
        this.watch = watch;
        this.batches = batches;
        this.silenceCheckMillis = silenceCheckMillis;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.nextSilenceCheck = System.currentTimeMillis() + silenceCheckMillis;
        this.worker = Worker.start("hooks", this::step);
    }

    Worker worker() {
        return worker;
    }

    @Override
    public void stored(long productId, long deviceId, List<StoredPoint> points) {
        offer(new Points(productId, deviceId, points, System.currentTimeMillis()));
    }

    /** Cluster mode: points another node stored and fired triggers for; remembered here ({@link TriggerWatch#storedElsewhere}). */
    void storedElsewhere(long productId, long deviceId, List<StoredPoint> points) {
        offer(new PointsElsewhere(productId, deviceId, points, System.currentTimeMillis()));
    }

    @Override
    public void online(Device device) {
        offer(new Presence(device.productId(), device.id(), true, System.currentTimeMillis()));
    }

    @Override
    public void offline(Device device) {
        offer(new Presence(device.productId(), device.id(), false, System.currentTimeMillis()));
    }

    @Override
    public void removed(Device device) {
        offer(new Removed(device.id()));
    }

    long dropped() {
        return dropped.sum();
    }

    int queued() {
        return queue.size();
    }

    private void offer(Event e) {
        if (closed || queue.offer(e)) {
            return;
        }
        dropped.increment();
        long n = dropped.sum();
        if (n == 1 || n % Delivery.DROP_LOG_EVERY == 0) {
            log.warn("Hook event queue full: {} events dropped so far (triggers and push fall behind ingest)", n);
        }
    }

    /** One round: the next event (waiting at most until a batch or the silence check is due), then what is due. */
    private boolean step() throws InterruptedException {
        long now = System.currentTimeMillis();
        long wait = Math.max(1, Math.min(nextSilenceCheck, batches.nextDue()) - now);
        Event e = queue.poll(wait, TimeUnit.MILLISECONDS);
        if (e instanceof Stop) {
            return false;
        }
        if (e != null) {
            handle(e);
        }
        now = System.currentTimeMillis();
        batches.flushDue(now);
        if (now >= nextSilenceCheck) {
            nextSilenceCheck = now + silenceCheckMillis; // first: a check that throws is not retried at once
            watch.checkSilence(now);
        }
        return true;
    }

    private void handle(Event e) {
        if (e instanceof Points p) {
            watch.stored(p.productId, p.deviceId, p.points, p.at);
            batches.points(p.productId, p.deviceId, p.points, p.at);
        } else if (e instanceof Presence p) {
            batches.presence(p.productId, p.deviceId, p.online, p.at);
        } else if (e instanceof PointsElsewhere p) {
            watch.storedElsewhere(p.productId, p.deviceId, p.points, p.at);
        } else if (e instanceof Removed r) {
            watch.removed(r.deviceId);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        // Pending events and open batches are dropped: Delivery, closed next, would not send them anyway.
        int left = queue.size();
        queue.clear();
        queue.offer(new Stop());
        if (left > 0) {
            log.info("{} hook events not handled at shutdown", left);
        }
        worker.join(TimeUnit.SECONDS.toMillis(5));
    }
}

