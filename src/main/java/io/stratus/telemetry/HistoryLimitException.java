package io.stratus.telemetry;

/**
 * A history query that would take more than the server gives one query: its reply would hold more value bytes than
 * {@code history.max-reply-bytes} ({@link #tooLarge}), or every query slot stayed busy ({@link #busy}). Nothing of
 * the reply was built beyond the limit.
 */
public final class HistoryLimitException extends RuntimeException {
    private final boolean busy;

    private HistoryLimitException(String message, boolean busy) {
        super(message, null, false, false);
        this.busy = busy;
    }

    static HistoryLimitException tooLarge(long maxBytes) {
        return new HistoryLimitException("the reply would hold more than " + maxBytes + " bytes of values: ask for a "
                + "shorter window, fewer streams, a smaller limit or fewer downsample buckets", false);
    }

    static HistoryLimitException busy(int slots) {
        return new HistoryLimitException("all " + slots + " history query slots are busy, retry later", true);
    }

    /** True when the server was busy (retry later), false when the query itself asks too much. */
    public boolean busy() {
        return busy;
    }
}
