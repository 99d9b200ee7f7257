package io.stratus.hook;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stratus.telemetry.Datastream;
import io.stratus.telemetry.StoredPoint;
import io.stratus.telemetry.Telemetry;
import java.net.URI;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Builds the body a fired trigger POSTs to its URL (API §6.4, docs/decisions.md) and hands it to {@link Delivery}:
 * <pre>{"trigger":{"id":123809,"threshold":9.0,"type":">"},
 *  "current_data":[{"dev_id":"2656","ds_id":"gps","ds_uuid":"…","at":"2009-09-07T12:16:02.001Z","value":100}]}</pre>
 * One POST per trigger and stored batch of one device, listing every point of the batch that fired, in arrival
 * order. {@code at} is ISO-8601 in UTC with milliseconds, as in OneNET's example; {@code dev_id} is a string, as
 * there. {@code ds_uuid} is looked up in the store here, on the dispatcher thread, never on ingest.
 */
final class TriggerPosts {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter AT = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private final Telemetry telemetry;
    private final Delivery delivery;

    TriggerPosts(Telemetry telemetry, Delivery delivery) {
        this.telemetry = telemetry;
        this.delivery = delivery;
    }

    void fire(Trigger t, long deviceId, List<StoredPoint> points) {
        send(t, () -> {
            Optional<Datastream> stream = telemetry.stream(deviceId, t.dsId());
            ObjectNode body = envelope(t);
            ArrayNode data = body.putArray("current_data");
            for (StoredPoint p : points) {
                ObjectNode entry = entry(data, t, deviceId, stream);
                entry.put("at", AT.format(Instant.ofEpochMilli(p.at())));
                entry.set("value", value(p.valueJson()));
            }
            return body;
        });
    }

    /** A frozen trigger: the stream's last point if there is one, else just which stream went quiet. */
    void fireSilent(Trigger t, long deviceId, StoredPoint lastSeen) {
        send(t, () -> {
            Optional<Datastream> stream = telemetry.stream(deviceId, t.dsId());
            ObjectNode body = envelope(t);
            ObjectNode entry = entry(body.putArray("current_data"), t, deviceId, stream);
            if (lastSeen != null) {
                entry.put("at", AT.format(Instant.ofEpochMilli(lastSeen.at())));
                entry.set("value", value(lastSeen.valueJson()));
            } else if (stream.isPresent() && stream.get().latestAt() != null) {
                entry.put("at", AT.format(Instant.ofEpochMilli(stream.get().latestAt())));
                entry.set("value", value(stream.get().latestValueJson()));
            }
            return body;
        });
    }

    private static ObjectNode envelope(Trigger t) {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode trigger = body.putObject("trigger");
        trigger.put("id", t.id());
        trigger.set("threshold", JSON.valueToTree(t.thresholdJson()));
        trigger.put("type", t.type().wire());
        return body;
    }

    private static ObjectNode entry(ArrayNode data, Trigger t, long deviceId, Optional<Datastream> stream) {
        ObjectNode entry = data.addObject();
        entry.put("dev_id", String.valueOf(deviceId));
        entry.put("ds_id", t.dsId());
        stream.ifPresent(s -> entry.put("ds_uuid", s.uuid()));
        return entry;
    }

    /**
     * A test post from the console: the trigger's body with one made-up point at its threshold, {@code "test":true},
     * and the first of its devices (or none). False when the delivery queue is full.
     */
    boolean test(Trigger t) {
        ObjectNode body = envelope(t);
        body.put("test", true);
        ObjectNode entry = data(body, t);
        entry.put("at", AT.format(Instant.now()));
        entry.set("value", JSON.valueToTree(t.type() == TriggerType.INOUT ? t.lolmt() : t.threshold()));
        try {
            return delivery.post(URI.create(t.url()), JSON.writeValueAsBytes(body), DeliveryLog.test(t.id()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode data(ObjectNode body, Trigger t) {
        ObjectNode entry = body.putArray("current_data").addObject();
        entry.put("dev_id", t.sortedDevIds().stream().findFirst().map(String::valueOf).orElse(""));
        entry.put("ds_id", t.dsId());
        return entry;
    }

    /** Queues the POST; the body (and its store lookup) is built only when the delivery queue has room. */
    private void send(Trigger t, Supplier<ObjectNode> body) {
        delivery.post(URI.create(t.url()), () -> {
            try {
                return JSON.writeValueAsBytes(body.get());
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }, DeliveryLog.trigger(t.id()));
    }

    private static JsonNode value(String valueJson) {
        try {
            return JSON.readTree(valueJson);
        } catch (JsonProcessingException e) {
            return JSON.getNodeFactory().textNode(valueJson);
        }
    }
}
