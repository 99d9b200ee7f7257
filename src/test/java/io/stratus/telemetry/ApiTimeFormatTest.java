package io.stratus.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The cached API time text is the text DateTimeFormatter writes, whatever the order of the times asked for. */
class ApiTimeFormatTest {
    private static final DateTimeFormatter REFERENCE = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");

    @ParameterizedTest
    @ValueSource(strings = {"+08:00", "UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kathmandu", "Asia/Shanghai"})
    void matches_the_formatter_for_consecutive_random_and_edge_times(String zoneId) {
        ZoneId zone = ZoneId.of(zoneId);
        ApiTimeFormat format = new ApiTimeFormat(zone);
        DateTimeFormatter reference = REFERENCE.withZone(zone);
        SplittableRandom random = new SplittableRandom(42);
        long start = Instant.parse("2025-03-30T00:59:58Z").toEpochMilli(); // Berlin's clocks go forward at 01:00 UTC
        for (long t = start; t < start + 180_000; t += 7) { // a run of nearby times, through the change
            assertThat(format.format(t)).isEqualTo(reference.format(Instant.ofEpochMilli(t)));
        }
        for (int i = 0; i < 20_000; i++) { // jumps back and forth, before 1970 and far ahead, LMT offsets included
            long t = random.nextLong(-5_000_000_000_000L, 5_000_000_000_000L);
            assertThat(format.format(t)).as("at %d", t).isEqualTo(reference.format(Instant.ofEpochMilli(t)));
        }
        for (long t : new long[] {0, -1, 59_999, 60_000, -60_000, -60_001, 999, 1000}) {
            assertThat(format.format(t)).as("at %d", t).isEqualTo(reference.format(Instant.ofEpochMilli(t)));
        }
    }
}
