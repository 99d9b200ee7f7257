package io.stratus.api;

import io.javalin.http.Context;
import io.stratus.device.AdminAccount;
import io.stratus.device.ApiKey;
import io.stratus.device.Device;
import io.stratus.device.DeviceRegistry;
import io.stratus.device.Product;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Who is calling: the admin (a session token from {@code POST /auth/login}, allowed everything), a
 * product's master key (allowed everything inside that product, nothing outside it), or a device-level key
 * (OneNET 6.4: the request's HTTP method only on the devices and streams its permissions list; never products,
 * keys, MQTT topics or creating devices). Handlers state what they touch ({@link #device}, {@link #checkStream},
 * {@link #requireManager}, ...) and this class decides.
 */
final class Access {
    static final String API_KEY = "api-key";
    private static final String BEARER = "Bearer ";

    private final Product product;
    private final String adminToken;
    /** A device-level key's grants (null for the admin and master keys), and the request's method they apply to. */
    private final ApiKey deviceKey;
    private final ApiKey.Method method;

    private Access(Product product, String adminToken) {
        this(product, adminToken, null, null);
    }

    private Access(Product product, String adminToken, ApiKey deviceKey, ApiKey.Method method) {
        this.product = product;
        this.adminToken = adminToken;
        this.deviceKey = deviceKey;
        this.method = method;
    }

    /** A master key, else a device-level key (errno 3 when neither). */
    private static Access ofKey(Context ctx, DeviceRegistry registry, String key) {
        Optional<Product> master = registry.productByMasterKey(key);
        if (master.isPresent()) {
            return new Access(master.get(), null);
        }
        ApiKey k = registry.keys().find(key).orElseThrow(ApiError::authFailed);
        Product p = registry.product(k.productId()).orElseThrow(ApiError::authFailed);
        // HEAD and the like map to no method, which a key never grants.
        return new Access(p, null, k, ApiKey.Method.of(ctx.method().name()).orElse(null));
    }

    /**
     * The caller of a request: errno 2 without any credential, errno 3 when the credential is not valid (REST
     * statuses 401 and 403, see {@link Errno}). An {@code api-key} header wins over an {@code Authorization} header.
     */
    static Access of(Context ctx, DeviceRegistry registry, AdminAccount admin) {
        String key = ctx.header(API_KEY);
        if (key != null && !key.isEmpty()) {
            return ofKey(ctx, registry, key);
        }
        String authorization = ctx.header("Authorization");
        if (authorization != null && !authorization.isEmpty()) {
            if (authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
                String token = authorization.substring(BEARER.length()).trim();
                if (admin.isValidToken(token)) {
                    return new Access(null, token);
                }
            }
            throw ApiError.authFailed();
        }
        throw new ApiError(Errno.KEY_REQUIRED);
    }

    /**
     * As {@link #of}, but without a credential header the query parameter {@code token} (an admin session token
     * or a master key) is taken instead: browsers' EventSource cannot set headers ({@code GET /events}).
     */
    static Access ofHeaderOrQuery(Context ctx, DeviceRegistry registry, AdminAccount admin) {
        String token = ctx.queryParam("token");
        if (ctx.header(API_KEY) != null || ctx.header("Authorization") != null || token == null || token.isEmpty()) {
            return of(ctx, registry, admin);
        }
        if (admin.isValidToken(token)) {
            return new Access(null, token);
        }
        return registry.productByMasterKey(token).map(p -> new Access(p, null)).orElseThrow(ApiError::authFailed);
    }

    boolean isAdmin() {
        return adminToken != null;
    }

    /**
     * The secret this caller proved, as a key for counting what one credential holds open ({@code /events} streams):
     * the admin's session token, or the master key; a device-level key is never counted (it may not stream).
     */
    String credentialKey() {
        return isAdmin() ? "admin " + adminToken : deviceKey != null ? "key " + deviceKey.key() : "master " + product.masterKey();
    }

    /**
     * Why this caller's credential no longer holds, or null while it does: the admin session ended (logout, expiry),
     * the master key was rotated, or the product is gone. Memory only, so it may run on any thread.
     */
    String revoked(DeviceRegistry registry, AdminAccount admin) {
        if (isAdmin()) {
            return admin.isValidToken(adminToken) ? null : "the admin session ended";
        }
        if (registry.product(product.id()).isEmpty()) {
            return "the product was deleted";
        }
        Optional<Product> current = registry.productByMasterKey(product.masterKey());
        return current.isPresent() && current.get().id() == product.id() ? null : "the master key was rotated";
    }

    /** The session token of an admin caller. */
    String adminToken() {
        return adminToken;
    }

    void requireAdmin() {
        if (!isAdmin()) {
            throw ApiError.authFailed();
        }
    }

    boolean isDeviceKey() {
        return deviceKey != null;
    }

    /** Errno 3 for a device-level key: the route needs the master key or the admin (keys, topics, new devices). */
    void requireManager() {
        if (deviceKey != null) {
            throw ApiError.authFailed();
        }
    }

    /** Errno 3 unless the caller may act in this product. */
    void checkProduct(long productId) {
        if (!isAdmin() && product.id() != productId) {
            throw ApiError.authFailed();
        }
    }

    /**
     * The device of a path's {@code {id}}, acted on as a whole: errno 8 when unknown, 3 when of a product the
     * caller may not touch, or for a device-level key without the request's method on the whole device.
     */
    Device device(Context ctx, DeviceRegistry registry) {
        Device d = pathDevice(ctx, registry);
        if (deviceKey != null && !deviceKey.allows(method, d.id(), null)) {
            throw ApiError.authFailed();
        }
        return d;
    }

    /**
     * The device of a path's {@code {id}} for reading its details or acting on some of its streams: a device-level
     * key needs the request's method on the device or on at least one stream of it; the handler then checks each
     * stream with {@link #checkStream} or filters with {@link #mayUseStream}.
     */
    Device deviceOfStreams(Context ctx, DeviceRegistry registry) {
        Device d = pathDevice(ctx, registry);
        if (deviceKey != null && !deviceKey.touches(method, d.id())) {
            throw ApiError.authFailed();
        }
        return d;
    }

    /** Errno 3 unless the caller may use the request's method on this stream of the device. */
    void checkStream(Device d, String stream) {
        checkProduct(d.productId());
        if (!mayUseStream(d, stream)) {
            throw ApiError.authFailed();
        }
    }

    /** Whether the caller may use the request's method on this stream (of a device of its product). */
    boolean mayUseStream(Device d, String stream) {
        return mayAccess(d.productId()) && (deviceKey == null || deviceKey.allows(method, d.id(), stream));
    }

    /**
     * Whether the caller may read the device's {@code auth_info}, the password it logs in with: only a caller that may
     * {@code PUT} the whole device, and so could set it anyway. A key for reading, or for single streams, must not
     * become the device's MQTT login.
     */
    boolean maySeeAuthInfo(Device d) {
        return mayAccess(d.productId()) && (deviceKey == null || deviceKey.allows(ApiKey.Method.PUT, d.id(), null));
    }

    /** Whether a list may show this device: its product is the caller's, and a device-level key lists it. */
    boolean maySee(Device d) {
        return mayAccess(d.productId()) && (deviceKey == null || deviceKey.touches(method, d.id()));
    }

    private Device pathDevice(Context ctx, DeviceRegistry registry) {
        long id = Params.pathId(ctx, "device");
        Device d = registry.device(id).orElseThrow(() -> ApiError.notFound("device not found: " + id));
        checkProduct(d.productId());
        return d;
    }

    /** Whether the caller may see things of this product; for lists that skip what they may not show. */
    boolean mayAccess(long productId) {
        return isAdmin() || product.id() == productId;
    }

    /**
     * The product a request acts in: a master key's own product, or for the admin the {@code product_id}
     * query parameter (errno 7 when absent, 8 when unknown). A master key naming another product gets errno 3.
     */
    long productId(Context ctx, DeviceRegistry registry) {
        OptionalLong given = Params.id(ctx, "product_id");
        if (!isAdmin()) {
            if (given.isPresent() && given.getAsLong() != product.id()) {
                throw ApiError.authFailed();
            }
            return product.id();
        }
        long id = given.orElseThrow(() -> ApiError.required("product_id"));
        if (registry.product(id).isEmpty()) {
            throw ApiError.notFound("product not found: " + id);
        }
        return id;
    }
}
