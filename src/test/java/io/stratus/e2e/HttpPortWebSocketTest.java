package io.stratus.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.stratus.e2e.TestPlatform.TestDevice;
import io.stratus.e2e.TestPlatform.TestProduct;
import io.stratus.tls.TestCertificates;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MQTT over WebSocket at {@code /mqtt} on the HTTP and HTTPS ports (Jetty's WebSocket bridged into the broker): Paho
 * over {@code ws://} and {@code wss://}, raw frames as a byte stream, the frame limit, the client's own address for the
 * login throttle, and bounded memory when the broker reads slower than the client sends.
 */
class HttpPortWebSocketTest {
    @TempDir
    Path dir;

    @Test
    void paho_over_the_http_and_https_ports_exchanges_messages_with_a_tcp_client() throws Exception {
        TestCertificates ca = TestCertificates.authority(dir.resolve("ca"), "Stratus Test CA");
        TestCertificates.Pem server = ca.server("server");
        Map<String, String> settings = Map.of("http.tls-port", "0", "tls.cert", server.cert().toString(),
                "tls.key", server.key().toString());
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"), settings)) {
            TestProduct product = platform.createProduct("ws");
            TestDevice tcp = Clients.device(platform, product, "tcp");
            try (PahoClient listener = PahoClient.connected(platform, tcp, true)) {
                listener.subscribe("greenhouse/#", 1);
                SSLContext trusting = TestCertificates.clientContext(ca.caCert(), null);
                for (String uri : new String[] {"ws://127.0.0.1:" + platform.platform().httpPort() + "/mqtt",
                        "wss://127.0.0.1:" + platform.platform().httpTlsPort() + "/mqtt"}) {
                    WebSocketChecks.pahoExchanges(platform, product, listener, uri,
                            uri.startsWith("wss") ? trusting : null);
                }
            }
            // The same path without an upgrade is still OneNET's POST /mqtt (an errno envelope, not a 404 or 405).
            HttpResponse<String> post = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + platform.platform().httpPort() + "/mqtt?topic=greenhouse/air"))
                    .header("api-key", product.masterKey()).POST(HttpRequest.BodyPublishers.ofString("x")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(post.statusCode()).isEqualTo(200);
            assertThat(post.body()).contains("\"errno\"");
        }
    }

    @Test
    void frames_are_a_byte_stream_and_oversized_frames_and_other_subprotocols_are_refused() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"), Map.of("mqtt.max-packet-bytes", "2048"))) {
            TestProduct product = platform.createProduct("frames");
            URI uri = URI.create("ws://127.0.0.1:" + platform.platform().httpPort() + "/mqtt");

            WebSocketFrames raw = WebSocketChecks.framesAreAByteStream(platform, product, uri);
            assertThat(platform.metric("stratus_http_mqtt_connections")).isEqualTo(1);

            // A frame larger than mqtt.max-packet-bytes (plus a fixed header): closed with 1009 (message too big).
            raw.socket.sendBinary(ByteBuffer.wrap(new byte[4096]), true).join();
            assertThat(raw.closed.get(5, TimeUnit.SECONDS)).isEqualTo(1009);
            await().atMost(Duration.ofSeconds(5)).until(() -> platform.metric("stratus_http_mqtt_connections") == 0);

            // MQTT 3.1.1 section 6: no "mqtt" subprotocol, no upgrade.
            assertThatThrownBy(() -> HttpClient.newHttpClient().newWebSocketBuilder().subprotocols("chat")
                    .buildAsync(uri, new java.net.http.WebSocket.Listener() { }).join())
                    .isInstanceOf(CompletionException.class).hasCauseInstanceOf(WebSocketHandshakeException.class);
        }
    }

    @Test
    void failed_logins_over_the_bridge_count_against_the_clients_own_address() throws Exception {
        Map<String, String> tight = Map.of("auth.max-failures", "3", "auth.max-failures-per-address", "6",
                "auth.backoff-base-millis", "500", "auth.backoff-max-millis", "1000");
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"), tight);
             LogCapture log = LogCapture.mqttConnection().attach()) {
            TestProduct product = platform.createProduct("p");
            TestDevice device = platform.createDevice(product, "d", "sn");
            String uri = "ws://127.0.0.1:" + platform.platform().httpPort() + "/mqtt";
            for (int i = 0; i < 6; i++) {
                MqttClient guess = new MqttClient(uri, "9" + i + "00000", new MemoryPersistence());
                assertThatThrownBy(() -> guess.connect(Clients.pahoOptions(product.id(), "guess", true)))
                        .isInstanceOf(MqttException.class)
                        .satisfies(e -> assertThat(((MqttException) e).getReasonCode()).isEqualTo(2));
                guess.close();
            }
            // The guesses came from 127.0.0.1, as this TCP client does: its address is blocked too (D5: code 5).
            try (RawMqtt tcp = new RawMqtt(platform.mqttPort())) {
                assertThat(tcp.connect(device.id(), product.id(), "sn", 30, true)).isEqualTo(5);
            }
            assertThat(log.lines("refused with CONNACK 5", "/127.0.0.1:")).isNotEmpty();
            assertThat(log.lines("local:")).isEmpty();
        }
    }

    @Test
    void a_client_sending_faster_than_the_store_commits_is_held_to_a_bounded_window() throws Exception {
        int count = 5000;
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"), Map.of("mqtt.max-packet-bytes", "65536",
                "mqtt.max-pending-publish-bytes", "8192"))) {
            TestProduct product = platform.createProduct("flood");
            TestDevice device = Clients.device(platform, product, "flood");
            URI uri = URI.create("ws://127.0.0.1:" + platform.platform().httpPort() + "/mqtt");
            WebSocketFrames raw = WebSocketFrames.notReading(uri); // never reads a PUBACK
            raw.socket.sendBinary(ByteBuffer.wrap(RawMqtt.connectPacket(4, device.id(), product.id(),
                    device.authInfo(), 60, true)), true).join();
            String pad = "x".repeat(900);
            ByteArrayOutputStream frame = new ByteArrayOutputStream();
            int largestFrame = 0;
            for (int i = 1; i <= count; i++) {
                frame.writeBytes(RawMqtt.publishPacket("$dp", 1, i,
                        Points.dp(3, "{\"s\":" + i + ",\"pad\":\"" + pad + "\"}")));
                if (i % 16 == 0 || i == count) {
                    largestFrame = Math.max(largestFrame, frame.size());
                    raw.socket.sendBinary(ByteBuffer.wrap(frame.toByteArray()), true).join();
                    frame.reset();
                }
            }
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(platform.withKey(product.masterKey(),
                    "GET", "/devices/" + device.id() + "/datastreams/s", null).data().path("current_value").asInt())
                    .isEqualTo(count));
            double peak = platform.metric("stratus_http_mqtt_unread_bytes_peak");
            assertThat(peak).as("the window filled: the broker's back-pressure reached the WebSocket")
                    .isGreaterThanOrEqualTo(64 * 1024);
            assertThat(peak).as("and never held more than the window and one frame")
                    .isLessThan(64 * 1024 + largestFrame);
        }
    }

    @Test
    void a_subscriber_that_does_not_read_is_disconnected_as_a_slow_consumer() throws Exception {
        try (TestPlatform platform = TestPlatform.start(dir.resolve("data"))) {
            TestProduct product = platform.createProduct("slow");
            TestDevice reader = Clients.device(platform, product, "reader");
            URI uri = URI.create("ws://127.0.0.1:" + platform.platform().httpPort() + "/mqtt");
            WebSocketFrames raw = WebSocketFrames.notReading(uri);
            ByteArrayOutputStream login = new ByteArrayOutputStream();
            login.writeBytes(RawMqtt.connectPacket(4, reader.id(), product.id(), reader.authInfo(), 60, true));
            login.writeBytes(RawMqtt.subscribePacket(1, "big/#", 0));
            raw.socket.sendBinary(ByteBuffer.wrap(login.toByteArray()), true).join();
            await().atMost(Duration.ofSeconds(5)).until(() -> platform.metric("stratus_http_mqtt_connections") == 1);

            TestDevice writer = Clients.device(platform, product, "writer");
            try (PahoClient publisher = PahoClient.connected(platform, writer, true)) {
                byte[] payload = new byte[64 * 1024];
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    publisher.client().publish("big/x", payload, 0, false);
                    return platform.metric("stratus_mqtt_slow_consumers_disconnected_total") >= 1;
                });
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> platform.metric("stratus_http_mqtt_connections") == 0);
        }
    }
}
