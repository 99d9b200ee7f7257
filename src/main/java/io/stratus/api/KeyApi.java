package io.stratus.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import io.stratus.device.ApiKey;
import io.stratus.device.Device;
import io.stratus.device.DeviceRegistry;
import io.stratus.device.KeyRegistry;
import io.stratus.device.Product;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Predicate;

/**
 * {@code /keys}: device-level API keys (OneNET 6.4). Managed by the product's master key or the admin (who names
 * the product with {@code product_id}); a device-level key gets errno 3 here. {@code GET /keys} lists the
 * device-level keys only: the master key is shown by {@code GET /products/{id}} and changed by rotation.
 */
final class KeyApi {
    static final int MAX_TITLE = 128;
    static final int MAX_PERMISSIONS = 100;
    /** Resources of one key, all permissions together; also the most ids of one {@code PUT /keys/{key}/devices} list. */
    static final int MAX_RESOURCES = 1000;
    static final int DEFAULT_PER_PAGE = 10;
    static final int MAX_PER_PAGE = 100;

    private final DeviceRegistry registry;
    private final KeyRegistry keys;
    private final Times times;

    KeyApi(DeviceRegistry registry, Times times) {
        this.registry = registry;
        this.keys = registry.keys();
        this.times = times;
    }

    /** {@code POST /keys {"title","permissions"}} -> {@code {"key"}}. */
    Object create(Context ctx, Access caller) {
        caller.requireManager();
        long productId = caller.productId(ctx, registry);
        JsonBody body = JsonBody.read(ctx);
        String title = ownTitle(body.requiredText("title", MAX_TITLE));
        List<ApiKey.Permission> permissions = permissions(body.array("permissions"), productId);
        return Map.of("key", keys.create(productId, title, permissions).key());
    }

    /** {@code PUT /keys/{key}}: {@code title} and {@code permissions}, each replacing the old one when given. */
    Object update(Context ctx, Access caller) {
        caller.requireManager();
        ApiKey k = key(ctx, caller);
        JsonBody body = JsonBody.read(ctx);
        String title = ownTitle(body.nonEmptyText("title", MAX_TITLE));
        if (title == null && !body.has("permissions")) {
            throw ApiError.required("title or permissions");
        }
        List<ApiKey.Permission> permissions = body.has("permissions")
                ? permissions(body.array("permissions"), k.productId()) : k.permissions();
        keys.update(k.key(), title == null ? k.title() : title, permissions);
        return null;
    }

    Object delete(Context ctx, Access caller) {
        caller.requireManager();
        keys.delete(key(ctx, caller).key());
        return null;
    }

    /** {@code GET /keys?key=&device_id=&page=&per_page=} -> {@code {total_count,page,per_page,keys:[...]}}. */
    Object list(Context ctx, Access caller) {
        caller.requireManager();
        long productId = caller.productId(ctx, registry);
        String key = Params.text(ctx, "key");
        OptionalLong deviceId = Params.id(ctx, "device_id");
        int page = Params.integer(ctx, "page", 1, Page.MAX_PAGE, 1);
        int perPage = Params.integer(ctx, "per_page", 1, MAX_PER_PAGE, DEFAULT_PER_PAGE);
        Predicate<ApiKey> filter = k -> (key == null || k.key().equals(key))
                && (deviceId.isEmpty() || k.deviceIds().contains(deviceId.getAsLong()));
        List<ApiKey> matching = keys.keys(productId).stream().filter(filter).toList();
        ObjectNode o = page(matching.size(), page, perPage);
        ArrayNode out = o.putArray("keys");
        for (ApiKey k : slice(matching, page, perPage)) {
            out.add(json(k));
        }
        return o;
    }

    /**
     * {@code GET /keys/{key}/devices?page&per_page&device_id&device_title&is_related}: the product's devices, each
     * with {@code is_related} (whether the key names it); {@code is_related=true|false} keeps only those.
     */
    Object devices(Context ctx, Access caller) {
        caller.requireManager();
        ApiKey k = key(ctx, caller);
        List<Long> ids = Params.ids(ctx, "device_id", DeviceApi.MAX_LIST_IDS);
        String title = Params.text(ctx, "device_title");
        Boolean related = Params.bool(ctx, "is_related");
        int page = Params.integer(ctx, "page", 1, Page.MAX_PAGE, 1);
        int perPage = Params.integer(ctx, "per_page", 1, MAX_PER_PAGE, DEFAULT_PER_PAGE);
        Set<Long> linked = k.deviceIds();
        String lower = title == null ? null : title.toLowerCase(Locale.ROOT);
        List<Device> matching = registry.devices(k.productId()).stream()
                .filter(d -> ids == null || ids.contains(d.id()))
                .filter(d -> lower == null || d.title().toLowerCase(Locale.ROOT).contains(lower))
                .filter(d -> related == null || linked.contains(d.id()) == related)
                .toList();
        ObjectNode o = page(matching.size(), page, perPage);
        ArrayNode out = o.putArray("devices");
        for (Device d : slice(matching, page, perPage)) {
            out.addObject().put("id", String.valueOf(d.id())).put("title", d.title()).put("is_related", linked.contains(d.id()));
        }
        return o;
    }

    /** {@code PUT /keys/{key}/devices {"add_dev_ids":[],"del_dev_ids":[]}}; see {@link KeyRegistry#linkDevices}. */
    Object linkDevices(Context ctx, Access caller) {
        caller.requireManager();
        ApiKey k = key(ctx, caller);
        JsonBody body = JsonBody.read(ctx);
        List<Long> add = deviceIds(body.array("add_dev_ids"), "add_dev_ids");
        List<Long> remove = deviceIds(body.array("del_dev_ids"), "del_dev_ids");
        if (add.isEmpty() && remove.isEmpty()) {
            throw ApiError.required("add_dev_ids or del_dev_ids");
        }
        for (long id : add) {
            checkDevice(id, k.productId());
        }
        keys.linkDevices(k.key(), add, remove);
        return null;
    }

    // ---- helpers --------------------------------------------------------------------------------

    /** The key of the path: errno 8 when unknown, 3 when of another product, 6 for a master key (rotate it instead). */
    private ApiKey key(Context ctx, Access caller) {
        String key = ctx.pathParam("key");
        Product master = registry.productByMasterKey(key).orElse(null);
        if (master != null) {
            caller.checkProduct(master.id());
            throw ApiError.invalid("this is the master key: rotate it with POST /products/" + master.id() + "/master_key");
        }
        ApiKey k = keys.find(key).orElseThrow(() -> ApiError.notFound("key not found"));
        caller.checkProduct(k.productId());
        return k;
    }

    /**
     * OneNET's permissions array. {@code access_methods} defaults to all four (a device-level key is "full access
     * to some devices" in OneNET's words); {@code resources} is required, each naming a device of the product
     * ({@code dev_id}, a numeric string or number) and optionally one of its streams ({@code ds_id}).
     */
    private List<ApiKey.Permission> permissions(ArrayNode array, long productId) {
        if (array == null) {
            throw ApiError.required("permissions");
        }
        if (array.isEmpty() || array.size() > MAX_PERMISSIONS) {
            throw ApiError.invalid("permissions must hold 1.." + MAX_PERMISSIONS + " items");
        }
        List<ApiKey.Permission> out = new ArrayList<>(array.size());
        int resourceCount = 0;
        for (JsonNode p : array) {
            if (!p.isObject()) {
                throw ApiError.invalid("permissions must be an array of objects");
            }
            Set<ApiKey.Method> methods = methods(p.get("access_methods"));
            JsonNode resources = p.get("resources");
            if (resources == null || resources.isNull()) {
                throw ApiError.required("permissions[].resources");
            }
            if (!resources.isArray() || resources.isEmpty()) {
                throw ApiError.invalid("resources must be a non-empty array");
            }
            resourceCount += resources.size();
            if (resourceCount > MAX_RESOURCES) {
                throw ApiError.invalid("a key names at most " + MAX_RESOURCES + " resources");
            }
            List<ApiKey.Resource> list = new ArrayList<>(resources.size());
            for (JsonNode r : resources) {
                list.add(resource(r, productId));
            }
            out.add(new ApiKey.Permission(methods, list));
        }
        return out;
    }

    private static Set<ApiKey.Method> methods(JsonNode node) {
        if (node == null || node.isNull()) {
            return EnumSet.allOf(ApiKey.Method.class);
        }
        if (!node.isArray() || node.isEmpty()) {
            throw ApiError.invalid("access_methods must be a non-empty array of get, put, post, delete");
        }
        Set<ApiKey.Method> methods = EnumSet.noneOf(ApiKey.Method.class);
        for (JsonNode m : node) {
            ApiKey.Method method = m.isTextual() ? ApiKey.Method.of(m.textValue()).orElse(null) : null;
            if (method == null) {
                throw ApiError.invalid("access_methods must be a non-empty array of get, put, post, delete");
            }
            methods.add(method);
        }
        return methods;
    }

    private ApiKey.Resource resource(JsonNode r, long productId) {
        if (!r.isObject()) {
            throw ApiError.invalid("resources must be an array of objects");
        }
        JsonNode dev = r.get("dev_id");
        if (dev == null || dev.isNull()) {
            throw ApiError.required("resources[].dev_id");
        }
        long deviceId = id(dev, "dev_id");
        JsonNode ds = r.get("ds_id");
        String stream = null;
        if (ds != null && !ds.isNull()) {
            if (!ds.isTextual() || ds.textValue().isEmpty() || ds.textValue().length() > DatastreamApi.MAX_STREAM_ID) {
                throw ApiError.invalid("ds_id must be a string of 1.." + DatastreamApi.MAX_STREAM_ID + " characters");
            }
            stream = ds.textValue();
        }
        checkDevice(deviceId, productId);
        return new ApiKey.Resource(deviceId, stream);
    }

    /** A device id given as a numeric string (as OneNET writes ids) or as a JSON integer. */
    private static long id(JsonNode v, String field) {
        OptionalLong id = v.isTextual() ? Params.parseId(v.textValue())
                : v.canConvertToLong() && v.isIntegralNumber() && v.longValue() >= 0 ? OptionalLong.of(v.longValue()) : OptionalLong.empty();
        return id.orElseThrow(() -> ApiError.invalid(field + " must be a device id"));
    }

    private static List<Long> deviceIds(ArrayNode array, String field) {
        if (array == null) {
            return List.of();
        }
        if (array.size() > MAX_RESOURCES) {
            throw ApiError.invalid(field + " holds more than " + MAX_RESOURCES + " ids");
        }
        List<Long> out = new ArrayList<>(array.size());
        for (JsonNode v : array) {
            out.add(id(v, field));
        }
        return out;
    }

    /** Errno 8 for an unknown device, 3 for one of another product: a key never reaches beyond its product. */
    private void checkDevice(long deviceId, long productId) {
        Device d = registry.device(deviceId).orElseThrow(() -> ApiError.notFound("device not found: " + deviceId));
        if (d.productId() != productId) {
            throw ApiError.authFailed();
        }
    }

    private ObjectNode json(ApiKey k) {
        ObjectNode o = JsonBody.MAPPER.createObjectNode();
        o.put("title", k.title());
        o.put("key", k.key());
        o.put("create_time", times.format(k.createTime()));
        ArrayNode permissions = o.putArray("permissions");
        for (ApiKey.Permission p : k.permissions()) {
            ObjectNode po = permissions.addObject();
            ArrayNode methods = po.putArray("access_methods");
            p.methods().forEach(m -> methods.add(m.wireName()));
            ArrayNode resources = po.putArray("resources");
            for (ApiKey.Resource r : p.resources()) {
                ObjectNode ro = resources.addObject().put("dev_id", String.valueOf(r.deviceId()));
                if (r.streamId() != null) {
                    ro.put("ds_id", r.streamId());
                }
            }
        }
        return o;
    }

    private static ObjectNode page(int total, int page, int perPage) {
        ObjectNode o = JsonBody.MAPPER.createObjectNode();
        o.put("total_count", total);
        o.put("page", page);
        o.put("per_page", perPage);
        return o;
    }

    private static <T> List<T> slice(List<T> all, int page, int perPage) {
        int from = (int) Math.min((long) (page - 1) * perPage, all.size());
        return all.subList(from, Math.min(from + perPage, all.size()));
    }

    /** Errno 6 for the title that marks the keys register_de makes (KeyRegistry#REGISTRATION_TITLE). */
    private static String ownTitle(String title) {
        if (KeyRegistry.REGISTRATION_TITLE.equals(title)) {
            throw ApiError.invalid("the title " + title + " is reserved for keys made by register_de");
        }
        return title;
    }
}
