package io.stratus.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import io.stratus.device.Device;
import io.stratus.device.DeviceRegistry;
import io.stratus.hook.HookException;
import io.stratus.hook.HookUrl;
import io.stratus.hook.Trigger;
import io.stratus.hook.TriggerType;
import io.stratus.hook.Triggers;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * {@code /triggers}: OneNET 6.4. A trigger belongs to one product; the master key or the admin manages it
 * (a device-level key gets errno 3). Body: {@code {"title","ds_id","dev_ids"?,"url","type","threshold"}} with
 * type one of {@code > < >= <= inout change frozen live}; threshold a number, {@code {"lolmt","uplmt"}} for inout,
 * seconds for frozen and live, and not needed for change. No {@code dev_ids} (or an empty list): every device of
 * the product, including devices created later. What fires when is described in {@code io.stratus.hook.TriggerWatch}.
 */
final class TriggerApi {
    static final int MAX_TITLE = 128;
    static final int MAX_DEV_IDS = 1000;
    static final int MAX_PER_PAGE = 100;
    static final int DEFAULT_PER_PAGE = 30;
    /** Longest silence a frozen or live trigger may wait for: a year, in seconds. */
    static final double MAX_SILENCE_SECONDS = 365 * 24 * 3600;

    private final DeviceRegistry registry;
    private final Triggers triggers;
    private final Times times;

    TriggerApi(DeviceRegistry registry, Triggers triggers, Times times) {
        this.registry = registry;
        this.triggers = triggers;
        this.times = times;
    }

    /** {@code POST /triggers} -> {@code {"trigger_id":n}}. The admin names the product with {@code ?product_id=}. */
    Object create(Context ctx, Access caller) {
        caller.requireManager();
        long productId = caller.productId(ctx, registry);
        JsonBody body = JsonBody.read(ctx);
        String title = body.text("title", MAX_TITLE);
        String dsId = body.requiredText("ds_id", DatastreamApi.MAX_STREAM_ID);
        Set<Long> devIds = devIds(body, productId);
        String url = url(body.requiredText("url", HookUrl.MAX_LENGTH));
        TriggerType type = type(body.requiredText("type", 16));
        double[] threshold = threshold(type, body.value("threshold"), null);
        Trigger t = triggers.create(Trigger.draft(productId, title == null ? "" : title, dsId, devIds == null ? Set.of() : devIds,
                url, type, threshold[0], threshold[1], threshold[2]));
        return Map.of("trigger_id", t.id());
    }

    /** {@code PUT /triggers/{id}}: every field optional; what is not given keeps its value. */
    Object update(Context ctx, Access caller) {
        Trigger old = trigger(ctx, caller);
        JsonBody body = JsonBody.read(ctx);
        String title = body.text("title", MAX_TITLE);
        String dsId = body.nonEmptyText("ds_id", DatastreamApi.MAX_STREAM_ID);
        Set<Long> devIds = devIds(body, old.productId());
        String url = body.nonEmptyText("url", HookUrl.MAX_LENGTH);
        String typeName = body.nonEmptyText("type", 16);
        TriggerType type = typeName == null ? old.type() : type(typeName);
        double[] threshold = threshold(type, body.value("threshold"), old);
        triggers.update(old.id(), Trigger.draft(old.productId(), title == null ? old.title() : title,
                dsId == null ? old.dsId() : dsId, devIds == null ? old.devIds() : devIds, url == null ? old.url() : url(url),
                type, threshold[0], threshold[1], threshold[2]));
        return null;
    }

    Object get(Context ctx, Access caller) {
        return json(trigger(ctx, caller));
    }

    Object delete(Context ctx, Access caller) {
        triggers.delete(trigger(ctx, caller).id());
        return null;
    }

    /** {@code GET /triggers?title=&page=&per_page=} -> {@code {total_count,page,per_page,triggers:[...]}}. */
    Object list(Context ctx, Access caller) {
        caller.requireManager();
        long productId = caller.productId(ctx, registry);
        String title = Params.text(ctx, "title");
        Page page = Page.of(ctx, MAX_PER_PAGE, DEFAULT_PER_PAGE);
        List<Trigger> matching = triggers.ofProduct(productId).stream()
                .filter(t -> title == null || t.title().contains(title)).toList();
        return page.reply(matching, "triggers", this::json);
    }

    /** The trigger of the path: errno 8 when unknown, 3 for a device-level key or a trigger of another product. */
    private Trigger trigger(Context ctx, Access caller) {
        caller.requireManager();
        long id = Params.pathId(ctx, "trigger");
        Trigger t = triggers.get(id).orElseThrow(() -> ApiError.notFound("trigger not found: " + id));
        caller.checkProduct(t.productId());
        return t;
    }

    private ObjectNode json(Trigger t) {
        ObjectNode o = JsonBody.MAPPER.createObjectNode();
        o.put("id", t.id());
        o.put("title", t.title());
        o.put("ds_id", t.dsId());
        ArrayNode devIds = o.putArray("dev_ids");
        t.sortedDevIds().forEach(id -> devIds.add(String.valueOf(id)));
        o.put("url", t.url());
        o.put("type", t.type().wire());
        o.set("threshold", JsonBody.MAPPER.valueToTree(t.thresholdJson()));
        o.put("create_time", times.format(t.createTime()));
        return o;
    }

    private static TriggerType type(String name) {
        return TriggerType.parse(name).orElseThrow(() -> ApiError.invalid("type must be one of >, <, >=, <=, inout, change, "
                + "frozen, live, not " + name));
    }

    private String url(String url) {
        try {
            triggers.checkUrl(url);
            return url;
        } catch (HookException e) {
            throw ApiError.invalid(e.getMessage());
        }
    }

    /**
     * {@code dev_ids}: ids as strings (as OneNET writes them) or numbers; each must be a device of the product
     * (errno 8 when unknown, 3 when of another product). Null when absent; an empty list means every device.
     */
    private Set<Long> devIds(JsonBody body, long productId) {
        ArrayNode ids = body.array("dev_ids");
        if (ids == null) {
            return null;
        }
        if (ids.size() > MAX_DEV_IDS) {
            throw ApiError.invalid("dev_ids has more than " + MAX_DEV_IDS + " ids");
        }
        Set<Long> out = new LinkedHashSet<>();
        for (JsonNode item : ids) {
            OptionalLong id = item.isIntegralNumber() && item.canConvertToLong() && item.longValue() > 0
                    ? OptionalLong.of(item.longValue()) : item.isTextual() ? Params.parseId(item.textValue()) : OptionalLong.empty();
            if (id.isEmpty()) {
                throw ApiError.invalid("dev_ids must be device ids");
            }
            Device d = registry.device(id.getAsLong()).orElseThrow(() -> ApiError.notFound("device not found: " + id.getAsLong()));
            if (d.productId() != productId) {
                throw ApiError.authFailed();
            }
            out.add(d.id());
        }
        return out;
    }

    /**
     * The threshold for {@code type} as {threshold, lolmt, uplmt}. Absent on an update ({@code old} not null): the
     * old one, if it fits the type. Errno 7 when needed and absent, 6 when of the wrong shape.
     */
    private static double[] threshold(TriggerType type, JsonNode given, Trigger old) {
        if (type == TriggerType.CHANGE) {
            return new double[] {0, 0, 0};
        }
        if (given == null) {
            boolean oldFits = old != null && old.type() != TriggerType.CHANGE
                    && (old.type() == TriggerType.INOUT) == (type == TriggerType.INOUT);
            if (!oldFits) {
                throw ApiError.required("threshold");
            }
            given = JsonBody.MAPPER.valueToTree(old.thresholdJson());
        }
        if (type == TriggerType.INOUT) {
            if (!given.isObject()) {
                throw ApiError.invalid("threshold of an inout trigger must be {\"lolmt\":n,\"uplmt\":n}");
            }
            double low = number(given.get("lolmt"), "threshold.lolmt");
            double high = number(given.get("uplmt"), "threshold.uplmt");
            if (low > high) {
                throw ApiError.invalid("threshold.lolmt must not be greater than threshold.uplmt");
            }
            return new double[] {0, low, high};
        }
        double value = number(given, "threshold");
        if (type.isSilence() && (value <= 0 || value > MAX_SILENCE_SECONDS)) {
            throw ApiError.invalid("threshold of a " + type.wire() + " trigger must be seconds in (0, " + (long) MAX_SILENCE_SECONDS + "]");
        }
        return new double[] {value, 0, 0};
    }

    private static double number(JsonNode v, String field) {
        if (v == null || v.isNull()) {
            throw ApiError.required(field);
        }
        if (!v.isNumber() || !Double.isFinite(v.doubleValue())) {
            throw ApiError.invalid(field + " must be a number");
        }
        return v.doubleValue();
    }
}
