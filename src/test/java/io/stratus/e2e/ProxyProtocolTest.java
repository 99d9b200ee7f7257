package io.stratus.e2e;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.hivemq.client.mqtt.MqttClientTransportConfig;
import com.hivemq.client.mqtt.MqttWebSocketConfig;
import io.stratus.cluster.NatsServer;
import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import io.stratus.tls.TestCertificates;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mqtt.proxy-protocol} and {@code http.proxy-protocol}: behind a proxy, the PROXY protocol header's source
 * address is the client's. Shown with the login throttle (failures count against the address in the header, not the
 * proxy's) through a real HAProxy ({@code send-proxy-v2}) to the MQTT and MQTT over WebSocket ports, with v1 headers
 * written by hand on the MQTT and HTTP ports,
 * with the TLS handshake cap per address, and an MQTT connection without a header closed and counted.
 */
class ProxyProtocolTest {
    private static final Map<String, String> BEHIND_PROXY = Map.of("mqtt.proxy-protocol", "true",
            "auth.max-failures", "3", "auth.max-failures-per-address", "4", "auth.backoff-base-millis", "60000",
            "auth.backoff-max-millis", "60000", "mqtt.connect-timeout-seconds", "1");

    @TempDir
    Path dir;

    @Test
    void through_haproxy_failed_logins_count_against_the_client_s_address_not_the_proxy_s() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"), BEHIND_PROXY);
             HaProxy haproxy = HaProxy.start(dir, platform.mqttPort())) {
            TestProduct product = platform.createProduct("p");
            TestDevice device = platform.createDevice(product, "d", "right-sn");
            for (int i = 0; i < 4; i++) {
                try (RawMqtt guesser = new RawMqtt(haproxy.port, "127.0.0.2")) {
                    assertThat(guesser.connect("9" + i + "00000", product.id(), "guess", 30, true)).as("try " + i).isEqualTo(2);
                }
            }
            try (RawMqtt guesser = new RawMqtt(haproxy.port, "127.0.0.2")) {
                assertThat(guesser.connect(device.id(), product.id(), "right-sn", 30, true)).as("the guesser's address").isEqualTo(5);
            }
            // HAProxy connects from 127.0.0.1 for both; only the header tells them apart.
            try (RawMqtt neighbour = new RawMqtt(haproxy.port, "127.0.0.3")) {
                assertThat(neighbour.connect(device.id(), product.id(), "right-sn", 30, true)).as("another address").isZero();
            }
        }
    }

    @Test
    void mqtt_over_websocket_through_haproxy_is_told_the_client_s_address_too() throws Exception {
        Map<String, String> settings = new HashMap<>(BEHIND_PROXY);
        settings.put("mqtt.ws-port", "0");
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"), settings);
             HaProxy haproxy = HaProxy.start(dir, platform.platform().mqttWebSocketPort())) {
            TestProduct product = platform.createProduct("p");
            TestDevice device = platform.createDevice(product, "d", "right-sn");
            for (int i = 0; i < 3; i++) {
                assertThat(overWebSocket(haproxy.port, "127.0.0.2", device.id(), product.id(), "wrong"))
                        .isEqualTo(4);
            }
            assertThat(overWebSocket(haproxy.port, "127.0.0.2", device.id(), product.id(), "right-sn"))
                    .as("the guesser's address").isEqualTo(5);
            assertThat(overWebSocket(haproxy.port, "127.0.0.3", device.id(), product.id(), "right-sn"))
                    .as("another address").isZero();
        }
    }

    /** The CONNACK code a HiveMQ client gets over ws:// from the local address {@code local}. */
    private static int overWebSocket(int port, String local, String clientId, String user, String password) {
        return Clients.connAckCode(MqttClientTransportConfig.builder().serverHost("127.0.0.1").serverPort(port).localAddress(local)
                .webSocketConfig(MqttWebSocketConfig.builder().serverPath("mqtt").build()).build(), clientId, user, password);
    }

    @Test
    void v1_headers_name_the_client_and_a_connection_without_one_is_closed_and_counted() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"), BEHIND_PROXY)) {
            TestProduct product = platform.createProduct("p");
            TestDevice device = platform.createDevice(product, "d", "right-sn");
            for (int i = 0; i < 3; i++) {
                try (RawMqtt raw = proxied(platform.mqttPort(), "203.0.113.7")) {
                    assertThat(raw.connect(device.id(), product.id(), "wrong", 30, true)).isEqualTo(4);
                }
            }
            try (RawMqtt raw = proxied(platform.mqttPort(), "203.0.113.7")) {
                assertThat(raw.connect(device.id(), product.id(), "right-sn", 30, true)).isEqualTo(5);
            }
            try (RawMqtt raw = proxied(platform.mqttPort(), "2001:db8::9")) {
                assertThat(raw.connect(device.id(), product.id(), "right-sn", 30, true)).isZero();
            }

            try (RawMqtt direct = new RawMqtt(platform.mqttPort())) {
                assertThat(direct.connect(device.id(), product.id(), "right-sn", 30, true)).as("no header: no CONNACK").isEqualTo(-1);
            }
            try (RawMqtt garbled = new RawMqtt(platform.mqttPort())) {
                garbled.send("PROXY TCP4 not-an-address\r\n".getBytes(US_ASCII));
                assertThat(garbled.closedWithin(5000)).isTrue();
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> platform.metric("stratus_mqtt_proxy_header_failures_total") == 2);
        }
    }

    @Test
    void the_tls_handshake_cap_per_address_counts_the_address_in_the_header() throws Exception {
        TestCertificates ca = TestCertificates.authority(dir.resolve("ca"), "Stratus Test CA");
        Map<String, String> settings = new HashMap<>(BEHIND_PROXY);
        settings.put("mqtt.tls-port", "0");
        settings.put("tls.max-handshakes-per-address", "1");
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"), ca.servedFiles(dir).settings(settings))) {
            int port = platform.platform().mqttTlsPort();
            try (Socket holding = proxiedSocket(port, "203.0.113.7")) {
                await().atMost(Duration.ofSeconds(5)).until(() -> platform.metric("stratus_tls_handshakes_in_progress") == 1);
                try (Socket second = proxiedSocket(port, "203.0.113.7")) {
                    second.setSoTimeout(5000);
                    assertThat(second.getInputStream().read()).as("the same told address: closed at once").isEqualTo(-1);
                }
                assertThat(platform.metric("stratus_tls_handshakes_refused_per_address_total")).isEqualTo(1);
                try (Socket other = proxiedSocket(port, "198.51.100.9");
                     SSLSocket tls = (SSLSocket) TestCertificates.clientContext(ca.caCert(), null).getSocketFactory()
                             .createSocket(other, "127.0.0.1", port, true)) {
                    tls.setSoTimeout(5000);
                    tls.startHandshake();
                    assertThat(tls.getSession().getProtocol()).isEqualTo("TLSv1.3");
                }
            }
        }
    }

    @Test
    void the_api_s_login_throttle_counts_the_address_in_a_proxy_header() throws Exception {
        Map<String, String> settings = Map.of("http.proxy-protocol", "true", "auth.max-failures", "3",
                "auth.max-failures-per-address", "4", "auth.backoff-base-millis", "60000", "auth.backoff-max-millis", "60000");
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"), settings)) {
            TestProduct product = platform.createProduct("p"); // without a header: the socket's own address
            int port = platform.platform().httpPort();
            for (int i = 0; i < 4; i++) {
                assertThat(getDevices(port, "203.0.113.7", "bad-key-" + i)).contains("\"errno\":3");
            }
            assertThat(getDevices(port, "203.0.113.7", product.masterKey())).as("the guesser's address")
                    .contains("Retry-After").contains("\"errno\":3");
            assertThat(getDevices(port, "198.51.100.9", product.masterKey())).as("another client of the same proxy")
                    .doesNotContain("Retry-After").contains("\"errno\":0");
        }
    }

    /** {@code GET /devices} with {@code apiKey}, on a connection that starts with a PROXY header naming {@code client}. */
    private static String getDevices(int port, String client, String apiKey) throws IOException {
        try (Socket s = proxiedSocket(port, client)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(("GET /devices HTTP/1.1\r\nHost: 127.0.0.1\r\napi-key: " + apiKey
                    + "\r\nConnection: close\r\n\r\n").getBytes(US_ASCII));
            return new String(s.getInputStream().readAllBytes(), UTF_8);
        }
    }

    private static RawMqtt proxied(int port, String client) throws IOException {
        RawMqtt raw = new RawMqtt(port);
        raw.send(header(client));
        return raw;
    }

    private static Socket proxiedSocket(int port, String client) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.getOutputStream().write(header(client));
        return s;
    }

    /** A PROXY protocol v1 line, as HAProxy's send-proxy writes it. */
    private static byte[] header(String client) {
        String family = client.contains(":") ? "TCP6" : "TCP4";
        String server = client.contains(":") ? "::1" : "127.0.0.1";
        return ("PROXY " + family + " " + client + " " + server + " 40000 1883\r\n").getBytes(US_ASCII);
    }

    /** Debian's HAProxy in TCP mode in front of one MQTT port, sending the PROXY protocol v2; stopped by its PID. */
    private record HaProxy(Process process, int port) implements AutoCloseable {
        static HaProxy start(Path dir, int backend) throws IOException, InterruptedException {
            int port = NatsServer.freePort();
            Path cfg = dir.resolve("haproxy-" + backend + ".cfg");
            Files.writeString(cfg, String.join("\n",
                    "global", "  maxconn 64",
                    "defaults", "  mode tcp", "  timeout connect 5s", "  timeout client 30s", "  timeout server 30s",
                    "frontend mqtt", "  bind 127.0.0.1:" + port, "  default_backend nodes",
                    "backend nodes", "  server n1 127.0.0.1:" + backend + " send-proxy-v2", ""));
            Process p = new ProcessBuilder("/usr/sbin/haproxy", "-db", "-f", cfg.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy-" + backend + ".log").toFile()).start();
            HaProxy h = new HaProxy(p, port);
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> {
                    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                        return true;
                    } catch (IOException notYet) {
                        assertThat(p.isAlive()).as("haproxy: " + Files.readString(dir.resolve("haproxy-" + backend + ".log"))).isTrue();
                        return false;
                    }
                });
            } catch (RuntimeException | Error e) {
                h.close();
                throw e;
            }
            return h;
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }
}
