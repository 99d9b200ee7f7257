package io.stratus.api;

import io.stratus.Config;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The bounds of open {@code GET /events} streams: in all ({@code events.max-streams}), per product
 * ({@code events.max-streams-per-product}) and per credential ({@code events.max-streams-per-credential}). The three
 * counts change together under one lock.
 */
final class EventSlots {
    private final Config.SharedLimits limits;
    private int inUse;
    private final Map<Long, Integer> byProduct = new HashMap<>();
    private final Map<String, Integer> byCredential = new HashMap<>();
    private final LongAdder refused = new LongAdder();

    EventSlots(Config.SharedLimits limits) {
        this.limits = limits;
    }

    /**
     * Takes a slot for a stream of product {@code scope} (0: every product) opened with {@code credential}, or refuses
     * it with errno 13: HTTP 503 for the server's bound, 429 for the others.
     */
    void take(long scope, String credential) {
        String refusal = null;
        boolean server = false;
        synchronized (this) {
            if (inUse >= limits.eventsMaxStreams()) {
                refusal = "too many event streams on this server (at most " + limits.eventsMaxStreams() + ", events.max-streams)";
                server = true;
            } else if (scope != 0 && byProduct.getOrDefault(scope, 0) >= limits.eventsMaxStreamsPerProduct()) {
                refusal = "too many event streams of this product (at most " + limits.eventsMaxStreamsPerProduct()
                        + ", events.max-streams-per-product)";
            } else if (byCredential.getOrDefault(credential, 0) >= limits.eventsMaxStreamsPerCredential()) {
                refusal = "too many event streams with this credential (at most " + limits.eventsMaxStreamsPerCredential()
                        + ", events.max-streams-per-credential)";
            } else {
                inUse++;
                if (scope != 0) {
                    byProduct.merge(scope, 1, Integer::sum);
                }
                byCredential.merge(credential, 1, Integer::sum);
            }
        }
        if (refusal != null) {
            refused.increment();
            throw new ApiError(server ? Errno.SYSTEM_LIMIT : Errno.TENANT_LIMIT, refusal);
        }
    }

    synchronized void give(long scope, String credential) {
        inUse--;
        if (scope != 0) {
            byProduct.computeIfPresent(scope, (id, n) -> n <= 1 ? null : n - 1);
        }
        byCredential.computeIfPresent(credential, (c, n) -> n <= 1 ? null : n - 1);
    }

    synchronized int inUse() {
        return inUse;
    }

    /** Streams refused so far by one of the bounds. */
    long refusedCount() {
        return refused.sum();
    }
}
