package io.stratus.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.hivemq.client.mqtt.MqttClientTransportConfig;
import com.hivemq.client.mqtt.MqttWebSocketConfig;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code http.trusted-proxies}: behind an HTTP reverse proxy the API's login throttle counts the client that the
 * proxy's {@code X-Forwarded-For} names (its rightmost entry that is no trusted proxy), so that one guesser blocks
 * itself and not everyone behind the proxy, on the API and for MQTT over WebSocket on the HTTP port; entries a client
 * writes to the left prove nothing, and without trusted proxies the header is not read at all.
 */
class TrustedProxiesTest {
    private static final Map<String, String> TIGHT = Map.of("auth.max-failures", "3", "auth.max-failures-per-address", "4",
            "auth.backoff-base-millis", "60000", "auth.backoff-max-millis", "60000");
    private final HttpClient http = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    @Test
    void the_client_a_trusted_proxy_names_is_the_one_blocked() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dir, trusting("127.0.0.0/8"))) {
            TestProduct product = platform.createProduct("p");
            for (int i = 0; i < 4; i++) {
                getDevices(platform, "bad-key-" + i, "203.0.113.7");
            }
            assertThat(getDevices(platform, product.masterKey(), "203.0.113.7").headers().firstValue("Retry-After"))
                    .as("the guesser").isPresent();
            HttpResponse<String> neighbour = getDevices(platform, product.masterKey(), "198.51.100.9");
            assertThat(neighbour.headers().firstValue("Retry-After")).as("another client of the proxy").isEmpty();
            assertThat(neighbour.body()).contains("\"errno\":0");
        }
    }

    @Test
    void an_address_the_client_wrote_left_of_the_proxy_s_entry_is_not_believed() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dir, trusting("127.0.0.1"))) {
            TestProduct product = platform.createProduct("p");
            for (int i = 0; i < 4; i++) {
                // The guesser sends "X-Forwarded-For: 198.51.100.9"; the proxy appends the address it saw.
                getDevices(platform, "bad-key-" + i, "198.51.100.9, 203.0.113.7");
            }
            assertThat(getDevices(platform, product.masterKey(), "203.0.113.7").headers().firstValue("Retry-After")).isPresent();
            assertThat(getDevices(platform, product.masterKey(), "198.51.100.9").body()).contains("\"errno\":0");
        }
    }

    @Test
    void without_trusted_proxies_the_header_is_not_read() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dir, TIGHT)) {
            TestProduct product = platform.createProduct("p");
            for (int i = 0; i < 4; i++) {
                getDevices(platform, "bad-key-" + i, "203.0.113." + i);
            }
            assertThat(getDevices(platform, product.masterKey(), "198.51.100.9").headers().firstValue("Retry-After"))
                    .as("every request came from 127.0.0.1").isPresent();
        }
    }

    @Test
    void mqtt_over_websocket_on_the_http_port_counts_the_forwarded_client_too() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dir, trusting("127.0.0.1"))) {
            TestProduct product = platform.createProduct("p");
            TestDevice device = platform.createDevice(product, "d", "right-sn");
            for (int i = 0; i < 3; i++) {
                assertThat(overWebSocket(platform, "203.0.113.7", device.id(), product.id(), "wrong")).isEqualTo(4);
            }
            assertThat(overWebSocket(platform, "203.0.113.7", device.id(), product.id(), "right-sn")).as("the guesser").isEqualTo(5);
            assertThat(overWebSocket(platform, "198.51.100.9", device.id(), product.id(), "right-sn")).as("another client").isZero();
        }
    }

    /** The CONNACK code a HiveMQ client gets over ws://.../mqtt on the HTTP port, sending {@code X-Forwarded-For}. */
    private static int overWebSocket(TestPlatform platform, String forwardedFor, String clientId, String user, String password) {
        return Clients.connAckCode(MqttClientTransportConfig.builder().serverHost("127.0.0.1").serverPort(platform.platform().httpPort())
                .webSocketConfig(MqttWebSocketConfig.builder().serverPath("mqtt").httpHeaders(Map.of("X-Forwarded-For", forwardedFor))
                        .build()).build(), clientId, user, password);
    }

    private static Map<String, String> trusting(String proxies) {
        Map<String, String> settings = new HashMap<>(TIGHT);
        settings.put("http.trusted-proxies", proxies);
        return settings;
    }

    private HttpResponse<String> getDevices(TestPlatform platform, String apiKey, String forwardedFor) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + platform.platform().httpPort() + "/devices"))
                .header("api-key", apiKey).header("X-Forwarded-For", forwardedFor).build(), HttpResponse.BodyHandlers.ofString());
    }
}
