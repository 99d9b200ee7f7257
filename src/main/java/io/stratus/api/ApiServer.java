package io.stratus.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import io.stratus.Config;
import io.stratus.device.AdminAccount;
import io.stratus.device.DeviceException;
import io.stratus.device.DeviceRegistry;
import io.stratus.telemetry.Telemetry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API: OneNET's paths at the root, Stratus's product and admin extensions beside them. Every
 * route is declared in {@link #routes}, and every error becomes the errno envelope in {@link #errors}.
 */
public final class ApiServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ApiServer.class);

    private final Config config;
    private final DeviceRegistry registry;
    private final AdminAccount admin;
    private final AuthApi auth;
    private final ProductApi products;
    private final DeviceApi devices;
    private final DatastreamApi datastreams;
    private final DatapointApi datapoints;
    private final Javalin app;

    public ApiServer(Config config, DeviceRegistry registry, AdminAccount admin, Telemetry telemetry) {
        this.config = config;
        this.registry = registry;
        this.admin = admin;
        Times times = new Times(config.timezone());
        this.auth = new AuthApi(admin);
        this.products = new ProductApi(registry, times);
        this.devices = new DeviceApi(registry, times);
        this.datastreams = new DatastreamApi(registry, telemetry, times);
        this.datapoints = new DatapointApi(registry, telemetry, times);
        this.app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            cfg.jetty.host = config.bind();
            cfg.jetty.port = config.httpPort();
            routes(cfg);
            errors(cfg);
        });
    }

    /** What a route does once the caller is known: returns the reply's {@code data}, or null for none. */
    @FunctionalInterface
    interface Action {
        Object handle(Context ctx, Access caller) throws Exception;
    }

    /** A route open to anyone (the login itself). */
    @FunctionalInterface
    interface OpenAction {
        Object handle(Context ctx) throws Exception;
    }

    private void routes(JavalinConfig cfg) {
        cfg.routes.get("/", ctx -> ctx.redirect("/console/", HttpStatus.FOUND));

        cfg.routes.post("/auth/login", open(auth::login));
        cfg.routes.post("/auth/logout", authed(auth::logout));

        cfg.routes.post("/products", authed(products::create));
        cfg.routes.get("/products", authed(products::list));
        cfg.routes.get("/products/{id}", authed(products::get));
        cfg.routes.put("/products/{id}", authed(products::update));
        cfg.routes.delete("/products/{id}", authed(products::delete));
        cfg.routes.post("/products/{id}/master_key", authed(products::rotateMasterKey));
        cfg.routes.post("/products/{id}/register_code", authed(products::rotateRegisterCode));

        cfg.routes.post("/devices", authed(devices::create));
        cfg.routes.get("/devices", authed(devices::list));
        // Declared before /devices/{id}, which would otherwise take "status" for an id.
        cfg.routes.get("/devices/status", authed(devices::status));
        cfg.routes.get("/devices/datapoints", authed(datapoints::latest));
        cfg.routes.get("/devices/{id}", authed(devices::get));
        cfg.routes.put("/devices/{id}", authed(devices::update));
        cfg.routes.delete("/devices/{id}", authed(devices::delete));

        cfg.routes.post("/devices/{id}/datastreams", authed(datastreams::create));
        cfg.routes.get("/devices/{id}/datastreams", authed(datastreams::list));
        cfg.routes.get("/devices/{id}/datastreams/{ds}", authed(datastreams::get));
        cfg.routes.put("/devices/{id}/datastreams/{ds}", authed(datastreams::update));
        cfg.routes.delete("/devices/{id}/datastreams/{ds}", authed(datastreams::delete));
        cfg.routes.post("/devices/{id}/datapoints", authed(datapoints::upload));
        cfg.routes.get("/devices/{id}/datapoints", authed(datapoints::history));
        cfg.routes.post("/bindata", authed(datapoints::uploadBinary));
        cfg.routes.get("/bindata/{index}", raw(datapoints::binary));
    }

    private void errors(JavalinConfig cfg) {
        cfg.routes.exception(ApiError.class, (e, ctx) -> reply(ctx, e.errno, e.getMessage(), null));
        cfg.routes.exception(DeviceException.class, (e, ctx) -> {
            Errno errno = errno(e.reason());
            reply(ctx, errno, errno.message + ": " + e.getMessage(), null);
        });
        // Javalin's own refusals; an unknown route is its NotFoundResponse.
        cfg.routes.exception(HttpResponseException.class, (e, ctx) -> {
            if (e.getStatus() == 404) {
                reply(ctx, Errno.NOT_FOUND, Errno.NOT_FOUND.message + ": " + ctx.method() + " " + ctx.path(), null);
                ctx.status(404);
                return;
            }
            Errno errno = e.getStatus() == 413 ? Errno.TOO_LARGE : Errno.INVALID_PARAMETER;
            reply(ctx, errno, errno.message, null);
        });
        cfg.routes.exception(Exception.class, (e, ctx) -> {
            log.error("{} {} failed", ctx.method(), ctx.path(), e);
            reply(ctx, Errno.INTERNAL, Errno.INTERNAL.message, null);
        });
    }

    private static Errno errno(DeviceException.Reason reason) {
        return switch (reason) {
            case NOT_FOUND -> Errno.NOT_FOUND;
            case ALREADY_EXISTS -> Errno.ALREADY_EXISTS;
            case MISSING_FIELD -> Errno.PARAMETER_REQUIRED;
            case INVALID_FIELD -> Errno.INVALID_PARAMETER;
        };
    }

    private Handler authed(Action action) {
        return ctx -> {
            Object data = action.handle(ctx, Access.of(ctx, registry, admin));
            reply(ctx, Errno.SUCC, Errno.SUCC.message, data);
        };
    }

    /** A route that writes its own reply body (not the envelope) once the caller is known. */
    @FunctionalInterface
    interface RawAction {
        void handle(Context ctx, Access caller) throws Exception;
    }

    private Handler raw(RawAction action) {
        return ctx -> action.handle(ctx, Access.of(ctx, registry, admin));
    }

    private static Handler open(OpenAction action) {
        return ctx -> reply(ctx, Errno.SUCC, Errno.SUCC.message, action.handle(ctx));
    }

    /** The OneNET envelope; {@code data} is left out when there is nothing to return. */
    @JsonPropertyOrder({"errno", "error", "data"})
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Envelope(int errno, String error, Object data) {
    }

    private static void reply(Context ctx, Errno errno, String error, Object data) {
        byte[] body;
        try {
            body = JsonBody.MAPPER.writeValueAsBytes(new Envelope(errno.code, error, data));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("reply not serialisable", e);
        }
        ctx.status(errno.httpStatus).contentType("application/json").result(body);
    }

    public void start() {
        app.start();
        log.debug("HTTP API on {}:{}", config.bind(), port());
    }

    /** The bound port (the real one when configured as 0). */
    public int port() {
        return app.port();
    }

    @Override
    public void close() {
        app.stop();
    }
}
