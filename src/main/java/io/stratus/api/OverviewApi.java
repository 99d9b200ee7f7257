package io.stratus.api;

import io.javalin.http.Context;
import io.stratus.monitor.Metrics;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code GET /overview}: the admin's view of the broker for the console, the values of {@code /metrics} as JSON
 * ({@code {"at_ms":n,"metrics":{"stratus_mqtt_connections":3,...}}}). Read from the same scrape, so the console and a
 * scraper never disagree; rates are the console's differences between two reads.
 */
final class OverviewApi {
    private final Metrics metrics;

    OverviewApi(Metrics metrics) {
        this.metrics = metrics;
    }

    Object overview(Context ctx, Access caller) {
        caller.requireAdmin();
        Map<String, Double> values = new LinkedHashMap<>();
        for (String line : metrics.scrape().split("\n")) {
            int space = line.lastIndexOf(' ');
            if (line.isEmpty() || line.startsWith("#") || space < 0) {
                continue;
            }
            try {
                values.put(line.substring(0, space), Double.valueOf(line.substring(space + 1)));
            } catch (NumberFormatException e) {
                // +Inf, -Inf: not a count the console shows
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("at_ms", System.currentTimeMillis());
        out.put("metrics", values);
        return out;
    }
}
