package io.stratus.api;

import io.javalin.http.Context;
import io.stratus.Config;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code GET /info} (a Stratus extension): what a client needs to know beyond the API itself, namely the MQTT
 * port devices connect to and the zone API times are written in. The console's "how to connect" panel uses it.
 */
final class InfoApi {
    private final Config config;

    InfoApi(Config config) {
        this.config = config;
    }

    Object info(Context ctx, Access caller) {
        Map<String, Object> info = new LinkedHashMap<>();
        // A configured port of 0 means "any free port": the bound one is in the server's ready line.
        info.put("mqtt_port", config.mqttPort() == 0 ? null : config.mqttPort());
        info.put("timezone", config.timezone().getId());
        return info;
    }
}
