package io.stratus.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.javalin.http.Context;
import io.stratus.device.DeviceRegistry;
import io.stratus.device.Product;
import io.stratus.hook.DeliveryLog;
import io.stratus.hook.Hooks;
import io.stratus.hook.Trigger;
import java.util.List;
import java.util.Map;

/**
 * What the console shows of outbound posts (Stratus extensions): {@code POST /triggers/{id}/test} queues a test post
 * of a trigger to its URL; {@code GET /triggers/{id}/deliveries} and {@code GET /products/{id}/push/deliveries} list
 * the last outcomes, newest first, from memory (they start empty after a restart). The master key or the admin.
 */
final class HookActivityApi {
    private final DeviceRegistry registry;
    private final Hooks hooks;
    private final Times times;

    HookActivityApi(DeviceRegistry registry, Hooks hooks, Times times) {
        this.registry = registry;
        this.hooks = hooks;
        this.times = times;
    }

    /** {@code POST /triggers/{id}/test} -> {@code {"queued":true}}; errno 13 when the delivery queue is full. */
    Object test(Context ctx, Access caller) {
        if (!hooks.testFire(trigger(ctx, caller))) {
            throw new ApiError(Errno.SYSTEM_LIMIT, "the hook delivery queue is full; try again shortly");
        }
        return Map.of("queued", true);
    }

    Object triggerDeliveries(Context ctx, Access caller) {
        return json(hooks.triggerDeliveries(trigger(ctx, caller).id()));
    }

    Object pushDeliveries(Context ctx, Access caller) {
        caller.requireManager();
        long id = Params.pathId(ctx, "product");
        Product p = registry.product(id).orElseThrow(() -> ApiError.notFound("product not found: " + id));
        caller.checkProduct(p.id());
        return json(hooks.pushDeliveries(p.id()));
    }

    private Trigger trigger(Context ctx, Access caller) {
        caller.requireManager();
        long id = Params.pathId(ctx, "trigger");
        Trigger t = hooks.triggers().get(id).orElseThrow(() -> ApiError.notFound("trigger not found: " + id));
        caller.checkProduct(t.productId());
        return t;
    }

    private ArrayNode json(List<DeliveryLog.Outcome> outcomes) {
        ArrayNode out = JsonBody.MAPPER.createArrayNode();
        for (DeliveryLog.Outcome o : outcomes) {
            out.addObject()
                    .put("at", times.format(o.at()))
                    .put("at_ms", o.at())
                    .put("delivered", o.delivered())
                    .put("attempts", o.attempts())
                    .put("test", o.test())
                    .put("problem", o.problem());
        }
        return out;
    }
}
