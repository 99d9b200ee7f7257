package io.stratus.api;

import io.javalin.http.Context;
import io.stratus.device.DeviceRegistry;
import io.stratus.device.KeyRegistry;
import io.stratus.device.LoginThrottle;
import io.stratus.device.Product;
import io.stratus.device.Secrets;
import java.util.Map;

/**
 * {@code POST /register_de?register_code=...} (OneNET 6.1): a device registers itself with its product's register
 * code, which is the only credential (no {@code api-key}; wrong codes count as failed logins of the address). The reply
 * carries the device id and a device-level key for just that device ({@link KeyRegistry#register}).
 */
final class RegisterApi {
    /** OneNET's limits of {@code sn}, {@code mac} and {@code title}. */
    static final int MAX_SN = 512;
    static final int MAX_MAC = 32;
    static final int MAX_TITLE = 32;
    static final String DEFAULT_TITLE = "auto_register";

    private final DeviceRegistry registry;
    private final LoginGuard guard;

    RegisterApi(DeviceRegistry registry, LoginGuard guard) {
        this.registry = registry;
        this.guard = guard;
    }

    /** {@code {"sn"|"mac","title"}} -> {@code {"device_id","key"}}; errno 3 for an unknown register code. */
    Object register(Context ctx) {
        String code = Params.text(ctx, "register_code");
        if (code == null) {
            throw ApiError.required("register_code");
        }
        // A register code is a password: guesses count against the address, as bad api-keys do.
        String address = LoginThrottle.address(guard.ip(ctx));
        guard.refuseIfBlocked(ctx, address);
        Product product = productOf(code);
        if (product == null) {
            guard.failure(address);
            throw ApiError.authFailed();
        }
        JsonBody body = JsonBody.read(ctx);
        // OneNET takes sn or mac; when a client sends both, the serial number wins.
        String sn = body.nonEmptyText("sn", MAX_SN);
        String mac = body.nonEmptyText("mac", MAX_MAC);
        String authInfo = sn != null ? sn : mac;
        if (authInfo == null) {
            throw ApiError.required("sn or mac");
        }
        String title = body.nonEmptyText("title", MAX_TITLE);
        KeyRegistry.Registration r = registry.keys().register(product.id(), authInfo, title == null ? DEFAULT_TITLE : title);
        return Map.of("device_id", String.valueOf(r.device().id()), "key", r.key().key());
    }

    /** The product of a register code, compared in constant time with every product's; null when none. */
    private Product productOf(String code) {
        Product found = null;
        for (Product p : registry.products()) {
            if (Secrets.constantTimeEquals(code, p.registerCode())) {
                found = p;
            }
        }
        return found;
    }
}
