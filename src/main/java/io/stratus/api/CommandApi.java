package io.stratus.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import io.stratus.command.Command;
import io.stratus.command.CommandStatus;
import io.stratus.command.Commands;
import io.stratus.device.Device;
import io.stratus.device.DeviceRegistry;
import java.util.HexFormat;
import java.util.Map;

/** {@code /cmds} (OneNET §4): send a command, read its status, its response and a device's command history. */
final class CommandApi {
    static final int MAX_PER_PAGE = 100;
    static final int DEFAULT_PER_PAGE = 10;
    /** Longer than any id this server hands out ({@code UUID.toString()} is 36 characters). */
    private static final int MAX_UUID_LENGTH = 64;
    private static final HexFormat HEX = HexFormat.of();

    private final DeviceRegistry registry;
    private final Commands commands;
    private final Times times;

    CommandApi(DeviceRegistry registry, Commands commands, Times times) {
        this.registry = registry;
        this.commands = commands;
        this.times = times;
    }

    /**
     * {@code POST /cmds?device_id=&qos=0|1&timeout=0..2678400}, the raw body (1 byte to 64 KiB - 1) is the
     * command -> {@code {"cmd_uuid"}}. Errno 7 without device_id, 6 for a bad parameter, 8 for an unknown
     * device, 3 for another product's, 9 for an empty body, 5 for a larger one, 10 when {@code timeout=0}
     * and the device is offline.
     */
    Object send(Context ctx, Access caller) {
        caller.requireManager(); // OneNET: commands take the master key; device-level keys cover details and data
        long deviceId = Params.id(ctx, "device_id").orElseThrow(() -> ApiError.required("device_id"));
        int qos = Params.integer(ctx, "qos", 0, 1, 0);
        int timeout = Params.integer(ctx, "timeout", 0, Commands.MAX_TIMEOUT_SECONDS, 0);
        Device d = registry.device(deviceId).orElseThrow(() -> ApiError.notFound("device not found: " + deviceId));
        caller.checkProduct(d.productId());
        byte[] body = JsonBody.readLimited(ctx, Commands.MAX_BODY_BYTES);
        if (body.length == 0) {
            throw new ApiError(Errno.ENTITY_REQUIRED, "the request body is the command");
        }
        Command c = commands.send(d.productId(), d.id(), body, qos, timeout);
        return Map.of("cmd_uuid", c.uuid());
    }

    /** {@code GET /cmds/{uuid}} -> {@code {"status","desc"}}. */
    Object status(Context ctx, Access caller) {
        Command c = command(ctx, caller);
        ObjectNode o = JsonBody.MAPPER.createObjectNode();
        o.put("status", c.status().code);
        o.put("desc", c.status().desc);
        return o;
    }

    /**
     * {@code GET /cmds/{uuid}/resp} -> the device's response bytes as they came, only in status 4. Errno 6
     * when the response was too large to keep (status 6), errno 8 when there is none.
     */
    void response(Context ctx, Access caller) {
        Command c = command(ctx, caller);
        if (c.status() == CommandStatus.RESPONDED && c.response() != null) {
            ctx.contentType("application/octet-stream").result(c.response());
            return;
        }
        if (c.status() == CommandStatus.RESPONSE_TOO_LARGE) {
            throw ApiError.invalid("the response to command " + c.uuid() + " was over " + Commands.MAX_RESPONSE_BYTES
                    + " bytes and was not kept");
        }
        throw ApiError.notFound("no response to command " + c.uuid() + " (status " + c.status().code + ", "
                + c.status().desc + ")");
    }

    /**
     * {@code GET /cmds/history/{device_id}?start=&end=&page=&per_page=(<=100)}: the device's commands created
     * in [start, end], newest first -> {@code {page, per_page, total_count, items}}.
     */
    Object history(Context ctx, Access caller) {
        caller.requireManager();
        Device d = caller.device(ctx, registry);
        String start = Params.text(ctx, "start");
        String end = Params.text(ctx, "end");
        long from = start == null ? 0 : times.parse(start, "start");
        long to = end == null ? Long.MAX_VALUE : times.parse(end, "end");
        if (from > to) {
            throw ApiError.invalid("start must not be after end");
        }
        int page = Params.integer(ctx, "page", 1, Page.MAX_PAGE, 1);
        int perPage = Params.integer(ctx, "per_page", 1, MAX_PER_PAGE, DEFAULT_PER_PAGE);
        Commands.Page found = commands.history(d.id(), from, to, page, perPage);
        ObjectNode o = JsonBody.MAPPER.createObjectNode();
        o.put("page", page);
        o.put("per_page", perPage);
        o.put("total_count", found.total());
        ArrayNode items = o.putArray("items");
        for (Command c : found.commands()) {
            items.addObject()
                    .put("cmd_uuid", c.uuid())
                    .put("device_id", String.valueOf(c.deviceId()))
                    .put("create_time", times.format(c.createdAt()))
                    .put("expire_time", times.format(c.expireAt()))
                    .put("status", c.status().code)
                    .put("send_time", times.format(c.sentAt()))
                    .put("confirm_time", times.format(c.respondedAt()))
                    .put("confirm_body", c.response() == null ? null : HEX.formatHex(c.response()))
                    .put("body", c.body() == null ? null : HEX.formatHex(c.body()));
        }
        return o;
    }

    /** The command of the path: errno 8 when unknown, 3 when of a product the caller may not touch. */
    private Command command(Context ctx, Access caller) {
        caller.requireManager();
        String uuid = ctx.pathParam("uuid");
        Command c = (uuid.length() > MAX_UUID_LENGTH ? null : commands.find(uuid).orElse(null));
        if (c == null) {
            throw ApiError.notFound("command not found: " + uuid);
        }
        caller.checkProduct(c.productId());
        return c;
    }
}
