package io.stratus.api;

import io.javalin.http.Context;
import io.stratus.monitor.Health;
import io.stratus.monitor.Metrics;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code /healthz} (readiness: the store takes writes and MQTT listens; HTTP 503 when not), {@code /healthz/live}
 * (liveness: answering at all is the proof) and {@code /metrics} (Prometheus text). Plain JSON, not the errno
 * envelope: these are for probes and scrapers, not OneNET clients.
 */
final class MonitorApi {
    private final Metrics metrics;
    private final Health health;

    MonitorApi(Metrics metrics, Health health) {
        this.metrics = metrics;
        this.health = health;
    }

    void health(Context ctx) {
        Health.Report report = health.evaluate();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", report.ready() ? "ok" : "unavailable");
        body.put("live", true);
        body.put("ready", report.ready());
        body.put("checks", report.checks());
        ctx.status(report.ready() ? 200 : 503).json(body);
    }

    void live(Context ctx) {
        ctx.json(Map.of("status", "ok", "live", true));
    }

    void metrics(Context ctx) {
        ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape());
    }
}
