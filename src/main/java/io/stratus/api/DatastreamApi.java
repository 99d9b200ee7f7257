package io.stratus.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import io.stratus.device.Device;
import io.stratus.device.DeviceRegistry;
import io.stratus.telemetry.Datastream;
import io.stratus.telemetry.StreamIds;
import io.stratus.telemetry.Telemetry;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * {@code /devices/{id}/datastreams}: OneNET 6.2. Streams are also created by their first point (D13,
 * docs/decisions.md).
 */
final class DatastreamApi {
    static final int MAX_STREAM_ID = 256;

    private final DeviceRegistry registry;
    private final Telemetry telemetry;
    private final Times times;

    DatastreamApi(DeviceRegistry registry, Telemetry telemetry, Times times) {
        this.registry = registry;
        this.telemetry = telemetry;
        this.times = times;
    }

    /** {@code POST}: {@code {"id","tags","unit","unit_symbol"}} -> {@code {"ds_uuid"}}; errno 11 when it exists. */
    Object create(Context ctx, Access caller) {
        Device d = caller.deviceOfStreams(ctx, registry);
        JsonBody body = JsonBody.read(ctx);
        String id = body.requiredText("id", MAX_STREAM_ID);
        String problem = StreamIds.check(id); // its points are forwarded to /{device_id}/{id}
        if (problem != null) {
            throw ApiError.invalid(problem);
        }
        caller.checkStream(d, id);
        if (!telemetry.createStream(d.id(), id, body.text("unit", 64), body.text("unit_symbol", 64), body.strings("tags", 64, 64))) {
            throw new ApiError(Errno.DATASTREAM_EXISTS, id);
        }
        return Map.of("ds_uuid", telemetry.stream(d.id(), id).orElseThrow().uuid());
    }

    Object update(Context ctx, Access caller) {
        Device d = caller.deviceOfStreams(ctx, registry);
        String id = ctx.pathParam("ds");
        caller.checkStream(d, id);
        JsonBody body = JsonBody.read(ctx);
        if (!telemetry.updateStream(d.id(), id, body.text("unit", 64), body.text("unit_symbol", 64), body.strings("tags", 64, 64))) {
            throw ApiError.notFound("datastream not found: " + id);
        }
        return null;
    }

    Object get(Context ctx, Access caller) {
        Device d = caller.deviceOfStreams(ctx, registry);
        String id = ctx.pathParam("ds");
        caller.checkStream(d, id);
        return json(telemetry.stream(d.id(), id).orElseThrow(() -> ApiError.notFound("datastream not found: " + id)));
    }

    /**
     * {@code GET ...?datastream_ids=a,b}: the named streams (all without the parameter), leaving out those a
     * device-level key does not grant.
     */
    Object list(Context ctx, Access caller) {
        Device d = caller.deviceOfStreams(ctx, registry);
        String ids = Params.text(ctx, "datastream_ids");
        List<String> wanted = ids == null ? List.of() : Arrays.stream(ids.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        return telemetry.streams(d.id(), wanted).stream().filter(s -> caller.mayUseStream(d, s.id())).map(this::json).toList();
    }

    Object delete(Context ctx, Access caller) {
        Device d = caller.deviceOfStreams(ctx, registry);
        String id = ctx.pathParam("ds");
        caller.checkStream(d, id);
        if (!telemetry.deleteStream(d.id(), id)) {
            throw ApiError.notFound("datastream not found: " + id);
        }
        return null;
    }

    private ObjectNode json(Datastream s) {
        ObjectNode n = JsonBody.MAPPER.createObjectNode();
        n.put("id", s.id());
        n.put("uuid", s.uuid());
        n.put("create_time", times.format(s.createTime()));
        n.put("update_at", times.format(s.updateTime()));
        n.put("unit", s.unit());
        n.put("unit_symbol", s.unitSymbol());
        n.set("tags", JsonBody.MAPPER.valueToTree(s.tags()));
        if (s.latestAt() != null) {
            n.set("current_value", Values.parse(s.latestValueJson()));
            n.put("at", telemetry.formatTime(s.latestAt()));
        }
        return n;
    }
}
