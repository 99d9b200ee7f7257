package io.stratus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.stratus.e2e.RawMqtt;
import io.stratus.e2e.TestPlatform;
import io.stratus.e2e.TestPlatform.Reply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code GET /info} (a Stratus extension). */
class InfoApiTest {
    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();

    @Test
    void mqtt_port_is_the_bound_one_when_the_server_was_started_with_port_0() throws Exception {
        assertThat(platform.platform().config().mqttPort()).as("configured port").isZero();

        Reply r = platform.asAdmin("GET", "/info", null);

        assertThat(r.errno()).as(r.toString()).isZero();
        int port = r.data().path("mqtt_port").asInt();
        assertThat(port).isPositive().isEqualTo(platform.mqttPort());
        assertThat(r.data().path("timezone").asText()).isNotEmpty();
        // Without mqtt.tls-port and http.tls-port the TLS ports are there, as null.
        assertThat(r.data().has("mqtt_tls_port")).isTrue();
        assertThat(r.data().path("mqtt_tls_port").isNull()).isTrue();
        assertThat(r.data().path("https_port").isNull()).isTrue();
        assertThat(platform.platform().httpTlsPort()).isEqualTo(-1);
        try (RawMqtt client = new RawMqtt(port)) {
            // The reported port takes MQTT: without credentials or anonymous access the CONNECT is refused and closed.
            assertThat(client.connect("probe", null, null, 30, true)).isEqualTo(-1);
        }
    }
}
