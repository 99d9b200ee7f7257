package io.stratus.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stratus.device.Device;
import io.stratus.device.DeviceChange;
import java.util.Locale;

/** A device's fields on the wire (OneNET 6.1): read from a request body, written into replies. */
final class DeviceFields {
    static final int MAX_TITLE = 128;
    static final int MAX_DESC = 1024;
    /** OneNET's limit of a serial number ({@code sn} of register_de). */
    static final int MAX_AUTH_INFO = 512;
    static final int MAX_TAGS = 64;
    static final int MAX_TAG = 64;

    private DeviceFields() {
    }

    /**
     * The fields of a body; on create, {@code title} and {@code auth_info} are required (errno 7). A null
     * field of the result means "not given": defaulted on create, left as it is on update.
     */
    static DeviceChange read(JsonBody body, boolean create) {
        String title = create ? body.requiredText("title", MAX_TITLE) : body.nonEmptyText("title", MAX_TITLE);
        String authInfo = create ? body.requiredText("auth_info", MAX_AUTH_INFO) : body.nonEmptyText("auth_info", MAX_AUTH_INFO);
        return new DeviceChange(title, body.text("desc", MAX_DESC), authInfo, protocol(body), body.bool("private"),
                body.bool("disabled"), body.strings("tags", MAX_TAGS, MAX_TAG), location(body), jsonText(body.object("other")));
    }

    /**
     * The {@code protocol} field of a product or device: Stratus serves MQTT only, so OneNET's other
     * protocols (EDP, HTTP, ...) are errno 6. Case-insensitive; null when not given.
     */
    static String protocol(JsonBody body) {
        String protocol = body.text("protocol", 16);
        if (protocol == null) {
            return null;
        }
        if (!protocol.toUpperCase(Locale.ROOT).equals("MQTT")) {
            throw ApiError.invalid("protocol must be MQTT");
        }
        return "MQTT";
    }

    /** {@code {"lon":109,"lat":23.54}}, optionally with {@code ele}; each given coordinate must be a number. */
    private static String location(JsonBody body) {
        ObjectNode location = body.object("location");
        if (location == null) {
            return null;
        }
        for (String coordinate : new String[] {"lon", "lat", "ele"}) {
            JsonNode v = location.get(coordinate);
            if (v != null && !v.isNull() && !v.isNumber()) {
                throw ApiError.invalid("location." + coordinate + " must be a number");
            }
        }
        return jsonText(location);
    }

    private static String jsonText(ObjectNode node) {
        if (node == null) {
            return null;
        }
        try {
            return JsonBody.MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The device as {@code GET /devices/{id}} shows it; lists leave out {@code datastreams}, and {@code auth_info} is
     * left out for callers that may not see it (Access#maySeeAuthInfo).
     */
    static ObjectNode json(Device d, boolean online, Times times, boolean withDatastreams, boolean withAuthInfo) {
        ObjectNode o = JsonBody.MAPPER.createObjectNode();
        o.put("id", String.valueOf(d.id()));
        o.put("product_id", String.valueOf(d.productId())); // a Stratus extension: OneNET's reply leaves it out
        o.put("title", d.title());
        o.put("desc", d.description());
        ArrayNode tags = o.putArray("tags");
        d.tags().forEach(tags::add);
        o.set("location", parse(d.locationJson()));
        o.put("private", d.isPrivate());
        o.put("protocol", d.protocol());
        o.put("create_time", times.format(d.createTime()));
        o.put("online", online);
        if (withAuthInfo) {
            o.put("auth_info", d.authInfo());
        }
        o.set("other", parse(d.otherJson()));
        o.put("disabled", d.disabled());
        o.put("last_login", times.format(d.lastLogin()));
        o.put("last_logout", times.format(d.lastLogout()));
        if (withDatastreams) {
            // Data streams arrive with the telemetry package; until then a device has none.
            o.putArray("datastreams");
        }
        return o;
    }

    private static JsonNode parse(String json) {
        if (json == null) {
            return JsonBody.MAPPER.nullNode();
        }
        try {
            return JsonBody.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            return JsonBody.MAPPER.nullNode();
        }
    }
}
