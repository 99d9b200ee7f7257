package io.stratus.telemetry;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.zone.ZoneRules;

/**
 * Times as the API writes them, {@code yyyy-MM-dd HH:mm:ss.SSS} in {@code api.timezone}, for replies of thousands
 * of points: the text up to the minute is kept for the last minute written, so that a point of the same minute
 * costs two small appends instead of a {@link DateTimeFormatter} pass (which also builds a zone's rules per call).
 */
final class ApiTimeFormat {
    private static final DateTimeFormatter PATTERN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");

    /** The local minute (minutes since the epoch, in the zone's time) and its text {@code yyyy-MM-dd HH:mm:}. */
    private record Minute(long index, String prefix) {}

    private final ZoneRules rules;
    private volatile Minute last = new Minute(Long.MIN_VALUE, "");

    ApiTimeFormat(ZoneId zone) {
        this.rules = zone.getRules();
    }

    String format(long epochMillis) {
        ZoneOffset offset = rules.getOffset(Instant.ofEpochMilli(epochMillis));
        if (offset.getTotalSeconds() % 60 != 0) { // historical local mean times (+08:05:43): no minute-aligned cache
            return PATTERN.format(LocalDateTime.ofInstant(Instant.ofEpochMilli(epochMillis), offset));
        }
        long local = epochMillis + offset.getTotalSeconds() * 1000L;
        long minute = Math.floorDiv(local, 60_000L);
        Minute m = last;
        if (m.index != minute) {
            String text = PATTERN.format(LocalDateTime.ofInstant(Instant.ofEpochMilli(epochMillis), offset));
            m = new Minute(minute, text.substring(0, text.length() - "ss.SSS".length()));
            last = m;
        }
        int withinMinute = (int) Math.floorMod(local, 60_000L);
        int seconds = withinMinute / 1000;
        int millis = withinMinute % 1000;
        StringBuilder out = new StringBuilder(m.prefix.length() + 6).append(m.prefix);
        if (seconds < 10) {
            out.append('0');
        }
        out.append(seconds).append('.');
        if (millis < 100) {
            out.append(millis < 10 ? "00" : "0");
        }
        return out.append(millis).toString();
    }
}
