package io.stratus.api;

import io.javalin.http.Context;
import io.stratus.Config;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * {@code GET /info} (a Stratus extension): what a client needs to know beyond the API itself, namely the MQTT
 * ports devices connect to (plain and TLS), the HTTPS port and the zone API times are written in. The console's
 * "how to connect" panel uses it.
 */
final class InfoApi {
    private final Config config;
    private final IntSupplier mqttPort;
    private final IntSupplier mqttTlsPort;
    private final IntSupplier httpsPort;

    /**
     * The bound ports, which differ from the configured ones when those are 0 (any free port); a TLS port is -1 when
     * it is off.
     */
    InfoApi(Config config, IntSupplier mqttPort, IntSupplier mqttTlsPort, IntSupplier httpsPort) {
        this.config = config;
        this.mqttPort = mqttPort;
        this.mqttTlsPort = mqttTlsPort;
        this.httpsPort = httpsPort;
    }

    Object info(Context ctx, Access caller) {
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("mqtt_port", bound(mqttPort)); // null only while the MQTT server is not listening
        info.put("mqtt_tls_port", bound(mqttTlsPort));
        info.put("https_port", bound(httpsPort));
        info.put("timezone", config.apiTimezone().getId());
        return info;
    }

    private static Integer bound(IntSupplier port) {
        int p = port.getAsInt();
        return p > 0 ? p : null;
    }
}
