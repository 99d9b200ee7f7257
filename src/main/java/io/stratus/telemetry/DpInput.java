package io.stratus.telemetry;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;

/** The read position in one {@code $dp} payload, and the points decoded so far. */
final class DpInput {
    final byte[] payload;
    final int type;
    final List<Datapoint> points = new ArrayList<>();
    int pos = 1;

    DpInput(byte[] payload, int type) {
        this.payload = payload;
        this.type = type;
    }

    int remaining() {
        return payload.length - pos;
    }

    /** A u16 length of the section that follows, which must fit in the payload. */
    int length(String what) throws DpFormatException {
        int at = pos;
        int length = u16(what + " length");
        check(length <= remaining(), what + " length " + length + " goes beyond the payload (" + payload.length
                + " bytes)", at);
        return length;
    }

    int u16(String what) throws DpFormatException {
        if (remaining() < 2) {
            throw fail("truncated " + what + " (" + remaining() + " of 2 bytes)", pos);
        }
        int v = (payload[pos] & 0xFF) << 8 | payload[pos + 1] & 0xFF;
        pos += 2;
        return v;
    }

    long u32(String what) throws DpFormatException {
        if (remaining() < 4) {
            throw fail("truncated " + what + " (" + remaining() + " of 4 bytes)", pos);
        }
        return ((long) u16(what) << 16) | u16(what);
    }

    void add(Datapoint point, int at) throws DpFormatException {
        add(point, () -> at);
    }

    void add(Datapoint point, IntSupplier at) throws DpFormatException {
        if (points.size() == DpDecoder.MAX_POINTS) {
            throw fail("more than " + DpDecoder.MAX_POINTS + " data points", at.getAsInt());
        }
        // Every accepted id must forward to a valid topic /{device}/{stream}: one level, no wildcard, NUL or control.
        String badId = StreamIds.check(point.stream());
        if (badId != null) {
            throw fail(badId, at.getAsInt());
        }
        points.add(point);
    }

    void check(boolean ok, String reason, int at) throws DpFormatException {
        if (!ok) {
            throw fail(reason, at);
        }
    }

    DpFormatException fail(String reason, int at) {
        return new DpFormatException("type " + type + ": " + reason, at);
    }

    /** Payload text quoted for an error message, cut after 40 characters. */
    static String quote(String s) {
        return "\"" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "\"";
    }
}
