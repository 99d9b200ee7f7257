package io.stratus.telemetry;

import static io.stratus.telemetry.DpInput.quote;

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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** The {@code $dp} types that carry JSON: 1, 3 and 4, and type 2, whose JSON header precedes its blob. */
final class DpJson {
    // D23 (docs/decisions.md): floats as doubles, integers as int/long nodes; strict JSON (no NaN, comments, trailing
    // tokens, duplicate keys).
    private static final ObjectMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final DpTime time;

    DpJson(DpTime time) {
        this.time = time;
    }

    /** Type 1: {@code {"datastreams":[{"id":..,"datapoints":[{"at":..,"value":..}]}]}}. */
    void type1(DpInput in) throws DpFormatException {
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
    void type2(DpInput in) throws DpFormatException {
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
        in.check(length <= DpDecoder.MAX_BINARY_BYTES,
                "binary length " + length + " exceeds " + DpDecoder.MAX_BINARY_BYTES + " bytes (3 MiB)", lengthAt);
        in.check(length <= in.remaining(),
                "binary length " + length + " goes beyond the payload (" + in.payload.length + " bytes)", lengthAt);
        byte[] blob = Arrays.copyOfRange(in.payload, in.pos, in.pos + (int) length);
        in.pos += (int) length;
        in.add(Datapoint.ofBinary(id, time, blob, desc), lengthAt);
    }

    /** Type 3: {@code {"stream": value, ...}}. */
    void type3(DpInput in) throws DpFormatException {
        int at = in.pos + 2;
        JsonNode root = json(in, "JSON");
        in.check(root.isObject(), "JSON must be an object", at);
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String id = nonEmptyKey(in, e.getKey(), at);
            in.add(Datapoint.of(id, null, value(in, e.getValue(), "value of \"" + id + "\"", at)), at);
        }
    }

    /** Type 4: {@code {"stream": {"datetime": value, ...}, ...}}. */
    void type4(DpInput in) throws DpFormatException {
        int at = in.pos + 2;
        JsonNode root = json(in, "JSON");
        in.check(root.isObject(), "JSON must be an object", at);
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String id = nonEmptyKey(in, e.getKey(), at);
            in.check(e.getValue().isObject(), "value of \"" + id + "\" must be an object of datetime -> value", at);
            for (Map.Entry<String, JsonNode> p : e.getValue().properties()) {
                Long t = time.parse(p.getKey());
                if (t == null) {
                    throw in.fail("key " + quote(p.getKey()) + " of \"" + id + "\" is not a datetime", at);
                }
                in.add(Datapoint.of(id, t, value(in, p.getValue(), "\"" + id + "\"." + quote(p.getKey()), at)), at);
            }
        }
    }

    private Long optionalTime(DpInput in, JsonNode node, String where, int at) throws DpFormatException {
        if (node == null) {
            return null;
        }
        Long t = node.isTextual() ? time.parse(node.textValue()) : null;
        if (t == null) {
            throw in.fail(where + " must be a datetime string (yyyy-MM-dd HH:mm:ss)", at);
        }
        return t;
    }

    /** Parses and normalizes the JSON of a {@code u16 len} + JSON section. */
    private static JsonNode json(DpInput in, String what) throws DpFormatException {
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
    private static JsonNode normalize(DpInput in, JsonNode node, int at) throws DpFormatException {
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

    private static JsonNode finite(DpInput in, double d, int at) throws DpFormatException {
        in.check(Double.isFinite(d), "JSON number beyond the double range", at);
        return DoubleNode.valueOf(d);
    }

    private static JsonNode value(DpInput in, JsonNode node, String where, int at) throws DpFormatException {
        in.check(node != null && !node.isNull(), where + " is missing or null", at);
        return node;
    }

    private static String name(DpInput in, JsonNode node, String where, int at) throws DpFormatException {
        in.check(node != null && node.isTextual() && !node.textValue().isEmpty(),
                where + " must be a non-empty string", at);
        return node.textValue();
    }

    private static String nonEmptyKey(DpInput in, String key, int at) throws DpFormatException {
        in.check(!key.isEmpty(), "empty stream name", at);
        return key;
    }
}
