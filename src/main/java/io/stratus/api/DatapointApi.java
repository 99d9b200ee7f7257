package io.stratus.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import io.stratus.device.Device;
import io.stratus.device.DeviceRegistry;
import io.stratus.telemetry.Cursor;
import io.stratus.telemetry.Datapoint;
import io.stratus.telemetry.Datastream;
import io.stratus.telemetry.DpFormatException;
import io.stratus.telemetry.HistoryPage;
import io.stratus.telemetry.HistoryQuery;
import io.stratus.telemetry.SampledHistory;
import io.stratus.telemetry.StreamIds;
import io.stratus.telemetry.Telemetry;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/** Data points (OneNET 6.3): upload, history, latest values of many devices, and binary points. */
final class DatapointApi {
    static final int MAX_BINARY_BYTES = 800 * 1024;
    static final int MAX_LATEST_DEVICES = 1000;

    private final DeviceRegistry registry;
    private final Telemetry telemetry;
    private final Times times;

    DatapointApi(DeviceRegistry registry, Telemetry telemetry, Times times) {
        this.registry = registry;
        this.telemetry = telemetry;
        this.times = times;
    }

    /**
     * {@code POST /devices/{id}/datapoints[?type=1|3|4|5]}: the body of a `$dp` type 1, 3 or 4 (JSON) or 5 (separated
     * string), decoded by the `$dp` rules; replies once stored.
     */
    Object upload(Context ctx, Access caller) throws Exception {
        Device d = caller.deviceOfStreams(ctx, registry);
        int type = Params.integer(ctx, "type", 1, 5, 1);
        if (type == 2) {
            throw ApiError.invalid("type must be 1, 3, 4 or 5 (binary points go to POST /bindata)");
        }
        byte[] body = JsonBody.readLimited(ctx, JsonBody.MAX_BYTES);
        if (new String(body, StandardCharsets.UTF_8).isBlank()) {
            throw new ApiError(Errno.ENTITY_REQUIRED); // as JsonBody.read: an empty or blank body is errno 9
        }
        List<Datapoint> points;
        try {
            points = telemetry.decodeUpload(type, body);
        } catch (DpFormatException e) {
            // Only a body that does not parse is errno 4; valid JSON of the wrong shape (an array, no value) is 6.
            throw new ApiError(e.getMessage().contains("invalid JSON") ? Errno.INVALID_JSON : Errno.INVALID_PARAMETER,
                    e.getMessage());
        }
        for (Datapoint p : points) {
            caller.checkStream(d, p.stream()); // all or nothing: nothing is stored when one stream is not granted
        }
        StoreWait.await(telemetry.upload(d.productId(), d.id(), points));
        return null;
    }

    /** {@code GET /devices/{id}/datapoints}: history; see {@link HistoryQuery} for the window rules. */
    Object history(Context ctx, Access caller) {
        Device d = caller.deviceOfStreams(ctx, registry);
        String ids = Params.text(ctx, "datastream_id");
        List<String> streams = readable(caller, d, ids == null ? List.of()
                : Arrays.stream(ids.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList());
        if (streams == null) {
            ObjectNode none = JsonBody.MAPPER.createObjectNode().put("count", 0);
            none.putArray("datastreams");
            return none;
        }
        String start = Params.text(ctx, "start");
        String end = Params.text(ctx, "end");
        String duration = Params.text(ctx, "duration");
        Long durationMillis = null;
        if (duration != null) {
            durationMillis = Params.integer(ctx, "duration", 0, Integer.MAX_VALUE, 0) * 1000L;
        }
        String sort = Params.text(ctx, "sort");
        if (sort != null && !sort.equalsIgnoreCase("ASC") && !sort.equalsIgnoreCase("DESC")) {
            throw ApiError.invalid("sort must be ASC or DESC");
        }
        String cursorText = Params.text(ctx, "cursor");
        Cursor cursor = cursorText == null ? null : Cursor.decode(cursorText);
        if (cursorText != null && cursor == null) {
            throw ApiError.invalid("cursor is not one this server returned");
        }
        HistoryQuery q = new HistoryQuery(streams, start == null ? null : times.parse(start, "start"),
                end == null ? null : times.parse(end, "end"), durationMillis,
                Params.integer(ctx, "limit", 1, HistoryQuery.MAX_LIMIT, HistoryQuery.DEFAULT_LIMIT),
                "DESC".equalsIgnoreCase(sort), cursor);
        int downsample = Params.integer(ctx, "downsample", 1, Telemetry.MAX_BUCKETS, 0);
        if (downsample > 0) {
            if (cursor != null) {
                throw ApiError.invalid("cursor cannot be combined with downsample");
            }
            return sampled(d, q, downsample);
        }
        HistoryPage page = telemetry.history(d.id(), q);
        PointsReply reply = new PointsReply(page.points(), telemetry::formatTime);
        return page.next() == null ? reply : reply.with("cursor", page.next().encode());
    }

    /**
     * The Stratus extension {@code downsample=N} (1..2000) of the history query, for charts: the whole window
     * (no {@code limit} or {@code cursor}); a stream with more than 2N points there is cut into N time buckets
     * that keep their minimum and maximum point. The reply says {@code "downsampled":true} (with
     * {@code bucket_ms}) when that happened, and each stream carries {@code total}, its point count in the window.
     */
    private Object sampled(Device d, HistoryQuery q, int buckets) {
        SampledHistory h = telemetry.sampled(d.id(), q, buckets);
        PointsReply reply = new PointsReply(h.points(), telemetry::formatTime).with("downsampled", h.downsampled())
                .withTotals(h.totals());
        return h.downsampled() ? reply.with("bucket_ms", h.bucketMillis()) : reply;
    }

    /**
     * The streams a history query may read: those asked for, each checked (errno 3); without a list, all of them
     * (the empty list) for a caller granted the whole device, else the existing streams a device-level key grants,
     * or null when it grants none of them.
     */
    private List<String> readable(Access caller, Device d, List<String> asked) {
        if (!asked.isEmpty()) {
            asked.forEach(s -> caller.checkStream(d, s));
            return asked;
        }
        if (caller.mayUseStream(d, null)) {
            return asked;
        }
        List<String> granted = telemetry.streams(d.id(), List.of()).stream().map(Datastream::id)
                .filter(s -> caller.mayUseStream(d, s)).toList();
        return granted.isEmpty() ? null : granted;
    }

    /** {@code GET /devices/datapoints?devIds=a,b}: the latest value of every stream of each device. */
    Object latest(Context ctx, Access caller) {
        List<Long> ids = Params.ids(ctx, "devIds", MAX_LATEST_DEVICES);
        if (ids == null) {
            throw ApiError.required("devIds");
        }
        ArrayNode devices = JsonBody.MAPPER.createArrayNode();
        for (long id : ids) {
            Device d = registry.device(id).orElse(null);
            if (d == null || !caller.maySee(d)) {
                continue; // as GET /devices/status: ids the caller cannot see are left out
            }
            ObjectNode dev = devices.addObject().put("id", String.valueOf(d.id())).put("title", d.title());
            ArrayNode streams = dev.putArray("datastreams");
            for (Datastream s : telemetry.streams(d.id(), List.of())) {
                if (s.latestAt() != null && caller.mayUseStream(d, s.id())) {
                    streams.addObject().put("id", s.id()).put("at", telemetry.formatTime(s.latestAt()))
                            .set("value", Values.parse(s.latestValueJson()));
                }
            }
        }
        ObjectNode data = JsonBody.MAPPER.createObjectNode();
        data.set("devices", devices);
        return data;
    }

    /**
     * {@code POST /bindata?device_id=&datastream_id=&desc=}: a file up to 800 KiB -> {@code {"index"}}; the raw body,
     * or the file part of a {@code multipart/form-data} body (OneNET's Java SDK).
     */
    Object uploadBinary(Context ctx, Access caller) throws Exception {
        long deviceId = Params.id(ctx, "device_id").orElseThrow(() -> ApiError.required("device_id"));
        Device d = registry.device(deviceId).orElseThrow(() -> ApiError.notFound("device not found: " + deviceId));
        caller.checkProduct(d.productId());
        String stream = Params.text(ctx, "datastream_id");
        if (stream == null) {
            throw ApiError.required("datastream_id");
        }
        String badId = StreamIds.check(stream); // /bindata does not pass the $dp decoder, which checks the others
        if (badId != null) {
            throw ApiError.invalid(badId);
        }
        caller.checkStream(d, stream);
        byte[] content = ctx.isMultipartFormData() ? MultipartFile.read(ctx, MAX_BINARY_BYTES)
                : JsonBody.readLimited(ctx, MAX_BINARY_BYTES);
        if (content.length == 0) {
            throw new ApiError(Errno.ENTITY_REQUIRED);
        }
        return Map.of("index", StoreWait.await(telemetry.uploadBinary(d.productId(), d.id(), stream, Params.text(ctx, "desc"), content)));
    }

    /** {@code GET /bindata/{index}}: the raw bytes. */
    void binary(Context ctx, Access caller) {
        String index = ctx.pathParam("index");
        Telemetry.BinaryPoint b = telemetry.binary(index).orElseThrow(() -> ApiError.notFound("bindata not found: " + index));
        Device d = registry.device(b.deviceId()).orElseThrow(() -> ApiError.notFound("bindata not found: " + index));
        caller.checkStream(d, b.stream());
        ctx.contentType("application/octet-stream").result(b.content());
    }
}
