package io.stratus.api;

import io.javalin.http.Context;
import io.stratus.device.LoginThrottle;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rate-limits failed HTTP authentication per client address (bad api-keys and admin tokens) and per account (the
 * admin's password), with the same {@link LoginThrottle} as MQTT logins. While blocked a caller gets errno 3, as for
 * a wrong credential, with {@code Retry-After} (and HTTP 429 where REST statuses apply, see {@link Errno}) so that
 * clients reading only errno keep working and the others learn to wait. Only authentication counts: a valid key of
 * another product is errno 3 too, but not a failure here.
 */
final class LoginGuard {
    private static final Logger log = LoggerFactory.getLogger(LoginGuard.class);
    private final LoginThrottle throttle;
    private final ClientIp clientIp;

    LoginGuard(LoginThrottle throttle, ClientIp clientIp) {
        this.throttle = throttle;
        this.clientIp = clientIp;
    }

    /** The caller's IP address, as the throttle counts it ({@link ClientIp}). */
    String ip(Context ctx) {
        return clientIp.of(ctx);
    }

    /** The caller as {@code identify} finds it, unless its address is blocked; a refused credential counts. */
    Access identify(Context ctx, Supplier<Access> identify) {
        String address = LoginThrottle.address(ip(ctx));
        refuseIfBlocked(ctx, address);
        try {
            return identify.get();
        } catch (ApiError e) {
            if (e.errno == Errno.AUTH_FAILED) {
                throttle.failure(address);
            }
            throw e;
        }
    }

    /** Errno 3 with {@code Retry-After} when any of {@code keys} is blocked. */
    void refuseIfBlocked(Context ctx, String... keys) {
        long millis = throttle.blockedMillis(keys);
        if (millis > 0) {
            ctx.header("Retry-After", String.valueOf((millis + 999) / 1000));
            log.debug("{} {} refused: too many failed logins from {}", ctx.method(), ctx.path(), ip(ctx));
            throw new ApiError(Errno.TOO_MANY_FAILURES);
        }
    }

    void failure(String... keys) {
        throttle.failure(keys);
    }

    void success(String... keys) {
        throttle.success(keys);
    }
}
