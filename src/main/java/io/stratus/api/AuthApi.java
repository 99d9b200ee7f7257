package io.stratus.api;

import io.javalin.http.Context;
import io.stratus.device.AdminAccount;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code /auth}: the admin's session tokens (a Stratus extension; OneNET signs in through its own console). */
final class AuthApi {
    private static final Logger log = LoggerFactory.getLogger(AuthApi.class);

    private final AdminAccount admin;

    AuthApi(AdminAccount admin) {
        this.admin = admin;
    }

    /** {@code POST /auth/login {"username","password"}} -> {@code {"token"}}; wrong credentials are errno 3. */
    Object login(Context ctx) {
        JsonBody body = JsonBody.read(ctx);
        String username = body.requiredText("username", 256);
        String password = body.requiredText("password", 1024);
        String token = admin.login(username, password);
        if (token == null) {
            log.warn("failed admin login from {}", ctx.ip());
            throw ApiError.authFailed();
        }
        return Map.of("token", token);
    }

    /** {@code POST /auth/logout}: ends the caller's admin session. */
    Object logout(Context ctx, Access caller) {
        caller.requireAdmin();
        admin.logout(caller.adminToken());
        return null;
    }
}
