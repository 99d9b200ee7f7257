package io.stratus.telemetry;

import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The times a {@code $dp} payload carries: datetime strings (D3, docs/decisions.md) and the six-byte times of types 6
 * and 7 (D2).
 */
final class DpTime {
    // D3: yyyy-MM-dd HH:mm:ss or yyyy-MM-ddTHH:mm:ss, optional .S to .SSS, optional Z or +hh:mm.
    private static final Pattern DATETIME = Pattern.compile(
            "(\\d{4})-(\\d{2})-(\\d{2})[ T](\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d{1,3}))?(Z|[+-]\\d{2}:\\d{2})?");

    private final ZoneId stringZone;
    private final ZoneId binaryZone;

    DpTime(ZoneId stringZone, ZoneId binaryZone) {
        this.stringZone = stringZone;
        this.binaryZone = binaryZone;
    }

    /** D3 datetime string as epoch millis (the string zone unless it has an offset), or null if it is not one. */
    Long parse(String text) {
        Matcher m = DATETIME.matcher(text);
        if (!m.matches()) {
            return null;
        }
        try {
            String fraction = m.group(7) == null ? "0" : (m.group(7) + "00").substring(0, 3);
            LocalDateTime t = LocalDateTime.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                    Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4)), Integer.parseInt(m.group(5)),
                    Integer.parseInt(m.group(6)), Integer.parseInt(fraction) * 1_000_000);
            ZoneId z = m.group(8) == null ? stringZone : ZoneOffset.of(m.group(8));
            return t.atZone(z).toInstant().toEpochMilli();
        } catch (DateTimeException e) {
            return null;
        }
    }

    /** Six bytes YY MM DD hh mm ss (year 2000 + YY) in the binary zone (D2). */
    Long sixBytes(DpInput in) throws DpFormatException {
        int at = in.pos;
        in.check(in.remaining() >= 6, "truncated time (" + in.remaining() + " of 6 bytes)", at);
        int[] b = new int[6];
        for (int i = 0; i < 6; i++) {
            b[i] = in.payload[at + i] & 0xFF;
        }
        int[] max = {99, 12, 31, 23, 59, 59};
        String[] names = {"year", "month", "day", "hour", "minute", "second"};
        for (int i = 0; i < 6; i++) {
            if (b[i] > max[i] || (i == 1 || i == 2) && b[i] == 0) {
                throw in.fail("time " + names[i] + " " + b[i] + " is out of range", at + i);
            }
        }
        try {
            LocalDateTime t = LocalDateTime.of(2000 + b[0], b[1], b[2], b[3], b[4], b[5]);
            in.pos += 6;
            return t.atZone(binaryZone).toInstant().toEpochMilli();
        } catch (DateTimeException e) {
            throw in.fail("time " + String.format("20%02d-%02d-%02d", b[0], b[1], b[2]) + " is not a date", at + 2);
        }
    }
}
