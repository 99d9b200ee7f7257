package io.stratus.telemetry;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.IntSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decodes the payload of a {@code $dp} PUBLISH (spec onenet-protocol.md §3) into data points.
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
 * <p>Where the spec is silent, this decoder rejects: a null {@code value} (any JSON type), duplicate JSON keys, JSON
 * numbers beyond the double range, empty type-5/6 fields or parts, and a type 7 without groups. Valid JSON that
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

    // D23: floats as doubles, integers as int/long nodes; strict JSON (no NaN, comments, trailing tokens, duplicate keys).
    private static final ObjectMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();
    // D3: yyyy-MM-dd HH:mm:ss or yyyy-MM-ddTHH:mm:ss, optional .S to .SSS, optional Z or +hh:mm.
    private static final Pattern DATETIME = Pattern.compile(
            "(\\d{4})-(\\d{2})-(\\d{2})[ T](\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d{1,3}))?(Z|[+-]\\d{2}:\\d{2})?");

    private final ZoneId stringZone;
    private final ZoneId binaryZone;
    private final Type7Mode type7;

    /**
     * @param stringZone the zone of datetime strings without an offset ({@code dp.timezone})
     * @param binaryZone the zone of the six-byte times of types 6 and 7 ({@code dp.binary-timezone})
     */
    public DpDecoder(ZoneId stringZone, ZoneId binaryZone, Type7Mode type7) {
        this.stringZone = Objects.requireNonNull(stringZone, "stringZone");
        this.binaryZone = Objects.requireNonNull(binaryZone, "binaryZone");
        this.type7 = Objects.requireNonNull(type7, "type7");
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
        In in = new In(payload, type);
        switch (type) {
            case 1 -> type1(in);
            case 2 -> type2(in);
            case 3 -> type3(in);
            case 4 -> type4(in);
            case 5 -> type5(in);
            case 6 -> type6(in, timeFlag);
            default -> type7(in, timeFlag);
        }
        if (in.pos < payload.length) {
            throw in.fail((payload.length - in.pos) + " bytes after the declared length", in.pos);
        }
        return List.copyOf(in.points);
    }

    @Override
    public String toString() {
        return "DpDecoder[stringZone=" + stringZone + ", binaryZone=" + binaryZone + ", type7=" + type7 + "]";
    }

    /** Type 1: {@code {"datastreams":[{"id":..,"datapoints":[{"at":..,"value":..}]}]}}. */
    private void type1(In in) throws DpFormatException {
        int at = in.pos + 2;
        JsonNode root = json(in, "JSON");
        in.check(root.isObject(), "JSON must be an object", at);
        JsonNode streams = root.get("datastreams");
        in.check(streams != null && streams.isArray(), "datastreams must be an array", at);
        for (int i = 0; i < streams.size(); i++) {
            String where = "datastreams[" + i + "]";
            JsonNode stream = streams.get(i);
            in.check(stream.isObject(), where + " must be an object", at);
            String id = name(in, stream.get("id"), where + ".id", at);
            JsonNode points = stream.get("datapoints");
            in.check(points != null && points.isArray(), where + ".datapoints must be an array", at);
            for (int j = 0; j < points.size(); j++) {
                String pointWhere = where + ".datapoints[" + j + "]";
                JsonNode point = points.get(j);
                in.check(point.isObject(), pointWhere + " must be an object", at);
                Long time = optionalTime(in, point.get("at"), pointWhere + ".at", at);
                in.add(Datapoint.of(id, time, value(in, point.get("value"), pointWhere + ".value", at)), at);
            }
        }
    }

    /** Type 2: u16 + JSON header {@code {"ds_id","at","desc"}} + u32 + blob. */
    private void type2(In in) throws DpFormatException {
        int at = in.pos + 2;
        JsonNode header = json(in, "JSON header");
        in.check(header.isObject(), "JSON header must be an object", at);
        String id = name(in, header.get("ds_id"), "ds_id", at);
        Long time = optionalTime(in, header.get("at"), "at", at);
        JsonNode descNode = header.get("desc");
        String desc = descNode == null || descNode.isNull() ? null
                : descNode.isTextual() ? descNode.textValue() : descNode.toString();
        int lengthAt = in.pos;
        long length = in.u32("binary length");
        in.check(length <= MAX_BINARY_BYTES,
                "binary length " + length + " exceeds " + MAX_BINARY_BYTES + " bytes (3 MiB)", lengthAt);
        in.check(length <= in.remaining(),
                "binary length " + length + " goes beyond the payload (" + in.payload.length + " bytes)", lengthAt);
        byte[] blob = Arrays.copyOfRange(in.payload, in.pos, in.pos + (int) length);
        in.pos += (int) length;
        in.add(Datapoint.ofBinary(id, time, blob, desc), lengthAt);
    }

    /** Type 3: {@code {"stream": value, ...}}. */
    private void type3(In in) throws DpFormatException {
        int at = in.pos + 2;
        JsonNode root = json(in, "JSON");
        in.check(root.isObject(), "JSON must be an object", at);
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String id = nonEmptyKey(in, e.getKey(), at);
            in.add(Datapoint.of(id, null, value(in, e.getValue(), "value of \"" + id + "\"", at)), at);
        }
    }

    /** Type 4: {@code {"stream": {"datetime": value, ...}, ...}}. */
    private void type4(In in) throws DpFormatException {
        int at = in.pos + 2;
        JsonNode root = json(in, "JSON");
        in.check(root.isObject(), "JSON must be an object", at);
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String id = nonEmptyKey(in, e.getKey(), at);
            in.check(e.getValue().isObject(), "value of \"" + id + "\" must be an object of datetime -> value", at);
            for (Map.Entry<String, JsonNode> p : e.getValue().properties()) {
                Long time = time(p.getKey());
                if (time == null) {
                    throw in.fail("key " + quote(p.getKey()) + " of \"" + id + "\" is not a datetime", at);
                }
                in.add(Datapoint.of(id, time, value(in, p.getValue(), "\"" + id + "\"." + quote(p.getKey()), at)), at);
            }
        }
    }

    /** Type 5: u16 + separated string. */
    private void type5(In in) throws DpFormatException {
        fields(in, null);
    }

    /** Type 6: [six time bytes] + u16 + separated string; fields without a time take the header time (or none). */
    private void type6(In in, boolean timeFlag) throws DpFormatException {
        fields(in, timeFlag ? sixByteTime(in) : null);
    }

    /** Type 7: [six time bytes] + groups {u16 ds_id, u16 count, count x float32 LE} to the end. */
    private void type7(In in, boolean timeFlag) throws DpFormatException {
        Long time = timeFlag ? sixByteTime(in) : null;
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

    /** Types 5 and 6: char0 separates inside a field, char1 between fields; {@code value | id,value | id,time,value}. */
    private void fields(In in, Long defaultTime) throws DpFormatException {
        int length = in.length("string");
        int start = in.pos;
        String text = utf8(in, start, length);
        in.pos += length;
        in.check(text.codePointCount(0, text.length()) >= 2, "string needs two separator characters", start);
        String inside = new String(Character.toChars(text.codePointAt(0)));
        String between = new String(Character.toChars(text.codePointAt(inside.length())));
        in.check(!inside.equals(between), "separators must differ (both " + quote(inside) + ")", start);
        int from = inside.length() + between.length();
        in.check(from < text.length(), "no fields after the separators", start);
        for (int index = 0; from <= text.length(); index++) {
            int end = text.indexOf(between, from);
            end = end < 0 ? text.length() : end;
            field(in, text, from, end, index, inside, defaultTime, start);
            from = end + between.length();
        }
    }

    private void field(In in, String text, int from, int end, int index, String inside, Long defaultTime, int start)
            throws DpFormatException {
        // Byte offset of the field, computed only for an error: eagerly it would be quadratic in the field count.
        IntSupplier at = () -> start + text.substring(0, from).getBytes(StandardCharsets.UTF_8).length;
        List<String> parts = new ArrayList<>(3);
        for (int p = from; parts.size() < 4; ) {
            int q = text.indexOf(inside, p);
            if (q < 0 || q >= end) {
                parts.add(text.substring(p, end));
                break;
            }
            parts.add(text.substring(p, q));
            p = q + inside.length();
        }
        if (parts.size() > 3) {
            throw in.fail("field " + index + " has more than 3 parts", at.getAsInt());
        }
        if (parts.contains("")) {
            throw in.fail("field " + index + " has an empty part", at.getAsInt());
        }
        String id = parts.size() == 1 ? Integer.toString(index) : parts.get(0);
        Long time = defaultTime;
        if (parts.size() == 3) {
            time = time(parts.get(1));
            if (time == null) {
                throw in.fail("field " + index + ": " + quote(parts.get(1)) + " is not a datetime", at.getAsInt());
            }
        }
        in.add(Datapoint.ofText(id, time, parts.get(parts.size() - 1)), at);
    }

    /** Six bytes YY MM DD hh mm ss (year 2000 + YY) in the binary zone (D2). */
    private Long sixByteTime(In in) throws DpFormatException {
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

    /** D3 datetime string as epoch millis (the string zone unless it has an offset), or null if it is not one. */
    private Long time(String text) {
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

    private Long optionalTime(In in, JsonNode node, String where, int at) throws DpFormatException {
        if (node == null) {
            return null;
        }
        Long time = node.isTextual() ? time(node.textValue()) : null;
        if (time == null) {
            throw in.fail(where + " must be a datetime string (yyyy-MM-dd HH:mm:ss)", at);
        }
        return time;
    }

    /** Parses and normalizes the JSON of a {@code u16 len} + JSON section. */
    private static JsonNode json(In in, String what) throws DpFormatException {
        int length = in.length(what);
        int start = in.pos;
        // JSON here is UTF-8 (RFC 8259 §8.1). Jackson would take leading NUL bytes as UTF-16/32; no valid JSON has one.
        for (int i = start; i < start + Math.min(length, 4); i++) {
            in.check(in.payload[i] != 0, "invalid JSON: NUL byte (UTF-16 or UTF-32 is not accepted)", i);
        }
        JsonNode root;
        try {
            root = JSON.readTree(in.payload, start, length);
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            long offset = loc == null ? -1 : loc.getByteOffset();
            int at = offset < 0 ? start : (int) Math.min(start + length, start + offset);
            String reason = String.valueOf(e.getOriginalMessage());
            // Jackson appends a source location that says nothing here ("start marker at [Source: REDACTED ...").
            reason = reason.replaceAll("(?s)\\s*\\(?start marker at \\[Source.*", "").replaceAll("\\s+", " ");
            throw in.fail("invalid JSON: " + (reason.length() > 120 ? reason.substring(0, 120) + "..." : reason), at);
        } catch (IOException e) {
            throw in.fail("invalid JSON", start);
        }
        in.check(root != null && !root.isMissingNode(), "empty JSON", start);
        in.pos += length;
        return normalize(in, root, start);
    }

    /** D23: integers beyond long become doubles; numbers beyond double range are errors. */
    private static JsonNode normalize(In in, JsonNode node, int at) throws DpFormatException {
        if (node.isBigInteger()) {
            return finite(in, node.bigIntegerValue().doubleValue(), at);
        }
        if (node.isFloatingPointNumber()) {
            return finite(in, node.doubleValue(), at);
        }
        if (node instanceof ObjectNode object) {
            List<Map.Entry<String, JsonNode>> changed = new ArrayList<>();
            for (Map.Entry<String, JsonNode> e : object.properties()) {
                JsonNode n = normalize(in, e.getValue(), at);
                if (n != e.getValue()) {
                    changed.add(Map.entry(e.getKey(), n));
                }
            }
            changed.forEach(e -> object.replace(e.getKey(), e.getValue()));
        } else if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                JsonNode n = normalize(in, array.get(i), at);
                if (n != array.get(i)) {
                    array.set(i, n);
                }
            }
        }
        return node;
    }

    private static JsonNode finite(In in, double d, int at) throws DpFormatException {
        in.check(Double.isFinite(d), "JSON number beyond the double range", at);
        return DoubleNode.valueOf(d);
    }

    private static JsonNode value(In in, JsonNode node, String where, int at) throws DpFormatException {
        in.check(node != null && !node.isNull(), where + " is missing or null", at);
        return node;
    }

    private static String name(In in, JsonNode node, String where, int at) throws DpFormatException {
        in.check(node != null && node.isTextual() && !node.textValue().isEmpty(),
                where + " must be a non-empty string", at);
        return node.textValue();
    }

    private static String nonEmptyKey(In in, String key, int at) throws DpFormatException {
        in.check(!key.isEmpty(), "empty stream name", at);
        return key;
    }

    private static String utf8(In in, int start, int length) throws DpFormatException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer bytes = ByteBuffer.wrap(in.payload, start, length);
        CharBuffer chars = CharBuffer.allocate(length);
        CoderResult result = decoder.decode(bytes, chars, true);
        if (!result.isError()) {
            result = decoder.flush(chars);
        }
        if (result.isError()) {
            throw in.fail("string is not valid UTF-8", bytes.position());
        }
        return chars.flip().toString();
    }

    private static String quote(String s) {
        return "\"" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "\"";
    }

    /** The read position in one payload, and the points decoded so far. */
    private static final class In {
        final byte[] payload;
        final int type;
        final List<Datapoint> points = new ArrayList<>();
        int pos = 1;

        In(byte[] payload, int type) {
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
            if (points.size() == MAX_POINTS) {
                throw fail("more than " + MAX_POINTS + " data points", at.getAsInt());
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
    }
}
