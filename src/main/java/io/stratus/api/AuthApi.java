package io.stratus.api;

import io.javalin.http.Context;
import io.stratus.device.AdminAccount;
import io.stratus.device.LoginThrottle;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code /auth}: the admin's session tokens (a Stratus extension; OneNET signs in through its own console). */
final class AuthApi {
    private static final Logger log = LoggerFactory.getLogger(AuthApi.class);

    private final AdminAccount admin;
    private final LoginGuard guard;
    private final Runnable loggedOut;

    /** {@code loggedOut} runs after a session ended, to end what it holds open (its {@code /events} streams). */
    AuthApi(AdminAccount admin, LoginGuard guard, Runnable loggedOut) {
        this.admin = admin;
        this.guard = guard;
        this.loggedOut = loggedOut;
    }

    /**
     * {@code POST /auth/login {"username","password"}} -> {@code {"token","expires_in"}} (seconds); wrong credentials
     * are errno 3. The session is stored: it outlives a restart until it expires or is logged out.
     */
    Object login(Context ctx) {
        // JSON only: a web page can make a visitor's browser POST text/plain or a form anywhere without asking
        // (no CORS preflight), and so spend the admin's back-off budget from the visitor's address.
        String type = ctx.contentType();
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            throw ApiError.invalid("Content-Type must be application/json");
        }
        JsonBody body = JsonBody.read(ctx);
        String username = body.requiredText("username", 256);
        String password = body.requiredText("password", 1024);
        // Per address and per account, checked before the (deliberately slow) PBKDF2 check: a blocked guesser
        // costs neither CPU nor a chance.
        String ip = guard.ip(ctx);
        String[] keys = {LoginThrottle.address(ip), LoginThrottle.account(AdminAccount.USERNAME, ip)};
        guard.refuseIfBlocked(ctx, keys);
        String token = admin.login(username, password);
        if (token == null) {
            log.warn("failed admin login from {}", ip);
            guard.failure(keys);
            throw ApiError.authFailed();
        }
        guard.success(keys[1]);
        return Map.of("token", token, "expires_in", AdminAccount.TOKEN_LIFETIME.toSeconds());
    }

    /** {@code POST /auth/logout}: ends the caller's admin session. */
    Object logout(Context ctx, Access caller) {
        caller.requireAdmin();
        admin.logout(caller.adminToken());
        loggedOut.run();
        return null;
    }
}
