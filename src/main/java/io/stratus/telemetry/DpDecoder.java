package io.stratus.telemetry;

import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Decodes the payload of a {@code $dp} PUBLISH (protocol §3, see docs/decisions.md) into data points.
 *
 * <p>Strict (D24): reserved bit 6, the time flag on types 1-5, bytes after the declared lengths, malformed JSON or
 * strings all raise {@link DpFormatException}, which the caller turns into a disconnect or a drop (D6). Immutable and
 * without I/O, so one instance serves every connection.
 *
 * <p>Type 7 in {@link Type7Mode#ONE_STREAM} mode: the {@code count} floats of a group are successive points of stream
 * {@code ds_id}. With a header time, float {@code i} gets that time + {@code i} ms (count is at most 500, so a group
 * stays inside its second and its points do not replace one another under D21); without one, all get null, and the
 * server's receive-time rule (D21: strictly increasing per stream) keeps them apart and in order.
 *
 * <p>Where the protocol is silent, this decoder rejects: a null {@code value} (any JSON type), duplicate JSON keys,
 * JSON numbers beyond the double range, empty type-5/6 fields or parts, and a type 7 without groups. Valid JSON that
 * yields no point ({@code {}}, {@code {"datastreams":[]}}) decodes to an empty list.
 */
public final class DpDecoder {

    /** D1: where the {@code count} floats of a type-7 group go ({@code dp.type7}). */
    public enum Type7Mode {
        /** Float {@code i} of the group belongs to stream {@code ds_id + i} (the default). */
        CONSECUTIVE_STREAMS,
        /** All floats of the group are successive points of stream {@code ds_id}. */
        ONE_STREAM
    }

    /** D2: the default zone of datetime strings without an offset (devices write local, Beijing, time). */
    public static final ZoneId DEFAULT_STRING_ZONE = ZoneOffset.ofHours(8);
    /** D2: the default zone of the six-byte times of types 6 and 7 (OneNET's C SDK packs them with gmtime()). */
    public static final ZoneId DEFAULT_BINARY_ZONE = ZoneOffset.UTC;
    /** Guard against a message that expands into too many points. */
    public static final int MAX_POINTS = 10_000;
    /** Type-2 blob limit, 3 MiB (§3.2 "≤ 3 MB"). */
    public static final int MAX_BINARY_BYTES = 3 * 1024 * 1024;
    static final int MAX_TYPE7_STREAMS = 500;
    static final int MAX_TYPE7_COUNT = 500;

    private final ZoneId stringZone;
    private final ZoneId binaryZone;
    private final Type7Mode type7;
    private final DpTime time;
    private final DpJson json;
    private final DpFields fields;

    /**
     * @param stringZone the zone of datetime strings without an offset ({@code dp.timezone})
     * @param binaryZone the zone of the six-byte times of types 6 and 7 ({@code dp.binary-timezone})
     */
    public DpDecoder(ZoneId stringZone, ZoneId binaryZone, Type7Mode type7) {
        this.stringZone = Objects.requireNonNull(stringZone, "stringZone");
        this.binaryZone = Objects.requireNonNull(binaryZone, "binaryZone");
        this.type7 = Objects.requireNonNull(type7, "type7");
        this.time = new DpTime(stringZone, binaryZone);
        this.json = new DpJson(time);
        this.fields = new DpFields(time);
    }

    /** Strings in UTC+8, six-byte times in UTC, consecutive streams: the D1 and D2 defaults. */
    public static DpDecoder defaults() {
        return new DpDecoder(DEFAULT_STRING_ZONE, DEFAULT_BINARY_ZONE, Type7Mode.CONSECUTIVE_STREAMS);
    }

    /**
     * The points of one payload, in payload order (unmodifiable).
     *
     * @throws DpFormatException if the payload breaks §3 or D24; its message names the problem and the byte offset
     */
    public List<Datapoint> decode(byte[] payload) throws DpFormatException {
        Objects.requireNonNull(payload, "payload");
        if (payload.length == 0) {
            throw new DpFormatException("empty payload", 0);
        }
        int header = payload[0] & 0xFF;
        int type = header & 0x3F;
        if ((header & 0x40) != 0) {
            throw new DpFormatException("reserved bit 6 of byte 0 is set (0x" + Integer.toHexString(header) + ")", 0);
        }
        if (type < 1 || type > 7) {
            throw new DpFormatException("unknown type " + type, 0);
        }
        boolean timeFlag = (header & 0x80) != 0;
        if (timeFlag && type < 6) {
            throw new DpFormatException("type " + type + ": time flag (bit 7) is only allowed on types 6 and 7", 0);
        }
        DpInput in = new DpInput(payload, type);
        switch (type) {
            case 1 -> json.type1(in);
            case 2 -> json.type2(in);
            case 3 -> json.type3(in);
            case 4 -> json.type4(in);
            // Type 5: u16 + separated string.
            case 5 -> fields.read(in, null);
            // Type 6: [six time bytes] + u16 + separated string; fields without a time take the header time (or none).
            case 6 -> fields.read(in, timeFlag ? time.sixBytes(in) : null);
            default -> type7(in, timeFlag);
        }
        if (in.pos < payload.length) {
            throw in.fail((payload.length - in.pos) + " bytes after the declared length", in.pos);
        }
        return List.copyOf(in.points);
    }

    /**
     * Parses an HTTP upload body of type 1, 3, 4 or 5: the bytes a `$dp` payload of that type carries after its u16
     * length, decoded by the same rules. Offsets in errors count from the body's first byte.
     */
    public List<Datapoint> decodeUpload(int type, byte[] body) throws DpFormatException {
        if (type != 1 && type != 3 && type != 4 && type != 5) {
            throw new IllegalArgumentException("type " + type + " has no HTTP body form");
        }
        if (body.length > 0xFFFF) {
            throw new DpFormatException("body too long: " + body.length + " bytes (at most 65535)", 0);
        }
        byte[] payload = new byte[body.length + 3];
        payload[0] = (byte) type;
        payload[1] = (byte) (body.length >> 8);
        payload[2] = (byte) body.length;
        System.arraycopy(body, 0, payload, 3, body.length);
        try {
            return decode(payload);
        } catch (DpFormatException e) {
            throw new DpFormatException(e.reason(), Math.max(0, e.offset() - 3));
        }
    }

    @Override
    public String toString() {
        return "DpDecoder[stringZone=" + stringZone + ", binaryZone=" + binaryZone + ", type7=" + type7 + "]";
    }

    /** Type 7: [six time bytes] + groups {u16 ds_id, u16 count, count x float32 LE} to the end. */
    private void type7(DpInput in, boolean timeFlag) throws DpFormatException {
        Long time = timeFlag ? this.time.sixBytes(in) : null;
        in.check(in.remaining() > 0, "no float groups", in.pos);
        Set<Integer> streams = new HashSet<>();
        while (in.remaining() > 0) {
            int groupAt = in.pos;
            in.check(in.remaining() >= 4, "truncated group header (" + in.remaining() + " of 4 bytes)", groupAt);
            int id = in.u16("stream id");
            int count = in.u16("count");
            in.check(id != 0, "stream id 0", groupAt);
            in.check(count >= 1 && count <= MAX_TYPE7_COUNT,
                    "count " + count + " of stream " + id + " is outside 1.." + MAX_TYPE7_COUNT, groupAt + 2);
            in.check(type7 == Type7Mode.ONE_STREAM || id + count - 1 <= 0xFFFF,
                    count + " floats from stream " + id + " run past stream 65535", groupAt);
            in.check(in.remaining() >= 4 * count, "truncated floats: stream " + id + " declares " + count
                    + " floats (" + 4 * count + " bytes), " + in.remaining() + " bytes remain", in.pos);
            boolean consecutive = type7 == Type7Mode.CONSECUTIVE_STREAMS;
            for (int i = 0; i < count; i++) {
                int floatAt = in.pos;
                float f = Float.intBitsToFloat(Integer.reverseBytes((int) in.u32("float")));
                int stream = consecutive ? id + i : id;
                if (streams.add(stream) && streams.size() > MAX_TYPE7_STREAMS) {
                    throw in.fail("more than " + MAX_TYPE7_STREAMS + " streams", floatAt);
                }
                Long at = time == null || consecutive ? time : Long.valueOf(time + i);
                in.add(Datapoint.ofFloat32(Integer.toString(stream), at, f), floatAt);
            }
        }
    }
}
