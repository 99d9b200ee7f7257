package io.stratus.api;

import io.javalin.http.Context;
import io.stratus.device.AdminAccount;
import io.stratus.device.Device;
import io.stratus.device.DeviceRegistry;
import io.stratus.device.Product;
import java.util.OptionalLong;

/**
 * Who is calling: the admin (a session token from {@code POST /auth/login}, allowed everything) or a
 * product's master key (allowed everything inside that product, nothing outside it).
 */
final class Access {
    static final String API_KEY = "api-key";
    private static final String BEARER = "Bearer ";

    private final Product product;
    private final String adminToken;

    private Access(Product product, String adminToken) {
        this.product = product;
        this.adminToken = adminToken;
    }

    /**
     * The caller of a request: errno 2 (HTTP 401) without any credential, errno 3 (HTTP 403) when the
     * credential is not valid. An {@code api-key} header wins over an {@code Authorization} header.
     */
    static Access of(Context ctx, DeviceRegistry registry, AdminAccount admin) {
        String key = ctx.header(API_KEY);
        if (key != null && !key.isEmpty()) {
            return registry.productByMasterKey(key).map(p -> new Access(p, null)).orElseThrow(ApiError::authFailed);
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

    boolean isAdmin() {
        return adminToken != null;
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

    /** Errno 3 unless the caller may act in this product. */
    void checkProduct(long productId) {
        if (!isAdmin() && product.id() != productId) {
            throw ApiError.authFailed();
        }
    }

    /** The device of a path's {@code {id}}: errno 8 when unknown, 3 when of a product the caller may not touch. */
    Device device(Context ctx, DeviceRegistry registry) {
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
