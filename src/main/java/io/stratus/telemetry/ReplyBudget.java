package io.stratus.telemetry;

/**
 * The value bytes one history reply may still take in: a reply is refused as soon as its points pass the budget,
 * so that a window over large string values (64 KiB each are allowed) cannot fill the heap while it is read.
 * Not thread-safe: one per query.
 */
final class ReplyBudget {
    /** What a point costs beside its value: the object, its stream and time, and its JSON in the reply. */
    private static final int POINT_OVERHEAD = 64;
    private final long max;
    private long left;

    ReplyBudget(long maxBytes) {
        this.max = maxBytes;
        this.left = maxBytes;
    }

    /** Takes a kept point's share; throws when the budget is spent. */
    void take(String valueJson) {
        left -= POINT_OVERHEAD + (valueJson == null ? 0 : valueJson.length());
        if (left < 0) {
            throw HistoryLimitException.tooLarge(max);
        }
    }
}
