package io.stratus.hook;

import io.stratus.telemetry.StoredPoint;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Collects data-push messages per product into batches: a batch is sent when it holds {@code push.batch-max}
 * messages or {@code push.batch-millis} after its first message, whichever comes first. A target in single mode
 * ({@code batch: false}) gets one POST per message at once. Runs on the hook dispatcher thread only.
 */
final class PushBatches {
    private static final class Batch {
        final PushTarget target;
        final long openedAt;
        final List<String> messages = new ArrayList<>();

        Batch(PushTarget target, long openedAt) {
            this.target = target;
            this.openedAt = openedAt;
        }
    }

    private final DataPush push;
    private final int maxMessages;
    private final long maxDelayMillis;
    private final Map<Long, Batch> open = new HashMap<>();

    PushBatches(DataPush push, int maxMessages, long maxDelayMillis) {
        this.push = push;
        this.maxMessages = maxMessages;
        this.maxDelayMillis = maxDelayMillis;
    }

    void points(long productId, long deviceId, List<StoredPoint> points, long now) {
        Optional<PushTarget> target = push.active(productId);
        if (target.isPresent()) {
            for (StoredPoint p : points) {
                add(target.get(), PushMessages.dataPoint(deviceId, p), now);
            }
        }
    }

    void presence(long productId, long deviceId, boolean online, long at) {
        push.active(productId).ifPresent(t -> add(t, PushMessages.presence(deviceId, online, at), at));
    }

    private void add(PushTarget target, String message, long now) {
        if (!target.batch()) {
            push.send(target, List.of(message));
            return;
        }
        Batch b = open.get(target.productId());
        if (b != null && b.target != target) { // reconfigured: what was collected goes where it was meant to
            flush(b);
            b = null;
        }
        if (b == null) {
            b = new Batch(target, now);
            open.put(target.productId(), b);
        }
        b.messages.add(message);
        if (b.messages.size() >= maxMessages) {
            open.remove(target.productId());
            flush(b);
        }
    }

    /** Sends the batches that have waited long enough. */
    void flushDue(long now) {
        for (Iterator<Batch> it = open.values().iterator(); it.hasNext(); ) {
            Batch b = it.next();
            if (now - b.openedAt >= maxDelayMillis) {
                it.remove();
                flush(b);
            }
        }
    }

    /** When the next batch falls due, or {@link Long#MAX_VALUE} when none is open. */
    long nextDue() {
        long due = Long.MAX_VALUE;
        for (Batch b : open.values()) {
            due = Math.min(due, b.openedAt + maxDelayMillis);
        }
        return due;
    }

    void flushAll() {
        open.values().forEach(this::flush);
        open.clear();
    }

    private void flush(Batch b) {
        if (!b.messages.isEmpty()) {
            push.send(b.target, b.messages);
        }
    }
}
