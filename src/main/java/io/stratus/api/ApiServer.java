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
import io.javalin.http.staticfiles.Location;
import io.stratus.Config;
import io.stratus.broker.Broker;
import io.stratus.command.CommandException;
import io.stratus.command.Commands;
import io.stratus.device.AdminAccount;
import io.stratus.device.DeviceException;
import io.stratus.device.DeviceRegistry;
import io.stratus.device.LoginThrottle;
import io.stratus.monitor.Health;
import io.stratus.monitor.Metrics;
import io.stratus.hook.Hooks;
import io.stratus.telemetry.HistoryLimitException;
import io.stratus.telemetry.Telemetry;
import io.stratus.tls.TlsFiles;
import io.stratus.transport.ByteStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API: OneNET's paths at the root, Stratus's product and admin extensions beside them. Every
 * route is declared in {@link #routes}, and every error becomes the errno envelope in {@link #errors}, with the
 * HTTP status {@link #reply} picks for the route's kind ({@link #onenet}).
 */
public final class ApiServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ApiServer.class);
    /** Request attribute of {@link #onenet} routes: {@link #reply} sends every errno with HTTP 200. */
    private static final String ERRNO_WITH_200 = "stratus.errno-with-200";
    /**
     * The console runs only its own scripts and talks only to this server (the CSP: no inline or foreign script, so
     * injected markup cannot run), is never framed by another site (clickjacking), and its files are never sniffed
     * into another type. Inline styles stay allowed: the chart library sets them.
     */
    static final java.util.Map<String, String> CONSOLE_HEADERS = java.util.Map.of(
            "Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                    + "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
                    + "form-action 'self'; frame-ancestors 'none'",
            "X-Frame-Options", "DENY",
            "X-Content-Type-Options", "nosniff",
            "Referrer-Policy", "no-referrer");

    private final Config config;
    private final DeviceRegistry registry;
    private final AdminAccount admin;
    private final AuthApi auth;
    private final LoginGuard guard;
    private final MonitorApi monitor;
    private final ProductApi products;
    private final DeviceApi devices;
    private final DatastreamApi datastreams;
    private final DatapointApi datapoints;
    private final CommandApi commands;
    private final EventsApi events;
    private final TriggerApi triggers;
    private final PushApi push;
    private final HookActivityApi hookActivity;
    private final OverviewApi overview;
    private final InfoApi info;
    private final KeyApi keys;
    private final RegisterApi register;
    private final MqttApi mqttApi;
    private final OpenApiDocument openApi;
    /** The HTTPS port, or null without {@code http.tls-port}. */
    private final HttpConnectors https;
    private final Javalin app;

    public ApiServer(Config config, DeviceRegistry registry, AdminAccount admin, Telemetry telemetry, Commands commands,
                     LoginThrottle throttle, Metrics metrics, Health health, Hooks hooks, Broker broker,
                     java.util.function.IntSupplier mqttPort, java.util.function.IntSupplier mqttTlsPort,
                     TlsFiles tlsFiles, ByteStreams mqttStreams) {
        this.config = config;
        this.registry = registry;
        this.admin = admin;
        Times times = new Times(config.apiTimezone());
        ClientIp clientIp = new ClientIp(config.httpTrustedProxies());
        this.guard = new LoginGuard(throttle, clientIp);
        this.events = new EventsApi(registry, admin, guard, telemetry, times, config.sharedLimits());
        metrics.gauge("stratus_event_streams", "Open GET /events streams", events::openStreams)
                .counter("stratus_events_dropped_total", "Live events dropped because an /events client fell behind",
                        events::droppedCount)
                .counter("stratus_event_streams_refused_total", "GET /events refused with errno 13: events.max-streams, "
                        + "events.max-streams-per-product or events.max-streams-per-credential reached", events::refusedCount)
                .counter("stratus_devices_refused_total", "Devices not created: devices.max-per-product reached",
                        registry::devicesRefusedCount);
        // A logout or a master key rotation ends the /events streams of that credential at once (a product deletion
        // reaches them through the registry's listeners).
        this.auth = new AuthApi(admin, guard, events::revokeInvalid);
        this.monitor = new MonitorApi(metrics, health);
        this.products = new ProductApi(registry, times, events::revokeInvalid);
        this.devices = new DeviceApi(registry, times);
        this.datastreams = new DatastreamApi(registry, telemetry, times);
        this.datapoints = new DatapointApi(registry, telemetry, times);
        this.commands = new CommandApi(registry, commands, times);
        this.triggers = new TriggerApi(registry, hooks.triggers(), times);
        this.push = new PushApi(registry, hooks.push(), times);
        this.hookActivity = new HookActivityApi(registry, hooks, times);
        this.overview = new OverviewApi(metrics);
        this.https = tlsFiles != null && config.tls().httpPort() >= 0
                ? new HttpConnectors(config.tls(), config.bind(), tlsFiles) : null;
        this.info = new InfoApi(config, mqttPort, mqttTlsPort, this::tlsPort);
        this.keys = new KeyApi(registry, times);
        this.register = new RegisterApi(registry, guard);
        this.mqttApi = new MqttApi(registry, broker);
        this.openApi = new OpenApiDocument();
        // Frames carry the MQTT byte stream; the largest useful one holds one packet of mqtt.max-packet-bytes.
        MqttWebSocket mqttWs = mqttStreams == null ? null : new MqttWebSocket(mqttStreams, clientIp,
                Math.min(config.maxPacketBytes(), 268_435_455) + 5L, broker.stats()::slowConsumerDisconnected);
        if (mqttWs != null) {
            metrics.gauge("stratus_http_mqtt_connections", "MQTT over WebSocket connections on the HTTP ports",
                            mqttWs::openCount)
                    .gauge("stratus_http_mqtt_unread_bytes_peak", "The most bytes one MQTT over WebSocket connection on the "
                            + "HTTP ports had waiting for the broker to read, since the start", mqttWs::peakUnread);
        }
        this.app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            cfg.jetty.host = config.bind();
            cfg.jetty.port = config.httpPort();
            if (https != null) {
                https.addTo(cfg.jetty, config.httpPort(), config.httpProxyProtocol());
            } else if (config.httpProxyProtocol()) {
                cfg.jetty.addConnector((server, http) -> HttpConnectors.plain(server, http, config.bind(), config.httpPort(), true));
            }
            if (mqttWs != null) {
                mqttWs.addTo(cfg.jetty);
            }
            // The web console: static files from the classpath (src/main/resources/console).
            cfg.staticFiles.add(files -> {
                files.hostedPath = "/console";
                files.directory = "/console";
                files.location = Location.CLASSPATH;
                files.headers = CONSOLE_HEADERS;
            });
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
        // Stratus's own routes: REST status codes (401, 403, 429, 503) beside the errno, whatever api.status-codes says.
        cfg.routes.get("/", ctx -> ctx.redirect("/console/", HttpStatus.FOUND));
        // The API's own description (src/main/resources/openapi.json); OpenApiTest keeps it in step with this method.
        cfg.routes.get("/openapi.json", openApi::serve);

        // Open, as probes and scrapers expect; they show counts and states, never an identifier or a secret.
        cfg.routes.get("/healthz", monitor::health);
        cfg.routes.get("/healthz/live", monitor::live);
        cfg.routes.get("/healthz/ready", monitor::health);
        cfg.routes.get("/metrics", monitor::metrics);

        cfg.routes.post("/auth/login", open(auth::login));
        cfg.routes.post("/auth/logout", authed(auth::logout));

        cfg.routes.post("/products", authed(products::create));
        cfg.routes.get("/products", authed(products::list));
        cfg.routes.get("/products/{id}", authed(products::get));
        cfg.routes.put("/products/{id}", authed(products::update));
        cfg.routes.delete("/products/{id}", authed(products::delete));
        cfg.routes.post("/products/{id}/master_key", authed(products::rotateMasterKey));
        cfg.routes.post("/products/{id}/register_code", authed(products::rotateRegisterCode));
        cfg.routes.put("/products/{id}/push", authed(push::put));
        cfg.routes.get("/products/{id}/push", authed(push::get));
        cfg.routes.delete("/products/{id}/push", authed(push::delete));
        cfg.routes.get("/products/{id}/push/deliveries", authed(hookActivity::pushDeliveries));
        cfg.routes.get("/overview", authed(overview::overview));
        cfg.routes.get("/events", events::stream);
        cfg.routes.get("/info", authed(info::info));

        // OneNET's routes (API §6.1-6.4 and the MQTT and command APIs, docs/decisions.md): see onenet().
        cfg.routes.post("/devices", onenet(authed(devices::create)));
        cfg.routes.get("/devices", onenet(authed(devices::list)));
        // Declared before /devices/{id}, which would otherwise take "status" for an id.
        cfg.routes.get("/devices/status", onenet(authed(devices::status)));
        cfg.routes.get("/devices/datapoints", onenet(authed(datapoints::latest)));
        cfg.routes.get("/devices/{id}", onenet(authed(devices::get)));
        cfg.routes.put("/devices/{id}", onenet(authed(devices::update)));
        cfg.routes.delete("/devices/{id}", onenet(authed(devices::delete)));

        cfg.routes.post("/devices/{id}/datastreams", onenet(authed(datastreams::create)));
        cfg.routes.get("/devices/{id}/datastreams", onenet(authed(datastreams::list)));
        cfg.routes.get("/devices/{id}/datastreams/{ds}", onenet(authed(datastreams::get)));
        cfg.routes.put("/devices/{id}/datastreams/{ds}", onenet(authed(datastreams::update)));
        cfg.routes.delete("/devices/{id}/datastreams/{ds}", onenet(authed(datastreams::delete)));
        cfg.routes.post("/devices/{id}/datapoints", onenet(authed(datapoints::upload)));
        cfg.routes.get("/devices/{id}/datapoints", onenet(authed(datapoints::history)));
        cfg.routes.post("/bindata", onenet(authed(datapoints::uploadBinary)));
        cfg.routes.get("/bindata/{index}", onenet(raw(datapoints::binary)));

        // The register code is the credential of register_de; no api-key.
        cfg.routes.post("/register_de", onenet(open(register::register)));
        cfg.routes.post("/keys", onenet(authed(keys::create)));
        cfg.routes.get("/keys", onenet(authed(keys::list)));
        cfg.routes.put("/keys/{key}", onenet(authed(keys::update)));
        cfg.routes.delete("/keys/{key}", onenet(authed(keys::delete)));
        cfg.routes.get("/keys/{key}/devices", onenet(authed(keys::devices)));
        cfg.routes.put("/keys/{key}/devices", onenet(authed(keys::linkDevices)));

        cfg.routes.post("/mqtt", onenet(authed(mqttApi::publish)));
        cfg.routes.post("/mqtt/topic", onenet(authed(mqttApi::createTopic)));
        cfg.routes.get("/mqtt/topic", onenet(authed(mqttApi::listTopics)));
        cfg.routes.delete("/mqtt/topic", onenet(authed(mqttApi::deleteTopic)));
        cfg.routes.get("/mqtt/device_topic/{id}", onenet(authed(mqttApi::deviceTopics)));
        cfg.routes.get("/mqtt/topic_device", onenet(authed(mqttApi::topicDevices)));

        cfg.routes.post("/cmds", onenet(authed(commands::send)));
        // Declared before /cmds/{uuid}/resp, which would otherwise take "history" for a command id.
        cfg.routes.get("/cmds/history/{id}", onenet(authed(commands::history)));
        cfg.routes.get("/cmds/{uuid}", onenet(authed(commands::status)));
        cfg.routes.get("/cmds/{uuid}/resp", onenet(raw(commands::response)));

        cfg.routes.post("/triggers", onenet(authed(triggers::create)));
        cfg.routes.get("/triggers", onenet(authed(triggers::list)));
        cfg.routes.get("/triggers/{id}", onenet(authed(triggers::get)));
        cfg.routes.put("/triggers/{id}", onenet(authed(triggers::update)));
        cfg.routes.delete("/triggers/{id}", onenet(authed(triggers::delete)));
        cfg.routes.post("/triggers/{id}/test", onenet(authed(hookActivity::test)));
        cfg.routes.get("/triggers/{id}/deliveries", onenet(authed(hookActivity::triggerDeliveries)));
    }

    /**
     * One of OneNET's routes. With {@code api.status-codes=onenet} (the default) its errno answers all go out with
     * HTTP 200, as OneNET's do: OneNET's SDKs treat any other status as a transport failure and throw, so an
     * application would never see the errno. With {@code rest} it answers like Stratus's own routes.
     */
    private Handler onenet(Handler route) {
        if (config.restStatusCodes()) {
            return route;
        }
        return ctx -> {
            ctx.attribute(ERRNO_WITH_200, Boolean.TRUE);
            route.handle(ctx);
        };
    }

    private void errors(JavalinConfig cfg) {
        cfg.routes.exception(ApiError.class, (e, ctx) -> reply(ctx, e.errno, e.getMessage(), null));
        cfg.routes.exception(DeviceException.class, (e, ctx) -> {
            Errno errno = errno(e.reason());
            reply(ctx, errno, errno.message + ": " + e.getMessage(), null);
        });
        cfg.routes.exception(HistoryLimitException.class, (e, ctx) -> {
            Errno errno = e.busy() ? Errno.SYSTEM_LIMIT : Errno.INVALID_PARAMETER;
            reply(ctx, errno, errno.message + ": " + e.getMessage(), null);
        });
        cfg.routes.exception(CommandException.class, (e, ctx) -> {
            Errno errno = e.reason() == CommandException.Reason.DEVICE_NOT_ONLINE ? Errno.DEVICE_NOT_ONLINE : Errno.SYSTEM_LIMIT;
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
            String request;
            try {
                request = ctx.method() + " " + ctx.path();
            } catch (RuntimeException gone) {
                // Jetty has recycled the request: its client left before an asynchronous reply (an /events stream, a
                // command waiting for its answer) was done, and the failure is of writing to it. Nobody is left to answer.
                log.debug("a request whose client had left ended with {}", e.toString());
                return;
            }
            log.error("{} failed", request, e);
            reply(ctx, Errno.INTERNAL, Errno.INTERNAL.message, null);
        });
    }

    private static Errno errno(DeviceException.Reason reason) {
        return switch (reason) {
            case NOT_FOUND -> Errno.NOT_FOUND;
            case ALREADY_EXISTS -> Errno.ALREADY_EXISTS;
            case MISSING_FIELD -> Errno.PARAMETER_REQUIRED;
            case INVALID_FIELD -> Errno.INVALID_PARAMETER;
            case LIMIT -> Errno.SYSTEM_LIMIT;
        };
    }

    private Handler authed(Action action) {
        return ctx -> {
            Object data = action.handle(ctx, guard.identify(ctx, () -> Access.of(ctx, registry, admin)));
            reply(ctx, Errno.SUCC, Errno.SUCC.message, data);
        };
    }

    /** A route that writes its own reply body (not the envelope) once the caller is known. */
    @FunctionalInterface
    interface RawAction {
        void handle(Context ctx, Access caller) throws Exception;
    }

    private Handler raw(RawAction action) {
        return ctx -> action.handle(ctx, guard.identify(ctx, () -> Access.of(ctx, registry, admin)));
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
        int status = ctx.attribute(ERRNO_WITH_200) != null ? 200 : errno.restStatus;
        ctx.status(status).contentType("application/json").result(body);
    }

    public void start() {
        app.start();
        log.debug("HTTP API on {}:{}, HTTPS on {}", config.bind(), port(), tlsPort());
    }

    /** Every HTTP route as "METHOD /path" (for tests that must cover them all, such as the product-isolation matrix). */
    public java.util.List<String> endpoints() {
        return app.unsafe.internalRouter.allHttpHandlers().stream()
                .map(e -> e.endpoint.method.name() + " " + e.endpoint.path).toList();
    }

    /** The live events of {@code GET /events}: Platform connects them to presence and stored points. */
    public EventsApi events() {
        return events;
    }

    /** The bound port (the real one when configured as 0). */
    public int port() {
        return app.port();
    }

    /** The bound HTTPS port, or -1 without {@code http.tls-port}. */
    public int tlsPort() {
        return https == null ? -1 : https.port();
    }

    @Override
    public void close() {
        events.close();
        app.stop();
    }
}
