package io.stratus.api;

import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * Times as the API writes and reads them, in the zone of {@code api.timezone} (UTC+8 by default, as OneNET). Upload
 * times are not read here: {@code dp.timezone} and {@code dp.binary-timezone} govern those.
 */
final class Times {
    private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    private final ZoneId zone;

    Times(ZoneId zone) {
        this.zone = zone;
    }

    /** {@code yyyy-MM-dd HH:mm:ss}, or null for 0 (never). */
    String format(long epochMillis) {
        return epochMillis == 0 ? null : SECONDS.format(Instant.ofEpochMilli(epochMillis).atZone(zone));
    }

    /**
     * A query-parameter time: {@code yyyy-MM-ddTHH:mm:ss} (a space also works), optional fraction, optional
     * offset ({@code Z}, {@code +08:00}); without an offset it is in the API's zone. Errno 6 otherwise.
     */
    long parse(String text, String param) {
        String iso = text.trim().replace(' ', 'T');
        try {
            return OffsetDateTime.parse(iso).toInstant().toEpochMilli();
        } catch (DateTimeParseException withoutOffset) {
            try {
                return LocalDateTime.parse(iso).atZone(zone).toInstant().toEpochMilli();
            } catch (DateTimeParseException e) {
                throw ApiError.invalid(param + " must be yyyy-MM-ddTHH:mm:ss");
            }
        }
    }

    /** The first millisecond of a {@code yyyy-MM-dd} day in the API's zone. */
    long startOfDay(String date, String param) {
        try {
            return LocalDate.parse(date).atStartOfDay(zone).toInstant().toEpochMilli();
        } catch (DateTimeParseException e) {
            throw ApiError.invalid(param + " must be yyyy-MM-dd");
        }
    }
}
