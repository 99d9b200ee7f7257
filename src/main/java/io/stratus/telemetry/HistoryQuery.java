package io.stratus.telemetry;

import java.util.List;

/**
 * A history query as the API takes it: streams (empty = all of the device), an optional time window
 * (epoch ms), page size, sort and continuation. Window rules: start and end both given -> [start, end]
 * (duration ignored); start with duration -> [start, start + duration]; end with duration -> [end - duration,
 * end]; start only -> from start on; end only -> up to end; duration only -> the last duration up to now;
 * none -> the newest point of each stream.
 */
public record HistoryQuery(List<String> streams, Long start, Long end, Long durationMillis, int limit,
                           boolean descending, Cursor after) {
    public static final int MAX_LIMIT = 6000;
    public static final int DEFAULT_LIMIT = 100;

    boolean newestOnly() {
        return start == null && end == null && durationMillis == null;
    }

    long from(long now) {
        if (start != null) {
            return start;
        }
        if (durationMillis != null) {
            return (end != null ? end : now) - durationMillis;
        }
        return Long.MIN_VALUE;
    }

    long to(long now) {
        if (end != null) {
            return end;
        }
        if (start != null) {
            return durationMillis != null ? start + durationMillis : Long.MAX_VALUE;
        }
        return durationMillis != null ? now : Long.MAX_VALUE;
    }
}
