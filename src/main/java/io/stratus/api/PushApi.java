package io.stratus.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import io.stratus.device.DeviceRegistry;
import io.stratus.device.Product;
import io.stratus.hook.DataPush;
import io.stratus.hook.HookException;
import io.stratus.hook.HookUrl;
import io.stratus.hook.PushTarget;

/**
 * {@code /products/{id}/push}: a product's data push to an application server (Stratus extension; OneNET sets it up
 * in its console). The admin or the product's master key only. {@code PUT {"url","token","enabled"?,"batch"?}}
 * first runs the URL verification (the receiver must echo {@code msg}; errno 6 with the reason when it does not),
 * then stores the target; {@code GET} shows it (errno 8 when none); {@code DELETE} stops the push.
 */
final class PushApi {
    static final int MAX_TOKEN = 128;

    private final DeviceRegistry registry;
    private final DataPush push;
    private final Times times;

    PushApi(DeviceRegistry registry, DataPush push, Times times) {
        this.registry = registry;
        this.push = push;
        this.times = times;
    }

    Object put(Context ctx, Access caller) throws InterruptedException {
        long productId = product(ctx, caller).id();
        JsonBody body = JsonBody.read(ctx);
        String url = body.requiredText("url", HookUrl.MAX_LENGTH);
        String token = body.requiredText("token", MAX_TOKEN);
        Boolean enabled = body.bool("enabled");
        Boolean batch = body.bool("batch");
        try {
            push.configure(productId, url, token, enabled == null || enabled, batch == null || batch);
        } catch (HookException e) {
            throw ApiError.invalid(e.getMessage());
        }
        return null;
    }

    Object get(Context ctx, Access caller) {
        long productId = product(ctx, caller).id();
        PushTarget t = push.get(productId).orElseThrow(() -> ApiError.notFound("no data push set up for product " + productId));
        ObjectNode o = JsonBody.MAPPER.createObjectNode();
        o.put("url", t.url());
        o.put("token", t.token());
        o.put("enabled", t.enabled());
        o.put("batch", t.batch());
        o.put("create_time", times.format(t.createTime()));
        o.put("update_time", times.format(t.updateTime()));
        return o;
    }

    Object delete(Context ctx, Access caller) {
        long productId = product(ctx, caller).id();
        if (!push.remove(productId)) {
            throw ApiError.notFound("no data push set up for product " + productId);
        }
        return null;
    }

    /** The product of the path: errno 8 when unknown, 3 for a device-level key or another product's key. */
    private Product product(Context ctx, Access caller) {
        caller.requireManager();
        long id = Params.pathId(ctx, "product");
        Product p = registry.product(id).orElseThrow(() -> ApiError.notFound("product not found: " + id));
        caller.checkProduct(p.id());
        return p;
    }
}
