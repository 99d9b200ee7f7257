package io.stratus.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import io.stratus.device.Device;
import io.stratus.device.DeviceRegistry;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Predicate;

/** {@code /devices}: OneNET 6.1, plus Stratus's {@code disabled}, {@code last_login} and {@code last_logout}. */
final class DeviceApi {
    static final int MAX_PER_PAGE = 100;
    static final int DEFAULT_PER_PAGE = 30;
    /** OneNET's limits of {@code device_id} in a list query and of {@code devIds} in a status query. */
    static final int MAX_LIST_IDS = 100;
    static final int MAX_STATUS_IDS = 1000;

    private final DeviceRegistry registry;
    private final Times times;

    DeviceApi(DeviceRegistry registry, Times times) {
        this.registry = registry;
        this.times = times;
    }

    /** {@code POST /devices} -> {@code {"device_id"}}; errno 7 without title or auth_info, 12 for a used auth_info. */
    Object create(Context ctx, Access caller) {
        caller.requireManager();
        long productId = caller.productId(ctx, registry);
        Device d = registry.createDevice(productId, DeviceFields.read(JsonBody.read(ctx), true));
        return Map.of("device_id", String.valueOf(d.id()));
    }

    Object get(Context ctx, Access caller) {
        // Details are readable with a key granting GET on any stream of the device.
        Device d = caller.deviceOfStreams(ctx, registry);
        return DeviceFields.json(d, registry.isOnline(d.id()), times, true, caller.maySeeAuthInfo(d));
    }

    /** {@code PUT /devices/{id}}: every field optional; a field not given keeps its value. */
    Object update(Context ctx, Access caller) {
        Device d = device(ctx, caller);
        registry.updateDevice(d.id(), DeviceFields.read(JsonBody.read(ctx), false));
        return null;
    }

    Object delete(Context ctx, Access caller) {
        registry.deleteDevice(device(ctx, caller).id());
        return null;
    }

    /**
     * {@code GET /devices}: the devices of one product, filtered and paged. Filters: {@code key_words}
     * (part of the title, any case, or the exact id), {@code auth_info} (exact), {@code tag}, {@code online},
     * {@code private}, {@code device_id} (csv), {@code begin}/{@code end} (creation day, yyyy-MM-dd).
     */
    Object list(Context ctx, Access caller) {
        long productId = caller.productId(ctx, registry);
        Predicate<Device> filter = filter(ctx);
        Page page = Page.of(ctx, MAX_PER_PAGE, DEFAULT_PER_PAGE);
        if (Params.text(ctx, "auth_info") != null) {
            filter = filter.and(caller::maySeeAuthInfo); // else the filter would tell a key without the right the secret
        }
        List<Device> matching = registry.devices(productId).stream().filter(caller::maySee).filter(filter).toList();
        return page.reply(matching, "devices", d -> DeviceFields.json(d, registry.isOnline(d.id()), times, false,
                caller.maySeeAuthInfo(d)));
    }

    private Predicate<Device> filter(Context ctx) {
        Predicate<Device> filter = d -> true;
        String keyWords = Params.text(ctx, "key_words");
        if (keyWords != null) {
            String lower = keyWords.toLowerCase(Locale.ROOT);
            filter = filter.and(d -> d.title().toLowerCase(Locale.ROOT).contains(lower)
                    || String.valueOf(d.id()).equals(keyWords));
        }
        String authInfo = Params.text(ctx, "auth_info");
        if (authInfo != null) {
            filter = filter.and(d -> d.authInfo().equals(authInfo));
        }
        String tag = Params.text(ctx, "tag");
        if (tag != null) {
            filter = filter.and(d -> d.tags().contains(tag));
        }
        Boolean online = Params.bool(ctx, "online");
        if (online != null) {
            filter = filter.and(d -> registry.isOnline(d.id()) == online);
        }
        Boolean isPrivate = Params.bool(ctx, "private");
        if (isPrivate != null) {
            filter = filter.and(d -> d.isPrivate() == isPrivate);
        }
        List<Long> idList = Params.ids(ctx, "device_id", MAX_LIST_IDS);
        if (idList != null) {
            Set<Long> ids = Set.copyOf(idList);
            filter = filter.and(d -> ids.contains(d.id()));
        }
        String begin = Params.text(ctx, "begin");
        if (begin != null) {
            long from = times.startOfDay(begin, "begin");
            filter = filter.and(d -> d.createTime() >= from);
        }
        String end = Params.text(ctx, "end");
        if (end != null) {
            // end names a whole day: everything before the next day starts.
            long until = times.startOfDay(end, "end") + 24L * 3600 * 1000;
            filter = filter.and(d -> d.createTime() < until);
        }
        return filter;
    }

    /**
     * {@code GET /devices/status?devIds=a,b} (at most 1000) -> {@code {total_count, devices:[{id,title,online}]}}.
     * Ids that name no device, or a device the caller may not see (another product's), are skipped rather
     * than failing the whole batch, so {@code total_count} counts the devices reported. An admin may narrow
     * the query to one product with {@code product_id}.
     */
    Object status(Context ctx, Access caller) {
        OptionalLong scope = caller.isAdmin() ? Params.id(ctx, "product_id") : OptionalLong.of(caller.productId(ctx, registry));
        List<Long> ids = Params.ids(ctx, "devIds", MAX_STATUS_IDS);
        if (ids == null) {
            throw ApiError.required("devIds");
        }
        ObjectNode o = JsonBody.MAPPER.createObjectNode();
        ArrayNode devices = JsonBody.MAPPER.createArrayNode();
        for (long id : new LinkedHashSet<>(ids)) {
            registry.device(id)
                    .filter(caller::maySee)
                    .filter(d -> scope.isEmpty() || d.productId() == scope.getAsLong())
                    .ifPresent(d -> devices.addObject()
                            .put("id", String.valueOf(d.id()))
                            .put("title", d.title())
                            .put("online", registry.isOnline(d.id())));
        }
        o.put("total_count", devices.size());
        o.set("devices", devices);
        return o;
    }

    /**
     * The device of the path, acted on as a whole: errno 8 when there is none, 3 when it belongs to a product the
     * caller may not touch or a device-level key does not grant the method on the whole device.
     */
    private Device device(Context ctx, Access caller) {
        return caller.device(ctx, registry);
    }
}
