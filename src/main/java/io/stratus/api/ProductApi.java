package io.stratus.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import io.stratus.device.DeviceRegistry;
import io.stratus.device.Product;
import java.util.Map;

/**
 * {@code /products}: a Stratus extension (OneNET creates products in its console). Admin only; a master
 * key, even of the product concerned, gets errno 3.
 */
final class ProductApi {
    static final int MAX_TITLE = 128;
    static final int MAX_DESC = 1024;

    private final DeviceRegistry registry;
    private final Times times;
    private final Runnable masterKeyRotated;

    /**
     * {@code masterKeyRotated} runs after a rotation, to end what the old key holds open ({@code /events} streams; the
     * registry tells its listeners per device, and a product may have none).
     */
    ProductApi(DeviceRegistry registry, Times times, Runnable masterKeyRotated) {
        this.registry = registry;
        this.times = times;
        this.masterKeyRotated = masterKeyRotated;
    }

    /** {@code POST /products {"title","desc","protocol"}} -> {@code {product_id, master_key, register_code}}. */
    Object create(Context ctx, Access caller) {
        caller.requireAdmin();
        JsonBody body = JsonBody.read(ctx);
        String title = body.requiredText("title", MAX_TITLE);
        String desc = body.text("desc", MAX_DESC);
        String protocol = DeviceFields.protocol(body);
        Product p = registry.createProduct(title, desc, protocol == null ? "MQTT" : protocol);
        return Map.of("product_id", String.valueOf(p.id()), "master_key", p.masterKey(), "register_code", p.registerCode());
    }

    Object list(Context ctx, Access caller) {
        caller.requireAdmin();
        return registry.products().stream().map(this::json).toList();
    }

    Object get(Context ctx, Access caller) {
        caller.requireAdmin();
        return json(product(ctx));
    }

    /** {@code PUT /products/{id}}: title, desc and protocol, each optional. */
    Object update(Context ctx, Access caller) {
        caller.requireAdmin();
        long id = product(ctx).id();
        JsonBody body = JsonBody.read(ctx);
        registry.updateProduct(id, body.nonEmptyText("title", MAX_TITLE), body.text("desc", MAX_DESC),
                DeviceFields.protocol(body));
        return null;
    }

    /** {@code DELETE /products/{id}}: the product with its devices and keys. */
    Object delete(Context ctx, Access caller) {
        caller.requireAdmin();
        registry.deleteProduct(product(ctx).id());
        return null;
    }

    /** The old master key stops working at once. */
    Object rotateMasterKey(Context ctx, Access caller) {
        caller.requireAdmin();
        String key = registry.rotateMasterKey(product(ctx).id()).masterKey();
        masterKeyRotated.run();
        return Map.of("master_key", key);
    }

    Object rotateRegisterCode(Context ctx, Access caller) {
        caller.requireAdmin();
        return Map.of("register_code", registry.rotateRegisterCode(product(ctx).id()).registerCode());
    }

    private Product product(Context ctx) {
        long id = Params.pathId(ctx, "product");
        return registry.product(id).orElseThrow(() -> ApiError.notFound("product not found: " + id));
    }

    private ObjectNode json(Product p) {
        ObjectNode o = JsonBody.MAPPER.createObjectNode();
        o.put("id", String.valueOf(p.id()));
        o.put("title", p.title());
        o.put("desc", p.description());
        o.put("protocol", p.protocol());
        o.put("master_key", p.masterKey());
        o.put("register_code", p.registerCode());
        o.put("create_time", times.format(p.createTime()));
        o.put("device_count", registry.devices(p.id()).size());
        return o;
    }
}
