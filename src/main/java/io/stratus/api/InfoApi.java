package io.stratus.api;

import io.javalin.http.Context;
import io.stratus.Config;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * {@code GET /info} (a Stratus extension): what a client needs to know beyond the API itself, namely the MQTT
 * port devices connect to and the zone API times are written in. The console's "how to connect" panel uses it.
 */
final class InfoApi {
    private final Config config;
    private final IntSupplier mqttPort;

    /** {@code mqttPort}: the bound MQTT port, which differs from the configured one when that is 0 (any free port). */
    InfoApi(Config config, IntSupplier mqttPort) {
        this.config = config;
        this.mqttPort = mqttPort;
    }

    Object info(Context ctx, Access caller) {
        Map<String, Object> info = new LinkedHashMap<>();
        int port = mqttPort.getAsInt();
        info.put("mqtt_port", port > 0 ? port : null); // null only while the MQTT server is not listening
        info.put("timezone", config.apiTimezone().getId());
        return info;
    }
}
